// Deterministic image operations: exact values on small images.
#include <vigil/data/image_ops.hpp>

#include <gtest/gtest.h>

#include <vector>

namespace vigil::data {
namespace {

// [C, H, W] holding 0, 1, 2, ... row-major.
Tensor iota_image(std::int64_t c, std::int64_t h, std::int64_t w) {
  return raw::reshape(arange(0, static_cast<double>(c * h * w)), Shape{c, h, w});
}

TEST(ImageOps, ConvertChannels) {
  const Tensor rgb = from_vector(std::vector<float>{100, 0, 0, 200, 50, 10}, Shape{3, 1, 2});
  EXPECT_TRUE(allclose(convert_channels(rgb, 1),
                       from_vector(std::vector<float>{0.299f * 100 + 0.114f * 50, 0.587f * 200 + 0.114f * 10},
                                   Shape{1, 1, 2}),
                       1e-6, 1e-4));
  const Tensor gray = from_vector(std::vector<float>{7, 9}, Shape{1, 1, 2});
  EXPECT_EQ(convert_channels(gray, 3).to_vector(), (std::vector<float>{7, 9, 7, 9, 7, 9}));
  const Tensor gray_alpha = from_vector(std::vector<float>{7, 9, 255, 0}, Shape{2, 1, 2});
  EXPECT_EQ(convert_channels(gray_alpha, 1).to_vector(), (std::vector<float>{7, 9}));
  const Tensor rgba = from_vector(std::vector<float>{1, 2, 3, 4}, Shape{4, 1, 1});
  EXPECT_EQ(convert_channels(rgba, 3).to_vector(), (std::vector<float>{1, 2, 3}));
  EXPECT_THROW((void)convert_channels(gray, 2), Error);
  EXPECT_THROW((void)convert_channels(zeros(Shape{5, 1, 1}), 3), ShapeError);
  EXPECT_THROW((void)convert_channels(zeros(Shape{1, 1}), 3), ShapeError);
}

TEST(ImageOps, ResizeBilinearMatchesHalfPixelInterpolation) {
  // Upscaling [0, 10] by 2 (align_corners=False): sources -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped to 1).
  const Tensor row = from_vector(std::vector<float>{0, 10}, Shape{1, 1, 2});
  EXPECT_TRUE(allclose(resize_bilinear(row, 1, 4), from_vector(std::vector<float>{0, 2.5f, 7.5f, 10}, Shape{1, 1, 4})));
  // Downscaling by 2 averages 2 x 2 blocks (the sample falls in their middle).
  const Tensor image = iota_image(1, 4, 4);
  EXPECT_TRUE(allclose(resize_bilinear(image, 2, 2),
                       from_vector(std::vector<float>{2.5f, 4.5f, 10.5f, 12.5f}, Shape{1, 2, 2})));
  // Same size is the identity; channels are independent.
  const Tensor rgb = iota_image(3, 3, 5);
  EXPECT_EQ(resize_bilinear(rgb, 3, 5).to_vector(), rgb.to_vector());
  EXPECT_THROW((void)resize_bilinear(rgb, 0, 5), ShapeError);
}

TEST(ImageOps, CropCenterCropAndPad) {
  const Tensor image = iota_image(1, 4, 5);
  EXPECT_EQ(crop(image, 1, 2, 2, 2).to_vector(), (std::vector<float>{7, 8, 12, 13}));
  // Outside parts are the fill value.
  EXPECT_EQ(crop(image, -1, 3, 2, 3, -1).to_vector(), (std::vector<float>{-1, -1, -1, 3, 4, -1}));
  // Centre: top (4 - 2) / 2 = 1, left (5 - 3) / 2 = 1.
  EXPECT_EQ(center_crop(image, 2, 3).to_vector(), (std::vector<float>{6, 7, 8, 11, 12, 13}));
  // A window larger than the image pads around it (top -1, left -1).
  const Tensor big = center_crop(iota_image(1, 1, 1), 3, 3);
  EXPECT_EQ(big.to_vector(), (std::vector<float>{0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(center_crop(from_vector(std::vector<float>{5}, Shape{1, 1, 1}), 3, 3).to_vector()[4], 5.0f);

  const Tensor row = from_vector(std::vector<float>{1, 2, 3, 4}, Shape{1, 1, 4});
  const Tensor padded = pad_image(raw::reshape(row, Shape{1, 1, 4}), 1, PadMode::Constant, 9);
  EXPECT_EQ(padded.shape(), (Shape{1, 3, 6}));
  EXPECT_EQ(padded.to_vector(), (std::vector<float>{9, 9, 9, 9, 9, 9, 9, 1, 2, 3, 4, 9, 9, 9, 9, 9, 9, 9}));
  const Tensor tall = from_vector(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9}, Shape{1, 3, 3});
  // Reflect without repeating the edge: row [1 2 3] padded 2 -> [3 2 1 2 3 2 1].
  const Tensor reflected = pad_image(tall, 2, PadMode::Reflect);
  EXPECT_EQ(reflected.shape(), (Shape{1, 7, 7}));
  const std::vector<float> r = reflected.to_vector();
  EXPECT_EQ(std::vector<float>(r.begin() + 2 * 7, r.begin() + 3 * 7), (std::vector<float>{3, 2, 1, 2, 3, 2, 1}));
  EXPECT_EQ(std::vector<float>(r.begin(), r.begin() + 7), (std::vector<float>{9, 8, 7, 8, 9, 8, 7}));
  EXPECT_THROW((void)pad_image(tall, 3, PadMode::Reflect), ShapeError);
}

TEST(ImageOps, FlipsMirrorTheRightAxis) {
  const Tensor image = iota_image(2, 2, 3);
  EXPECT_EQ(flip_horizontal(image).to_vector(), (std::vector<float>{2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9}));
  EXPECT_EQ(flip_vertical(image).to_vector(), (std::vector<float>{3, 4, 5, 0, 1, 2, 9, 10, 11, 6, 7, 8}));
  EXPECT_EQ(flip_horizontal(flip_horizontal(image)).to_vector(), image.to_vector());
}

TEST(ImageOps, RotateBy90IsExactRot90CounterClockwise) {
  // [[0 1 2], [3 4 5], [6 7 8]] rotated counter-clockwise: [[2 5 8], [1 4 7], [0 3 6]].
  const Tensor image = iota_image(1, 3, 3);
  EXPECT_EQ(rotate(image, 90).to_vector(), (std::vector<float>{2, 5, 8, 1, 4, 7, 0, 3, 6}));
  EXPECT_EQ(rotate(image, -90).to_vector(), (std::vector<float>{6, 3, 0, 7, 4, 1, 8, 5, 2}));
  EXPECT_EQ(rotate(image, 180).to_vector(), (std::vector<float>{8, 7, 6, 5, 4, 3, 2, 1, 0}));
  EXPECT_EQ(rotate(image, 360).to_vector(), image.to_vector());
  // Even sizes too: the centre is between pixels.
  const Tensor even = iota_image(1, 4, 4);
  EXPECT_EQ(rotate(rotate(even, 90), 270).to_vector(), even.to_vector());
  // A 45 degree turn keeps the centre pixel and fills the corners.
  const Tensor turned = rotate(iota_image(1, 9, 9), 45, -1);
  EXPECT_FLOAT_EQ(turned.to_vector()[40], 40.0f);
  EXPECT_FLOAT_EQ(turned.to_vector()[0], -1.0f);
}

TEST(ImageOps, ScaleTranslate) {
  const Tensor image = iota_image(1, 3, 4);
  // Shift right by 1: column 0 is fill, the rest is the image moved over.
  EXPECT_EQ(scale_translate(image, 1, 1, 0, -1).to_vector(),
            (std::vector<float>{-1, 0, 1, 2, -1, 4, 5, 6, -1, 8, 9, 10}));
  // Shift up by 1.
  EXPECT_EQ(scale_translate(image, 1, 0, -1, -1).to_vector(),
            (std::vector<float>{4, 5, 6, 7, 8, 9, 10, 11, -1, -1, -1, -1}));
  // Scale 2 about the centre of a 3 x 3: the centre stays, the neighbours are halfway to it.
  const Tensor scaled = scale_translate(iota_image(1, 3, 3), 2, 0, 0);
  EXPECT_TRUE(allclose(scaled, from_vector(std::vector<float>{2, 2.5f, 3, 3.5f, 4, 4.5f, 5, 5.5f, 6}, Shape{1, 3, 3})));
  EXPECT_THROW((void)scale_translate(image, 0, 0, 0), Error);
}

TEST(ImageOps, ColourAdjustments) {
  const Tensor rgb = from_vector(std::vector<float>{200, 0, 0, 100, 0, 50}, Shape{3, 1, 2});
  EXPECT_EQ(adjust_brightness(rgb, 1.5).to_vector(), (std::vector<float>{255, 0, 0, 150, 0, 75}));
  // Contrast 0 gives the mean gray everywhere.
  const double mean = (0.299 * 200 + 0.587 * 0 + 0.114 * 0 + 0.299 * 0 + 0.587 * 100 + 0.114 * 50) / 2;
  for (const float v : adjust_contrast(rgb, 0).to_vector()) EXPECT_NEAR(v, mean, 1e-4);
  // Saturation 0 gives each pixel's gray; 1 is the identity.
  const std::vector<float> desaturated = adjust_saturation(rgb, 0).to_vector();
  EXPECT_NEAR(desaturated[0], 0.299 * 200, 1e-4);
  EXPECT_NEAR(desaturated[2], 0.299 * 200, 1e-4);
  EXPECT_TRUE(allclose(adjust_saturation(rgb, 1), rgb));
  // Hue: a third of a turn takes red to green, green to blue; zero is the identity; grays do not change.
  const Tensor pure = from_vector(std::vector<float>{255, 0, 0, 255, 0, 0}, Shape{3, 1, 2});
  EXPECT_TRUE(allclose(adjust_hue(pure, 1.0 / 3), from_vector(std::vector<float>{0, 0, 255, 0, 0, 255}, Shape{3, 1, 2}),
                       0, 1e-3));
  const Tensor mixed = from_vector(std::vector<float>{200, 30, 90, 120, 40, 240}, Shape{3, 1, 2});
  EXPECT_TRUE(allclose(adjust_hue(mixed, 0), mixed, 0, 1e-3));
  EXPECT_TRUE(allclose(adjust_hue(adjust_hue(mixed, 0.2), -0.2), mixed, 0, 1e-3));
  const Tensor grays = from_vector(std::vector<float>{80, 80, 80}, Shape{3, 1, 1});
  EXPECT_EQ(adjust_hue(grays, 0.3).to_vector(), grays.to_vector());
  // Scale-free: the same on [0, 1] images with max_value 1.
  const Tensor unit = from_vector(std::vector<float>{1, 0, 0}, Shape{3, 1, 1});
  EXPECT_TRUE(
      allclose(adjust_hue(unit, 1.0 / 3, 1.0f), from_vector(std::vector<float>{0, 1, 0}, Shape{3, 1, 1}), 0, 1e-6));
  // Gray images take brightness and contrast, not saturation or hue.
  const Tensor gray = from_vector(std::vector<float>{10, 30}, Shape{1, 1, 2});
  EXPECT_EQ(adjust_contrast(gray, 2).to_vector(), (std::vector<float>{0, 40}));
  EXPECT_THROW((void)adjust_saturation(gray, 0.5), Error);
  EXPECT_THROW((void)adjust_hue(gray, 0.1), Error);
  EXPECT_THROW((void)adjust_hue(rgb, 0.6), Error);
}

TEST(ImageOps, ReturnsCopiesNeverViews) {
  const Tensor image = iota_image(1, 2, 2);
  const Tensor out = adjust_brightness(image, 1.0);
  EXPECT_FALSE(out.shares_storage(image));
  EXPECT_FALSE(crop(image, 0, 0, 2, 2).shares_storage(image));
}

}  // namespace
}  // namespace vigil::data
