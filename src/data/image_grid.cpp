// Batch contact sheets: tiles, captions in a 5 x 7 bitmap font, one PNG.
#include <vigil/data/image_grid.hpp>

#include <vigil/data/image_io.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

namespace vigil::data {
namespace {

// The font: each glyph is 7 rows of 5 pixels ('#' on), rows separated by spaces.
struct Glyph {
  char c;
  const char* rows;
};
constexpr std::array<Glyph, 49> kFont = {{
    {'0', ".###. #...# #..## #.#.# ##..# #...# .###."}, {'1', "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###."},
    {'2', ".###. #...# ....# ...#. ..#.. .#... #####"}, {'3', "####. ....# ....# .###. ....# ....# ####."},
    {'4', "...#. ..##. .#.#. #..#. ##### ...#. ...#."}, {'5', "##### #.... ####. ....# ....# #...# .###."},
    {'6', "..##. .#... #.... ####. #...# #...# .###."}, {'7', "##### ....# ...#. ..#.. .#... .#... .#..."},
    {'8', ".###. #...# #...# .###. #...# #...# .###."}, {'9', ".###. #...# #...# .#### ....# ...#. .##.."},
    {'A', ".###. #...# #...# ##### #...# #...# #...#"}, {'B', "####. #...# #...# ####. #...# #...# ####."},
    {'C', ".###. #...# #.... #.... #.... #...# .###."}, {'D', "####. #...# #...# #...# #...# #...# ####."},
    {'E', "##### #.... #.... ####. #.... #.... #####"}, {'F', "##### #.... #.... ####. #.... #.... #...."},
    {'G', ".###. #...# #.... #.### #...# #...# .####"}, {'H', "#...# #...# #...# ##### #...# #...# #...#"},
    {'I', ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###."}, {'J', "..### ...#. ...#. ...#. ...#. #..#. .##.."},
    {'K', "#...# #..#. #.#.. ##... #.#.. #..#. #...#"}, {'L', "#.... #.... #.... #.... #.... #.... #####"},
    {'M', "#...# ##.## #.#.# #.#.# #...# #...# #...#"}, {'N', "#...# #...# ##..# #.#.# #..## #...# #...#"},
    {'O', ".###. #...# #...# #...# #...# #...# .###."}, {'P', "####. #...# #...# ####. #.... #.... #...."},
    {'Q', ".###. #...# #...# #...# #.#.# #..#. .##.#"}, {'R', "####. #...# #...# ####. #.#.. #..#. #...#"},
    {'S', ".#### #.... #.... .###. ....# ....# ####."}, {'T', "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."},
    {'U', "#...# #...# #...# #...# #...# #...# .###."}, {'V', "#...# #...# #...# #...# #...# .#.#. ..#.."},
    {'W', "#...# #...# #...# #.#.# #.#.# #.#.# .#.#."}, {'X', "#...# #...# .#.#. ..#.. .#.#. #...# #...#"},
    {'Y', "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#.."}, {'Z', "##### ....# ...#. ..#.. .#... #.... #####"},
    {' ', "..... ..... ..... ..... ..... ..... ....."}, {'-', "..... ..... ..... ##### ..... ..... ....."},
    {'_', "..... ..... ..... ..... ..... ..... #####"}, {'.', "..... ..... ..... ..... ..... .##.. .##.."},
    {':', "..... .##.. .##.. ..... .##.. .##.. ....."}, {'/', "....# ....# ...#. ..#.. .#... #.... #...."},
    {'%', "##..# ##..# ...#. ..#.. .#... #..## #..##"}, {'(', "...#. ..#.. .#... .#... .#... ..#.. ...#."},
    {')', ".#... ..#.. ...#. ...#. ...#. ..#.. .#..."}, {'+', "..... ..#.. ..#.. ##### ..#.. ..#.. ....."},
    {'\'', "..#.. ..#.. .#... ..... ..... ..... ....."}, {'#', ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#."},
    {'?', ".###. #...# ....# ...#. ..#.. ..... ..#.."},
}};
constexpr std::int64_t kGlyphWidth = 5, kGlyphHeight = 7, kGlyphAdvance = 6;
constexpr float kBackground = 64.0f;

const Glyph& glyph_for(char c) {
  const char upper = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const Glyph& g : kFont)
    if (g.c == upper) return g;
  return kFont.back();  // '?', kept last
}

// Draws `text` with its top-left at (top, left) into every channel plane of canvas [C, H, W], value 255, at most
// `max_chars` characters.
void draw_text(Tensor& canvas, const std::string& text, std::int64_t top, std::int64_t left, std::int64_t max_chars) {
  const std::int64_t channels = canvas.size(0), height = canvas.size(1), width = canvas.size(2);
  float* o = canvas.data<float>();
  const auto count = std::min<std::int64_t>(static_cast<std::int64_t>(text.size()), max_chars);
  for (std::int64_t k = 0; k < count; ++k) {
    const Glyph& g = glyph_for(text[static_cast<std::size_t>(k)]);
    for (std::int64_t r = 0; r < kGlyphHeight; ++r)
      for (std::int64_t col = 0; col < kGlyphWidth; ++col) {
        if (g.rows[r * (kGlyphWidth + 1) + col] != '#') continue;
        const std::int64_t y = top + r, x = left + k * kGlyphAdvance + col;
        if (y >= height || x >= width) continue;
        for (std::int64_t c = 0; c < channels; ++c) o[(c * height + y) * width + x] = 255.0f;
      }
  }
}

std::string percent_caption(const std::string& name, double p) {
  const auto percent = static_cast<int>(std::lround(100 * p));
  return percent >= 100 ? name : fmt::format("{} {}%", name, percent);
}

std::string class_caption(std::int64_t label, const std::vector<std::string>& class_names) {
  if (class_names.empty()) return std::to_string(label);
  VIGIL_CHECK(label >= 0 && label < static_cast<std::int64_t>(class_names.size()), IndexError,
              "write_batch_grid_png: label {} has no name among {} class names", label, class_names.size());
  return class_names[static_cast<std::size_t>(label)];
}

}  // namespace

namespace {

// The grid canvas; `who` names the caller and its file in errors ("write_image_grid_png out.png").
Tensor compose_grid(const Tensor& images, const std::vector<std::string>& captions, std::int64_t columns,
                    std::int64_t scale, const std::string& who) {
  VIGIL_CHECK(images.defined() && images.dim() == 4 && (images.size(1) == 1 || images.size(1) == 3) &&
                  images.size(0) > 0,
              ShapeError, "{}: expected images [N > 0, C = 1 or 3, H, W], got shape {}", who,
              images.defined() ? images.shape().str() : "undefined");
  VIGIL_CHECK(images.dtype() == DType::Float32 || images.dtype() == DType::Float64, DTypeError,
              "{}: expected float images, got {}", who, dtype_name(images.dtype()));
  const std::int64_t n = images.size(0), channels = images.size(1), height = images.size(2), width = images.size(3);
  VIGIL_CHECK(captions.empty() || static_cast<std::int64_t>(captions.size()) == n, Error,
              "{}: {} captions for {} images", who, captions.size(), n);
  VIGIL_CHECK(columns >= 1 && scale >= 1, Error, "{}: columns ({}) and scale ({}) must be >= 1",
              who, columns, scale);

  const std::int64_t cols = std::min(n, columns), rows = (n + columns - 1) / columns;
  const std::int64_t tile_w = width * scale, tile_h = height * scale;
  const std::int64_t cell_h = tile_h + kGridCaptionHeight;
  const std::int64_t canvas_w = kGridGap + cols * (tile_w + kGridGap);
  const std::int64_t canvas_h = kGridGap + rows * (cell_h + kGridGap);
  Tensor canvas = full(Shape{channels, canvas_h, canvas_w}, kBackground);
  float* o = canvas.data<float>();

  const Tensor src = raw::contiguous(raw::to_dtype(images, DType::Float32));
  const std::int64_t image_size = channels * height * width;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* img = src.data<float>() + i * image_size;
    const auto [lo, hi] = std::minmax_element(img, img + image_size);
    const float min = *lo, range = *hi - *lo;
    const std::int64_t top = kGridGap + (i / columns) * (cell_h + kGridGap);
    const std::int64_t left = kGridGap + (i % columns) * (tile_w + kGridGap);
    for (std::int64_t c = 0; c < channels; ++c)
      for (std::int64_t y = 0; y < tile_h; ++y)
        for (std::int64_t x = 0; x < tile_w; ++x) {
          const float v = img[(c * height + y / scale) * width + x / scale];
          o[(c * canvas_h + top + y) * canvas_w + left + x] = range > 0 ? (v - min) / range * 255.0f : 0.0f;
        }
    for (std::int64_t c = 0; c < channels; ++c)
      for (std::int64_t y = tile_h; y < cell_h; ++y)
        std::fill_n(o + (c * canvas_h + top + y) * canvas_w + left, tile_w, 0.0f);
    if (!captions.empty())
      draw_text(canvas, captions[static_cast<std::size_t>(i)], top + tile_h + 1, left, (tile_w + 1) / kGlyphAdvance);
  }
  return canvas;
}

}  // namespace

Tensor image_grid(const Tensor& images, const std::vector<std::string>& captions, std::int64_t columns,
                  std::int64_t scale) {
  return compose_grid(images, captions, columns, scale, "image_grid");
}

void write_image_grid_png(const std::string& path, const Tensor& images, const std::vector<std::string>& captions,
                          std::int64_t columns, std::int64_t scale) {
  write_png(path, compose_grid(images, captions, columns, scale, "write_image_grid_png " + path));
}

void write_batch_grid_png(const std::string& path, const Batch& batch, const std::vector<std::string>& class_names,
                          std::int64_t columns, std::int64_t scale) {
  const Tensor& targets = batch.targets;
  const std::int64_t n = batch.inputs.defined() && batch.inputs.dim() > 0 ? batch.inputs.size(0) : 0;
  std::vector<std::string> captions;
  if (targets.defined() && targets.dtype() == DType::Int64) {
    VIGIL_CHECK(targets.dim() == 1 && targets.size(0) == n, ShapeError,
                "write_batch_grid_png {}: expected labels [{}], got shape {}", path, n, targets.shape().str());
    const Tensor labels = raw::contiguous(targets);
    for (std::int64_t i = 0; i < n; ++i) captions.push_back(class_caption(labels.data<std::int64_t>()[i], class_names));
  } else if (targets.defined()) {
    VIGIL_CHECK(targets.dim() == 2 && targets.size(0) == n, ShapeError,
                "write_batch_grid_png {}: expected int64 labels [{}] or probabilities [{}, K], got shape {}", path, n,
                n, targets.shape().str());
    const std::vector<float> p = targets.to_vector();
    const std::int64_t k = targets.size(1);
    for (std::int64_t i = 0; i < n; ++i) {
      const auto row = p.begin() + i * k;
      const auto best = std::max_element(row, row + k) - row;
      captions.push_back(percent_caption(class_caption(best, class_names), row[best]));
    }
  }
  write_image_grid_png(path, batch.inputs, captions, columns, scale);
}

}  // namespace vigil::data
