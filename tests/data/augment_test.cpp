// Augmentations: exact results where the draw is forced, statistics where it is not, and reproducibility.
#include <vigil/data/augment.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

namespace vigil::data {
namespace {

Tensor iota_image(std::int64_t c, std::int64_t h, std::int64_t w) {
  return raw::reshape(arange(0, static_cast<double>(c * h * w)), Shape{c, h, w});
}

Example example_of(const Tensor& image, std::int64_t label = 0) {
  return Example{image, from_vector_i64(std::vector<std::int64_t>{label}, Shape{})};
}

std::vector<float> apply(const ExampleTransform& t, const Tensor& image, std::uint64_t seed) {
  Generator gen(seed);
  return t(example_of(image), gen).input.to_vector();
}

// Same seed, same output; the target passes through.
void expect_reproducible(const ExampleTransform& t, const Tensor& image) {
  EXPECT_EQ(apply(t, image, 7), apply(t, image, 7));
  Generator gen(3);
  const Example out = t(example_of(image, 5), gen);
  EXPECT_EQ(out.target.item(), 5.0f);
  EXPECT_EQ(out.input.shape(), image.shape());
}

TEST(Augment, GammaAndBetaMomentsMatch) {
  Generator gen(1);
  for (const double shape : {0.3, 1.0, 4.5}) {
    double sum = 0, sum_sq = 0;
    const int n = 40000;
    for (int i = 0; i < n; ++i) {
      const double g = sample_gamma(gen, shape);
      ASSERT_GE(g, 0.0);
      sum += g;
      sum_sq += g * g;
    }
    const double mean = sum / n, var = sum_sq / n - mean * mean;
    EXPECT_NEAR(mean, shape, 0.03 * shape + 0.01) << "shape " << shape;  // Gamma(k, 1): mean k, variance k
    EXPECT_NEAR(var, shape, 0.08 * shape + 0.01) << "shape " << shape;
  }
  for (const auto& [a, b] : {std::pair{0.4, 0.4}, std::pair{2.0, 5.0}}) {
    double sum = 0, sum_sq = 0;
    const int n = 40000;
    for (int i = 0; i < n; ++i) {
      const double x = sample_beta(gen, a, b);
      ASSERT_GE(x, 0.0);
      ASSERT_LE(x, 1.0);
      sum += x;
      sum_sq += x * x;
    }
    const double mean = sum / n, var = sum_sq / n - mean * mean;
    EXPECT_NEAR(mean, a / (a + b), 0.01);
    EXPECT_NEAR(var, a * b / ((a + b) * (a + b) * (a + b + 1)), 0.005);
  }
  EXPECT_THROW((void)sample_gamma(gen, 0), Error);
  EXPECT_THROW((void)sample_beta(gen, 1, -1), Error);
}

TEST(Augment, FlipsForcedAndStatistically) {
  const Tensor image = iota_image(2, 3, 4);
  EXPECT_EQ(apply(random_horizontal_flip(1.0), image, 0), flip_horizontal(image).to_vector());
  EXPECT_EQ(apply(random_vertical_flip(1.0), image, 0), flip_vertical(image).to_vector());
  EXPECT_EQ(apply(random_horizontal_flip(0.0), image, 0), image.to_vector());
  // Flip twice is the identity.
  const ExampleTransform twice = compose({random_horizontal_flip(1.0), random_horizontal_flip(1.0)});
  EXPECT_EQ(apply(twice, image, 0), image.to_vector());
  // The flipped fraction is about p.
  const ExampleTransform flip = random_horizontal_flip(0.3);
  const std::vector<float> flipped = flip_horizontal(image).to_vector();
  Generator gen(11);
  int count = 0;
  const int n = 5000;
  for (int i = 0; i < n; ++i) count += flip(example_of(image), gen).input.to_vector() == flipped;
  EXPECT_NEAR(static_cast<double>(count) / n, 0.3, 0.03);
  expect_reproducible(flip, image);
  EXPECT_THROW((void)random_horizontal_flip(1.5), Error);
  Generator g(0);
  EXPECT_THROW((void)flip(example_of(zeros(Shape{4, 4})), g), ShapeError);
}

TEST(Augment, RotationRangeAndExactQuarterTurn) {
  const Tensor image = iota_image(1, 3, 3);
  EXPECT_EQ(apply(random_rotation(90, 90), image, 0), (std::vector<float>{2, 5, 8, 1, 4, 7, 0, 3, 6}));
  // A random angle in [-30, 30] equals rotate() at the angle drawn.
  Generator gen(5), replay(5);
  const Tensor out = random_rotation(-30, 30)(example_of(iota_image(1, 7, 7)), gen).input;
  const double angle = -30 + 60 * replay.uniform_double();
  EXPECT_EQ(out.to_vector(), rotate(iota_image(1, 7, 7), angle).to_vector());
  expect_reproducible(random_rotation(-10, 10, 3), iota_image(3, 5, 5));
  EXPECT_THROW((void)random_rotation(10, -10), Error);
}

TEST(Augment, RandomCropWithZeroPaddingPlacesTheImage) {
  const Tensor image = raw::reshape(arange(1, 17), Shape{1, 4, 4});  // 1..16, so 0 is padding
  const ExampleTransform t = random_crop(2);
  std::set<std::pair<std::int64_t, std::int64_t>> offsets;
  Generator gen(9);
  for (int i = 0; i < 400; ++i) {
    Generator replay = gen;
    const std::vector<float> out = t(example_of(image), gen).input.to_vector();
    // The output is the image shifted by (2 - top, 2 - left), zeros elsewhere.
    const auto top = static_cast<std::int64_t>(replay.below(5)), left = static_cast<std::int64_t>(replay.below(5));
    offsets.insert({top, left});
    for (std::int64_t y = 0; y < 4; ++y)
      for (std::int64_t x = 0; x < 4; ++x) {
        const std::int64_t sy = y + top - 2, sx = x + left - 2;
        const float expected = sy >= 0 && sy < 4 && sx >= 0 && sx < 4 ? static_cast<float>(sy * 4 + sx + 1) : 0.0f;
        ASSERT_EQ(out[static_cast<std::size_t>(y * 4 + x)], expected);
      }
  }
  EXPECT_EQ(offsets.size(), 25u);  // every offset in [0, 4] x [0, 4] occurs
  // Reflect padding: every value comes from the image.
  Generator g(1);
  for (int i = 0; i < 50; ++i)
    for (const float v : random_crop(2, PadMode::Reflect)(example_of(image), g).input.to_vector()) {
      EXPECT_GE(v, 1.0f);
      EXPECT_LE(v, 16.0f);
    }
  expect_reproducible(random_crop(4, PadMode::Constant, 0.5f), iota_image(3, 8, 8));
}

TEST(Augment, RandomAffineMatchesScaleTranslateAtTheDraw) {
  const Tensor image = iota_image(3, 6, 8);
  const RandomAffineOptions options{0.25, 0.1, 0.8, 1.2, -1};
  Generator gen(4), replay(4);
  const Tensor out = random_affine(options)(example_of(image), gen).input;
  const double dx = -2 + 4 * replay.uniform_double();
  const double dy = -0.6 + 1.2 * replay.uniform_double();
  const double scale = 0.8 + 0.4 * replay.uniform_double();
  EXPECT_TRUE(allclose(out, scale_translate(image, scale, dx, dy, -1)));
  // The identity options leave the image as it is.
  EXPECT_EQ(apply(random_affine({}), image, 0), image.to_vector());
  expect_reproducible(random_affine(options), image);
  EXPECT_THROW((void)random_affine(RandomAffineOptions{0, 0, 2, 1}), Error);
}

TEST(Augment, ColorJitterFactorsAndGrayErrors) {
  const Tensor rgb = from_vector(std::vector<float>{200, 30, 90, 120, 40, 240}, Shape{3, 1, 2});
  ColorJitterOptions options;
  options.brightness = 0.4;
  options.contrast = 0.3;
  options.saturation = 0.2;
  options.hue = 0.1;
  Generator gen(8), replay(8);
  const Tensor out = color_jitter(options)(example_of(rgb), gen).input;
  const double b = 0.6 + 0.8 * replay.uniform_double();
  const double c = 0.7 + 0.6 * replay.uniform_double();
  const double s = 0.8 + 0.4 * replay.uniform_double();
  const double h = -0.1 + 0.2 * replay.uniform_double();
  const Tensor expected = adjust_hue(adjust_saturation(adjust_contrast(adjust_brightness(rgb, b), c), s), h);
  EXPECT_TRUE(allclose(out, expected));
  expect_reproducible(color_jitter(options), rgb);

  // Gray: brightness and contrast only.
  const Tensor gray = from_vector(std::vector<float>{10, 30}, Shape{1, 1, 2});
  ColorJitterOptions gray_ok;
  gray_ok.brightness = 0.5;
  gray_ok.contrast = 0.5;
  Generator g(0);
  EXPECT_EQ(color_jitter(gray_ok)(example_of(gray), g).input.shape(), gray.shape());
  try {
    (void)color_jitter(options)(example_of(gray), g);
    ADD_FAILURE() << "hue on a gray image did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("need an RGB image"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[1, 1, 2]"), std::string::npos) << e.what();
  }
  ColorJitterOptions bad_hue;
  bad_hue.hue = 0.7;
  EXPECT_THROW((void)color_jitter(bad_hue), Error);
}

TEST(Augment, GaussianNoiseStatistics) {
  const Tensor image = full(Shape{1, 100, 100}, 50);
  Generator gen(2);
  const std::vector<float> out = gaussian_noise(3.0)(example_of(image), gen).input.to_vector();
  double sum = 0, sum_sq = 0;
  for (const float v : out) {
    sum += v - 50;
    sum_sq += (v - 50) * (v - 50);
  }
  const double n = static_cast<double>(out.size()), mean = sum / n;
  EXPECT_NEAR(mean, 0.0, 0.1);
  EXPECT_NEAR(std::sqrt(sum_sq / n - mean * mean), 3.0, 0.1);
  EXPECT_EQ(apply(gaussian_noise(0), image, 0), image.to_vector());
  expect_reproducible(gaussian_noise(1.0), image);
}

TEST(Augment, RandomErasingRectangles) {
  const Tensor image = full(Shape{3, 10, 12}, 1);
  RandomErasingOptions options{1, 3, 3, 0.0f, 1.0};
  Generator gen(6);
  for (int i = 0; i < 50; ++i) {
    Generator replay = gen;
    const std::vector<float> out = random_erasing(options)(example_of(image), gen).input.to_vector();
    (void)replay.uniform();
    (void)replay.below(1);
    (void)replay.below(1);
    const auto top = static_cast<std::int64_t>(replay.below(8)), left = static_cast<std::int64_t>(replay.below(10));
    for (std::int64_t c = 0; c < 3; ++c)
      for (std::int64_t y = 0; y < 10; ++y)
        for (std::int64_t x = 0; x < 12; ++x) {
          const bool inside = y >= top && y < top + 3 && x >= left && x < left + 3;
          ASSERT_EQ(out[static_cast<std::size_t>((c * 10 + y) * 12 + x)], inside ? 0.0f : 1.0f);
        }
  }
  // Sizes in range, clipped to the image; p = 0 erases nothing.
  RandomErasingOptions many{4, 2, 20, -1.0f, 1.0};
  Generator g(1);
  for (int i = 0; i < 20; ++i) {
    const std::vector<float> out = random_erasing(many)(example_of(image), g).input.to_vector();
    int erased = 0;
    for (const float v : out) erased += v == -1.0f;
    EXPECT_GE(erased, 3 * 2 * 2);
  }
  EXPECT_EQ(apply(random_erasing(RandomErasingOptions{3, 2, 4, 0.0f, 0.0}), image, 0), image.to_vector());
  expect_reproducible(random_erasing(many), image);
  EXPECT_THROW((void)random_erasing(RandomErasingOptions{1, 5, 2}), Error);
}

TEST(Augment, ComposeAppliesInOrderWithOneGenerator) {
  const Tensor image = iota_image(1, 4, 4);
  const ExampleTransform pipeline = compose({random_crop(1), random_horizontal_flip(0.5), gaussian_noise(0.1)});
  expect_reproducible(pipeline, image);
  // Order matters: flip-then-pad-crop equals applying them one after another with the same generator.
  Generator a(3), b(3);
  const Tensor composed = compose({random_vertical_flip(1.0), random_rotation(90, 90)})(example_of(image), a).input;
  Example step = random_vertical_flip(1.0)(example_of(image), b);
  step = random_rotation(90, 90)(step, b);
  EXPECT_EQ(composed.to_vector(), step.input.to_vector());
  EXPECT_THROW((void)compose({ExampleTransform{}}), Error);
}

// A batch of n constant images (image i holds value i) with labels i % k.
Batch constant_batch(std::int64_t n, std::int64_t k, std::int64_t h = 8, std::int64_t w = 8) {
  std::vector<float> values;
  std::vector<std::int64_t> labels, indices;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < 2 * h * w; ++j) values.push_back(static_cast<float>(i));
    labels.push_back(i % k);
    indices.push_back(i);
  }
  return Batch{from_vector(values, Shape{n, 2, h, w}), from_vector_i64(labels, Shape{n}), indices};
}

TEST(Augment, MixupBlendsInputsAndSoftTargets) {
  const std::int64_t n = 6, k = 6;
  Generator gen(12), replay(12);
  const Batch out = mixup(0.4, k)(constant_batch(n, k), gen);
  const double lambda = sample_beta(replay, 0.4, 0.4);
  ASSERT_EQ(out.targets.shape(), (Shape{n, k}));
  EXPECT_EQ(out.targets.dtype(), DType::Float32);
  const std::vector<float> x = out.inputs.to_vector(), t = out.targets.to_vector();
  for (std::int64_t i = 0; i < n; ++i) {
    double row_sum = 0;
    for (std::int64_t c = 0; c < k; ++c) row_sum += t[static_cast<std::size_t>(i * k + c)];
    EXPECT_NEAR(row_sum, 1.0, 1e-6);
    // The image is lambda i + (1 - lambda) j for the partner j found from the targets.
    const float own = t[static_cast<std::size_t>(i * k + i)];
    std::int64_t partner = i;
    for (std::int64_t c = 0; c < k; ++c)
      if (c != i && t[static_cast<std::size_t>(i * k + c)] > 0) partner = c;
    if (partner != i) {
      EXPECT_NEAR(own, lambda, 1e-6);
    }
    EXPECT_NEAR(x[static_cast<std::size_t>(i * 2 * 64)], lambda * i + (1 - lambda) * partner, 1e-4);
  }
  EXPECT_EQ(out.indices, constant_batch(n, k).indices);
  // Same seed, same batch.
  Generator a(1), b(1);
  EXPECT_EQ(mixup(1.0, k)(constant_batch(n, k), a).inputs.to_vector(),
            mixup(1.0, k)(constant_batch(n, k), b).inputs.to_vector());
  // Soft targets in, soft targets out; labels out of range throw.
  Batch soft = constant_batch(n, k);
  soft.targets = full(Shape{n, k}, 1.0f / static_cast<float>(k));
  Generator g(0);
  for (const float v : mixup(1.0, k)(soft, g).targets.to_vector()) EXPECT_NEAR(v, 1.0 / k, 1e-6);
  EXPECT_THROW((void)mixup(1.0, 3)(constant_batch(n, k), g), IndexError);
  EXPECT_THROW((void)mixup(0.0, 3), Error);
}

TEST(Augment, CutmixLabelsMatchThePastedPixelFraction) {
  const std::int64_t n = 8, k = 8, h = 12, w = 10;
  int mixed_rows = 0;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Generator gen(seed);
    const Batch out = cutmix(1.0, k)(constant_batch(n, k, h, w), gen);
    const std::vector<float> x = out.inputs.to_vector(), t = out.targets.to_vector();
    for (std::int64_t i = 0; i < n; ++i) {
      double row_sum = 0;
      for (std::int64_t c = 0; c < k; ++c) row_sum += t[static_cast<std::size_t>(i * k + c)];
      EXPECT_NEAR(row_sum, 1.0, 1e-6);
      // Image i holds value i; pixels with another value were pasted from the partner.
      std::int64_t own_pixels = 0;
      for (std::int64_t p = 0; p < 2 * h * w; ++p) own_pixels += x[static_cast<std::size_t>(i * 2 * h * w + p)] == i;
      const double own_fraction = static_cast<double>(own_pixels) / static_cast<double>(2 * h * w);
      const float own_label = t[static_cast<std::size_t>(i * k + i)];
      const bool self_partner = own_label > 1 - 1e-6;
      if (!self_partner) {
        mixed_rows += own_fraction < 1;
        EXPECT_NEAR(own_label, own_fraction, 1e-6) << "seed " << seed << " row " << i;
      }
    }
  }
  EXPECT_GT(mixed_rows, 50);
  Generator gen(0);
  Batch flat = constant_batch(4, 4);
  flat.inputs = zeros(Shape{4, 10});
  EXPECT_THROW((void)cutmix(1.0, 4)(flat, gen), ShapeError);
}

}  // namespace
}  // namespace vigil::data
