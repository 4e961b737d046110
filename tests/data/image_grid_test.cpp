// Batch grids: the written PNG decoded back, tile pixels and captions checked where they must be.
#include <vigil/data/image_grid.hpp>

#include <vigil/data/image_io.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace vigil::data {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("vigil_image_grid_test_" + name)).string();
}

float pixel(const Tensor& image, std::int64_t c, std::int64_t y, std::int64_t x) {
  return image.data<float>()[(c * image.size(1) + y) * image.size(2) + x];
}

// Pixels equal to 255 in the caption strip under tile (row, col) of a grid of tiles tile_h x tile_w.
int caption_ink(const Tensor& grid, std::int64_t row, std::int64_t col, std::int64_t tile_h, std::int64_t tile_w) {
  const std::int64_t top = kGridGap + row * (tile_h + kGridCaptionHeight + kGridGap) + tile_h;
  const std::int64_t left = kGridGap + col * (tile_w + kGridGap);
  int ink = 0;
  for (std::int64_t y = top; y < top + kGridCaptionHeight; ++y)
    for (std::int64_t x = left; x < left + tile_w; ++x) ink += pixel(grid, 0, y, x) == 255.0f;
  return ink;
}

TEST(ImageGrid, GrayTilesAreMinMaxRescaledInPlace) {
  // Five 3 x 12 images: image i holds (i + 1) * (0, 1, ..., 35), so each rescales to round(v * 255 / 35).
  const std::int64_t n = 5, h = 3, w = 12;
  std::vector<float> values;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < h * w; ++j) values.push_back(static_cast<float>((i + 1) * j));
  const std::vector<std::int64_t> labels = {0, 1, 2, 1, 0};
  const Batch batch{from_vector(values, Shape{n, 1, h, w}), from_vector_i64(labels, Shape{n}), {0, 1, 2, 3, 4}};
  const std::string path = temp_path("gray.png");
  write_batch_grid_png(path, batch, {"A", "B7", "ZZ"}, 3);

  const Tensor grid = read_image(path);
  ASSERT_EQ(grid.shape(),
            (Shape{1, kGridGap + 2 * (h + kGridCaptionHeight + kGridGap), kGridGap + 3 * (w + kGridGap)}));
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t top = kGridGap + (i / 3) * (h + kGridCaptionHeight + kGridGap);
    const std::int64_t left = kGridGap + (i % 3) * (w + kGridGap);
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x)
        ASSERT_EQ(pixel(grid, 0, top + y, left + x), std::round(static_cast<float>(y * w + x) * 255.0f / 35.0f))
            << "tile " << i << " at " << y << ", " << x;
  }
  // The gap and the empty sixth cell are background grey.
  EXPECT_EQ(pixel(grid, 0, 0, 0), 64.0f);
  EXPECT_EQ(pixel(grid, 0, grid.size(1) - 3, grid.size(2) - 3), 64.0f);
  // Captions are drawn: "B7" has more ink than "A", the same labels draw the same ink.
  EXPECT_GT(caption_ink(grid, 0, 1, h, w), caption_ink(grid, 0, 0, h, w));
  EXPECT_GT(caption_ink(grid, 0, 0, h, w), 0);
  EXPECT_EQ(caption_ink(grid, 0, 1, h, w), caption_ink(grid, 1, 0, h, w));
  EXPECT_EQ(caption_ink(grid, 0, 0, h, w), caption_ink(grid, 1, 1, h, w));
  // No temporary file is left beside it.
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::temp_directory_path()))
    EXPECT_EQ(entry.path().string().find(path + ".tmp"), std::string::npos);
}

TEST(ImageGrid, RgbScaledTilesAndSoftTargetCaptions) {
  // Two 2 x 2 RGB images; the second is constant and draws black.
  std::vector<float> values = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  values.resize(24, 0.5f);
  const Batch batch{
      from_vector(values, Shape{2, 3, 2, 2}), from_vector(std::vector<float>{0.7f, 0.3f, 0, 1}, Shape{2, 2}), {0, 1}};
  const std::string path = temp_path("rgb.png");
  write_batch_grid_png(path, batch, {}, 4, 3);
  const Tensor grid = read_image(path);
  const std::int64_t tile = 2 * 3;
  ASSERT_EQ(grid.shape(),
            (Shape{3, kGridGap + tile + kGridCaptionHeight + kGridGap, kGridGap + 2 * (tile + kGridGap)}));
  for (std::int64_t c = 0; c < 3; ++c)
    for (std::int64_t y = 0; y < tile; ++y)
      for (std::int64_t x = 0; x < tile; ++x) {
        const float v = values[static_cast<std::size_t>(c * 4 + (y / 3) * 2 + x / 3)];
        ASSERT_EQ(pixel(grid, c, kGridGap + y, kGridGap + x), std::round(v * 255.0f / 11.0f));
        ASSERT_EQ(pixel(grid, c, kGridGap + y, 2 * kGridGap + tile + x), 0.0f);
      }
  // "0 70%" is cut to the one character that fits a 6-pixel tile; "1" (100%) too: both draw some ink.
  EXPECT_GT(caption_ink(grid, 0, 0, tile, tile), 0);
  EXPECT_GT(caption_ink(grid, 0, 1, tile, tile), 0);
}

// The caption strip of a one-tile grid captioned `text`, as a vector of pixels.
std::vector<float> caption_pixels(const std::string& text) {
  const std::string path = temp_path("glyph.png");
  write_image_grid_png(path, zeros(Shape{1, 1, 1, 6}), {text}, 1);
  const std::vector<float> grid = read_image(path).to_vector();
  return std::vector<float>(grid.end() - (kGridCaptionHeight + kGridGap) * (6 + 2 * kGridGap), grid.end());
}

TEST(ImageGrid, EveryListedCharacterHasItsOwnGlyph) {
  const std::string listed = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.:/%()+'#";
  std::vector<std::vector<float>> seen = {caption_pixels("?"), caption_pixels(" ")};
  for (const char c : listed) {
    const std::vector<float> glyph = caption_pixels(std::string(1, c));
    for (const auto& other : seen) EXPECT_NE(glyph, other) << "glyph '" << c << "' repeats an earlier one";
    seen.push_back(glyph);
  }
  EXPECT_EQ(caption_pixels("a"), caption_pixels("A"));  // lower case is drawn as upper
  EXPECT_EQ(caption_pixels("~"), caption_pixels("?"));  // unknown characters as '?'
}

TEST(ImageGrid, BadInputsThrow) {
  const std::string path = temp_path("bad.png");
  EXPECT_THROW(write_image_grid_png(path, zeros(Shape{2, 2, 4, 4}), {}), ShapeError);
  EXPECT_THROW(write_image_grid_png(path, zeros(Shape{2, 1, 4, 4}), {"only one"}), Error);
  EXPECT_THROW(write_image_grid_png(path, zeros(Shape{2, 1, 4, 4}), {}, 0), Error);
  const Batch batch{zeros(Shape{1, 1, 4, 4}), from_vector_i64(std::vector<std::int64_t>{3}, Shape{1}), {0}};
  EXPECT_THROW(write_batch_grid_png(path, batch, {"a", "b"}), IndexError);
}

}  // namespace
}  // namespace vigil::data
