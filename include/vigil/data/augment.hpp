// Random data augmentation: ExampleTransforms on images [C, H, W] and BatchTransforms (mixup, cutmix).
//
// Every transform draws only from the Generator it is handed (DataLoader derives it from seed, epoch and sample
// index), so a seed reproduces every augmented pixel whatever the thread count. Each returns a new input tensor
// (float32, contiguous) and leaves the target as it is; the input must be a float image [C, H, W] (ShapeError
// naming the transform otherwise). Values are in whatever scale the images are in: 0-255 straight from the
// decoders, and fill values are in that same scale. The deterministic operations they apply are in image_ops.hpp.
//
// Draws per call, in order (so streams stay aligned and a test can predict them):
//   flips                     one uniform
//   random_rotation           one uniform (the angle)
//   random_crop               two below() (top, then left)
//   random_affine             uniforms for dx, dy, scale
//   color_jitter              one uniform per enabled adjustment, in the order brightness, contrast, saturation,
//                             hue (the order they are applied in; torchvision shuffles the order, vigil does not)
//   gaussian_noise            one normal per element
//   random_erasing            per rectangle: one uniform (p), then below() for height, width, top, left
#pragma once

#include <vigil/data/dataset.hpp>
#include <vigil/data/image_ops.hpp>

#include <cstdint>
#include <vector>

namespace vigil::data {

// ---- Distributions on Generator ----

// Gamma(shape, 1), shape > 0: Marsaglia and Tsang's squeeze method (2000) for shape >= 1; for shape < 1,
// Gamma(shape + 1) * U^(1 / shape).
double sample_gamma(Generator& gen, double shape);
// Beta(a, b) = X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b); a, b > 0. When both underflow to 0 (tiny a and b),
// returns 1 with probability a / (a + b), else 0: the limit of the distribution.
double sample_beta(Generator& gen, double a, double b);

// ---- Example transforms ----

// Applies the transforms in order, each with the same generator.
ExampleTransform compose(std::vector<ExampleTransform> transforms);

// Mirrors the image with probability p.
ExampleTransform random_horizontal_flip(double p = 0.5);
ExampleTransform random_vertical_flip(double p = 0.5);

// Rotates by an angle uniform in [min_degrees, max_degrees] (counter-clockwise positive) about the centre,
// bilinear, with `fill` where the rotated image does not reach.
ExampleTransform random_rotation(double min_degrees, double max_degrees, float fill = 0.0f);

// Pads by `pad` on every side (Constant with `fill`, or Reflect), then crops an H x W window at a uniformly drawn
// offset in [0, 2 pad] x [0, 2 pad]: the CIFAR "pad 4, random crop 32" augmentation.
ExampleTransform random_crop(std::int64_t pad, PadMode mode = PadMode::Constant, float fill = 0.0f);

struct RandomAffineOptions {
  double max_translate_x = 0.0;  // shift uniform in [-max * W, max * W] pixels (a fraction of the width)
  double max_translate_y = 0.0;  // likewise of the height
  double min_scale = 1.0;        // scale uniform in [min_scale, max_scale], about the centre
  double max_scale = 1.0;
  float fill = 0.0f;
};
ExampleTransform random_affine(RandomAffineOptions options);

// Each enabled adjustment draws its factor: brightness, contrast, saturation uniform in [max(0, 1 - v), 1 + v],
// hue shift uniform in [-hue, hue] (hue <= 0.5). See image_ops.hpp for the formulas; results clamp to
// [0, max_value]. Brightness and contrast work on gray and RGB images; a nonzero saturation or hue on a gray
// image throws Error (there is no colour to change).
struct ColorJitterOptions {
  double brightness = 0.0;
  double contrast = 0.0;
  double saturation = 0.0;
  double hue = 0.0;
  float max_value = 255.0f;
};
ExampleTransform color_jitter(ColorJitterOptions options);

// Adds independent N(0, std_dev^2) noise to every value (no clamping).
ExampleTransform gaussian_noise(double std_dev);

// Cutout / random erasing: `count` rectangles, each with probability p, of height and width each uniform in
// [min_size, max_size] pixels (clipped to the image), placed uniformly inside the image, set to `fill` in every
// channel.
struct RandomErasingOptions {
  std::int64_t count = 1;
  std::int64_t min_size = 1;
  std::int64_t max_size = 1;
  float fill = 0.0f;
  double p = 1.0;
};
ExampleTransform random_erasing(RandomErasingOptions options);

// ---- Batch transforms ----
//
// Both take a batch of images inputs [N, C, H, W] (mixup: any [N, ...]) and targets either int64 labels [N] in
// [0, num_classes) or floating class probabilities [N, num_classes], and return SOFT targets float32
// [N, num_classes]: train them with nn::cross_entropy(logits, soft_targets), which takes floating targets as class
// probabilities. One lambda ~ Beta(alpha, alpha) per batch, and a uniformly random permutation `partner` of the
// batch (an example may be its own partner):
//   mixup:  input_i = lambda x_i + (1 - lambda) x_partner(i),  target_i = lambda y_i + (1 - lambda) y_partner(i)
//   cutmix: a box of area (1 - lambda) H W centred uniformly (clipped to the image) is pasted from x_partner(i)
//           into x_i; lambda is then recomputed as 1 - box area / (H W), the exact fraction of x_i's pixels kept,
//           and target_i = lambda y_i + (1 - lambda) y_partner(i).
// Draws: lambda (gammas), then the permutation (N - 1 below() calls, Fisher-Yates), then for cutmix the box centre
// (below(H), below(W)).
BatchTransform mixup(double alpha, std::int64_t num_classes);
BatchTransform cutmix(double alpha, std::int64_t num_classes);

}  // namespace vigil::data
