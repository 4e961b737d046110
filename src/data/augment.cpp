// Random augmentations: each draws its parameters from the Generator, then applies an image_ops operation.
#include <vigil/data/augment.hpp>

#include <algorithm>
#include <cmath>
#include <utility>

namespace vigil::data {
namespace {

const Tensor& image_input(const Example& example, const char* op) {
  const Tensor& x = example.input;
  VIGIL_CHECK(x.defined() && x.dim() == 3, ShapeError, "{}: expected an image input [C, H, W], got shape {}", op,
              x.defined() ? x.shape().str() : "undefined");
  VIGIL_CHECK(x.dtype() == DType::Float32 || x.dtype() == DType::Float64, DTypeError,
              "{}: expected a float image, got {}", op, dtype_name(x.dtype()));
  return x;
}

void check_probability(double p, const char* op) {
  VIGIL_CHECK(p >= 0 && p <= 1, Error, "{}: probability must be in [0, 1], got {}", op, p);
}

// (0, 1]: safe to take the log of or raise to a negative power.
double open_uniform(Generator& gen) { return 1.0 - gen.uniform_double(); }

double uniform_in(Generator& gen, double lo, double hi) { return lo + (hi - lo) * gen.uniform_double(); }

ExampleTransform random_flip(double p, const char* op, Tensor (*flip)(const Tensor&)) {
  check_probability(p, op);
  return [p, op, flip](Example example, Generator& gen) {
    const Tensor& x = image_input(example, op);
    if (gen.uniform() < p) example.input = flip(x);
    return example;
  };
}

// Targets as float32 [N, K]: one-hot from int64 labels [N], or a float32 copy of probabilities [N, K].
Tensor soft_targets(const Tensor& targets, std::int64_t n, std::int64_t num_classes, const char* op) {
  VIGIL_CHECK(targets.defined(), ShapeError, "{}: the batch has no targets", op);
  if (targets.dtype() == DType::Int64) {
    VIGIL_CHECK(targets.dim() == 1 && targets.size(0) == n, ShapeError,
                "{}: expected int64 labels [{}], got shape {}", op, n, targets.shape().str());
    const Tensor labels = raw::contiguous(targets);
    Tensor out = zeros(Shape{n, num_classes});
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t label = labels.data<std::int64_t>()[i];
      VIGIL_CHECK(label >= 0 && label < num_classes, IndexError, "{}: label {} of row {} is outside [0, {})", op,
                  label, i, num_classes);
      out.data<float>()[i * num_classes + label] = 1.0f;
    }
    return out;
  }
  VIGIL_CHECK(targets.dtype() == DType::Float32 || targets.dtype() == DType::Float64, DTypeError,
              "{}: targets must be int64 labels or floating probabilities, got {}", op, dtype_name(targets.dtype()));
  VIGIL_CHECK(targets.dim() == 2 && targets.size(0) == n && targets.size(1) == num_classes, ShapeError,
              "{}: expected probability targets [{}, {}], got shape {}", op, n, num_classes, targets.shape().str());
  return raw::clone(raw::contiguous(raw::to_dtype(targets, DType::Float32)));
}

// A uniformly random permutation of [0, n) by Fisher-Yates.
std::vector<std::int64_t> random_permutation(Generator& gen, std::int64_t n) {
  std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) perm[static_cast<std::size_t>(i)] = i;
  for (std::int64_t i = n - 1; i > 0; --i)
    std::swap(perm[static_cast<std::size_t>(i)], perm[gen.below(static_cast<std::uint64_t>(i) + 1)]);
  return perm;
}

// rows_out[i] = lambda rows[i] + (1 - lambda) rows[perm[i]] for a contiguous [N, row] float32 tensor.
Tensor mix_rows(const Tensor& rows, const std::vector<std::int64_t>& perm, double lambda) {
  const std::int64_t n = rows.size(0), row = n > 0 ? rows.numel() / n : 0;
  Tensor out = empty(rows.shape());
  const float* s = rows.data<float>();
  float* o = out.data<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    const float* a = s + i * row;
    const float* b = s + perm[static_cast<std::size_t>(i)] * row;
    for (std::int64_t k = 0; k < row; ++k)
      o[i * row + k] = static_cast<float>(lambda * a[k] + (1 - lambda) * b[k]);
  }
  return out;
}

void check_batch_transform_args(double alpha, std::int64_t num_classes, const char* op) {
  VIGIL_CHECK(alpha > 0, Error, "{}: alpha must be > 0, got {}", op, alpha);
  VIGIL_CHECK(num_classes > 0, Error, "{}: num_classes must be > 0, got {}", op, num_classes);
}

Tensor batch_inputs(const Batch& batch, const char* op, int min_dim) {
  const Tensor& x = batch.inputs;
  VIGIL_CHECK(x.defined() && x.dim() >= min_dim && x.size(0) == batch.size(), ShapeError,
              "{}: expected inputs [N = {}, ...] of at least {} dims, got shape {}", op, batch.size(), min_dim,
              x.defined() ? x.shape().str() : "undefined");
  VIGIL_CHECK(x.dtype() == DType::Float32 || x.dtype() == DType::Float64, DTypeError,
              "{}: expected float inputs, got {}", op, dtype_name(x.dtype()));
  return raw::contiguous(raw::to_dtype(x, DType::Float32));
}

}  // namespace

double sample_gamma(Generator& gen, double shape) {
  VIGIL_CHECK(shape > 0 && std::isfinite(shape), Error, "sample_gamma: shape must be a positive number, got {}",
              shape);
  if (shape < 1) return sample_gamma(gen, shape + 1) * std::pow(open_uniform(gen), 1 / shape);
  // Marsaglia & Tsang: with d = shape - 1/3, c = 1 / sqrt(9 d), x ~ N(0, 1), v = (1 + c x)^3, accept d v when
  // log u < x^2 / 2 + d (1 - v + log v); the cheap squeeze u < 1 - 0.0331 x^4 accepts most draws first.
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = gen.normal();
    const double t = 1.0 + c * x;
    if (t <= 0) continue;
    const double v = t * t * t;
    const double u = open_uniform(gen);
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

double sample_beta(Generator& gen, double a, double b) {
  VIGIL_CHECK(a > 0 && b > 0, Error, "sample_beta: a and b must be > 0, got {} and {}", a, b);
  const double x = sample_gamma(gen, a), y = sample_gamma(gen, b);
  if (x + y > 0) return x / (x + y);
  return gen.uniform_double() < a / (a + b) ? 1.0 : 0.0;
}

ExampleTransform compose(std::vector<ExampleTransform> transforms) {
  for (std::size_t i = 0; i < transforms.size(); ++i)
    VIGIL_CHECK(static_cast<bool>(transforms[i]), Error, "compose: transform {} is empty", i);
  return [transforms = std::move(transforms)](Example example, Generator& gen) {
    for (const ExampleTransform& transform : transforms) example = transform(std::move(example), gen);
    return example;
  };
}

ExampleTransform random_horizontal_flip(double p) {
  return random_flip(p, "random_horizontal_flip", flip_horizontal);
}

ExampleTransform random_vertical_flip(double p) { return random_flip(p, "random_vertical_flip", flip_vertical); }

ExampleTransform random_rotation(double min_degrees, double max_degrees, float fill) {
  VIGIL_CHECK(min_degrees <= max_degrees, Error, "random_rotation: min_degrees {} > max_degrees {}", min_degrees,
              max_degrees);
  return [=](Example example, Generator& gen) {
    const Tensor& x = image_input(example, "random_rotation");
    example.input = rotate(x, uniform_in(gen, min_degrees, max_degrees), fill);
    return example;
  };
}

ExampleTransform random_crop(std::int64_t pad, PadMode mode, float fill) {
  VIGIL_CHECK(pad >= 0, Error, "random_crop: pad must be >= 0, got {}", pad);
  return [=](Example example, Generator& gen) {
    const Tensor& x = image_input(example, "random_crop");
    const std::int64_t height = x.size(1), width = x.size(2);
    const auto top = static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(2 * pad + 1)));
    const auto left = static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(2 * pad + 1)));
    // Constant padding needs no padded copy: a window reaching outside the image is filled by crop itself.
    example.input = mode == PadMode::Constant ? crop(x, top - pad, left - pad, height, width, fill)
                                              : crop(pad_image(x, pad, mode, fill), top, left, height, width);
    return example;
  };
}

ExampleTransform random_affine(RandomAffineOptions options) {
  VIGIL_CHECK(options.max_translate_x >= 0 && options.max_translate_y >= 0, Error,
              "random_affine: max translations must be >= 0, got {} and {}", options.max_translate_x,
              options.max_translate_y);
  VIGIL_CHECK(options.min_scale > 0 && options.min_scale <= options.max_scale, Error,
              "random_affine: need 0 < min_scale <= max_scale, got {} and {}", options.min_scale, options.max_scale);
  return [options](Example example, Generator& gen) {
    const Tensor& x = image_input(example, "random_affine");
    const double max_dx = options.max_translate_x * static_cast<double>(x.size(2));
    const double max_dy = options.max_translate_y * static_cast<double>(x.size(1));
    const double dx = uniform_in(gen, -max_dx, max_dx);
    const double dy = uniform_in(gen, -max_dy, max_dy);
    const double scale = uniform_in(gen, options.min_scale, options.max_scale);
    example.input = scale_translate(x, scale, dx, dy, options.fill);
    return example;
  };
}

ExampleTransform color_jitter(ColorJitterOptions options) {
  VIGIL_CHECK(options.brightness >= 0 && options.contrast >= 0 && options.saturation >= 0, Error,
              "color_jitter: brightness, contrast and saturation must be >= 0, got {}, {}, {}", options.brightness,
              options.contrast, options.saturation);
  VIGIL_CHECK(options.hue >= 0 && options.hue <= 0.5, Error, "color_jitter: hue must be in [0, 0.5], got {}",
              options.hue);
  const auto factor = [](Generator& gen, double v) { return uniform_in(gen, std::max(0.0, 1 - v), 1 + v); };
  return [options, factor](Example example, Generator& gen) {
    Tensor x = image_input(example, "color_jitter");
    VIGIL_CHECK(x.size(0) == 1 || x.size(0) == 3, ShapeError,
                "color_jitter: expected a gray [1, H, W] or RGB [3, H, W] image, got shape {}", x.shape().str());
    VIGIL_CHECK(x.size(0) == 3 || (options.saturation == 0 && options.hue == 0), Error,
                "color_jitter: saturation ({}) and hue ({}) need an RGB image [3, H, W], got the gray image {}",
                options.saturation, options.hue, x.shape().str());
    if (options.brightness > 0) x = adjust_brightness(x, factor(gen, options.brightness), options.max_value);
    if (options.contrast > 0) x = adjust_contrast(x, factor(gen, options.contrast), options.max_value);
    if (options.saturation > 0) x = adjust_saturation(x, factor(gen, options.saturation), options.max_value);
    if (options.hue > 0) x = adjust_hue(x, uniform_in(gen, -options.hue, options.hue), options.max_value);
    example.input = raw::clone(raw::contiguous(raw::to_dtype(x, DType::Float32)));
    return example;
  };
}

ExampleTransform gaussian_noise(double std_dev) {
  VIGIL_CHECK(std_dev >= 0, Error, "gaussian_noise: std_dev must be >= 0, got {}", std_dev);
  return [std_dev](Example example, Generator& gen) {
    const Tensor& x = image_input(example, "gaussian_noise");
    Tensor out = raw::clone(raw::contiguous(raw::to_dtype(x, DType::Float32)));
    float* o = out.data<float>();
    for (std::int64_t i = 0; i < out.numel(); ++i) o[i] += static_cast<float>(std_dev * gen.normal());
    example.input = std::move(out);
    return example;
  };
}

ExampleTransform random_erasing(RandomErasingOptions options) {
  VIGIL_CHECK(options.count >= 0, Error, "random_erasing: count must be >= 0, got {}", options.count);
  VIGIL_CHECK(options.min_size >= 1 && options.min_size <= options.max_size, Error,
              "random_erasing: need 1 <= min_size <= max_size, got {} and {}", options.min_size, options.max_size);
  check_probability(options.p, "random_erasing");
  return [options](Example example, Generator& gen) {
    const Tensor& x = image_input(example, "random_erasing");
    Tensor out = raw::clone(raw::contiguous(raw::to_dtype(x, DType::Float32)));
    const std::int64_t channels = out.size(0), height = out.size(1), width = out.size(2);
    const auto span = static_cast<std::uint64_t>(options.max_size - options.min_size + 1);
    float* o = out.data<float>();
    for (std::int64_t r = 0; r < options.count; ++r) {
      if (!(gen.uniform() < options.p)) continue;
      const std::int64_t h = std::min(height, options.min_size + static_cast<std::int64_t>(gen.below(span)));
      const std::int64_t w = std::min(width, options.min_size + static_cast<std::int64_t>(gen.below(span)));
      const auto top = static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(height - h + 1)));
      const auto left = static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(width - w + 1)));
      for (std::int64_t c = 0; c < channels; ++c)
        for (std::int64_t y = top; y < top + h; ++y)
          std::fill_n(o + (c * height + y) * width + left, w, options.fill);
    }
    example.input = std::move(out);
    return example;
  };
}

BatchTransform mixup(double alpha, std::int64_t num_classes) {
  check_batch_transform_args(alpha, num_classes, "mixup");
  return [alpha, num_classes](Batch batch, Generator& gen) {
    const Tensor inputs = batch_inputs(batch, "mixup", 1);
    const Tensor targets = soft_targets(batch.targets, batch.size(), num_classes, "mixup");
    const double lambda = sample_beta(gen, alpha, alpha);
    const std::vector<std::int64_t> partner = random_permutation(gen, batch.size());
    batch.inputs = mix_rows(inputs, partner, lambda);
    batch.targets = mix_rows(targets, partner, lambda);
    return batch;
  };
}

BatchTransform cutmix(double alpha, std::int64_t num_classes) {
  check_batch_transform_args(alpha, num_classes, "cutmix");
  return [alpha, num_classes](Batch batch, Generator& gen) {
    const Tensor inputs = batch_inputs(batch, "cutmix", 4);
    VIGIL_CHECK(inputs.dim() == 4, ShapeError, "cutmix: expected images [N, C, H, W], got shape {}",
                inputs.shape().str());
    const Tensor targets = soft_targets(batch.targets, batch.size(), num_classes, "cutmix");
    const double lambda = sample_beta(gen, alpha, alpha);
    const std::vector<std::int64_t> partner = random_permutation(gen, batch.size());
    const std::int64_t n = inputs.size(0), channels = inputs.size(1), height = inputs.size(2),
                       width = inputs.size(3);
    // A box with sides scaled by sqrt(1 - lambda) has area (1 - lambda) H W before clipping.
    const double side = std::sqrt(1.0 - lambda);
    const auto box_h = static_cast<std::int64_t>(static_cast<double>(height) * side);
    const auto box_w = static_cast<std::int64_t>(static_cast<double>(width) * side);
    const auto cy = static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(height)));
    const auto cx = static_cast<std::int64_t>(gen.below(static_cast<std::uint64_t>(width)));
    const std::int64_t y0 = std::clamp(cy - box_h / 2, std::int64_t{0}, height);
    const std::int64_t y1 = std::clamp(cy + box_h / 2, std::int64_t{0}, height);
    const std::int64_t x0 = std::clamp(cx - box_w / 2, std::int64_t{0}, width);
    const std::int64_t x1 = std::clamp(cx + box_w / 2, std::int64_t{0}, width);
    const double kept = 1.0 - static_cast<double>((y1 - y0) * (x1 - x0)) / static_cast<double>(height * width);

    Tensor out = raw::clone(inputs);
    const float* s = inputs.data<float>();
    float* o = out.data<float>();
    const std::int64_t image = channels * height * width;
    for (std::int64_t i = 0; i < n; ++i) {
      const float* from = s + partner[static_cast<std::size_t>(i)] * image;
      for (std::int64_t c = 0; c < channels; ++c)
        for (std::int64_t y = y0; y < y1; ++y)
          for (std::int64_t x = x0; x < x1; ++x) {
            const std::int64_t at = (c * height + y) * width + x;
            o[i * image + at] = from[at];
          }
    }
    batch.inputs = std::move(out);
    batch.targets = mix_rows(targets, partner, kept);
    return batch;
  };
}

}  // namespace vigil::data
