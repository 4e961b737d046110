// Deterministic image operations: plain loops over contiguous float32 [C, H, W] copies.
#include <vigil/data/image_ops.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

namespace vigil::data {
namespace {

// The image as a contiguous float32 tensor [C, H, W]; throws ShapeError / DTypeError naming `op`.
Tensor checked_image(const Tensor& image, const char* op) {
  VIGIL_CHECK(image.defined() && image.dim() == 3, ShapeError, "{}: expected an image [C, H, W], got shape {}", op,
              image.defined() ? image.shape().str() : "undefined");
  VIGIL_CHECK(image.dtype() == DType::Float32 || image.dtype() == DType::Float64, DTypeError,
              "{}: expected a float image, got {}", op, dtype_name(image.dtype()));
  return raw::contiguous(raw::to_dtype(image, DType::Float32));
}

// 1 or 3 channels, for the colour adjustments.
void check_gray_or_rgb(const Tensor& image, const char* op) {
  VIGIL_CHECK(image.size(0) == 1 || image.size(0) == 3, ShapeError,
              "{}: expected a gray [1, H, W] or RGB [3, H, W] image, got shape {}", op, image.shape().str());
}

void check_rgb(const Tensor& image, const char* op) {
  VIGIL_CHECK(image.size(0) == 3, Error, "{}: needs an RGB image [3, H, W], got shape {} ({} channel{})", op,
              image.shape().str(), image.size(0), image.size(0) == 1 ? "" : "s");
}

float clamp_value(double v, float max_value) { return static_cast<float>(std::clamp(v, 0.0, double{max_value})); }

double luma(double r, double g, double b) { return 0.299 * r + 0.587 * g + 0.114 * b; }

// Source sample positions and weights of one output axis for bilinear resizing (half-pixel centres, clamped).
struct Taps {
  std::vector<std::int64_t> lo, hi;
  std::vector<float> w_hi;
};
Taps resize_taps(std::int64_t in, std::int64_t out) {
  Taps taps;
  const double ratio = static_cast<double>(in) / static_cast<double>(out);
  for (std::int64_t i = 0; i < out; ++i) {
    const double src = std::max((static_cast<double>(i) + 0.5) * ratio - 0.5, 0.0);
    const auto lo = std::min(static_cast<std::int64_t>(src), in - 1);
    taps.lo.push_back(lo);
    taps.hi.push_back(std::min(lo + 1, in - 1));
    taps.w_hi.push_back(static_cast<float>(src - static_cast<double>(lo)));
  }
  return taps;
}

}  // namespace

Tensor convert_channels(const Tensor& image, std::int64_t channels) {
  const Tensor src = checked_image(image, "convert_channels");
  const std::int64_t in = src.size(0), height = src.size(1), width = src.size(2), plane = height * width;
  VIGIL_CHECK(channels == 1 || channels == 3, Error, "convert_channels: target channels must be 1 or 3, got {}",
              channels);
  VIGIL_CHECK(in >= 1 && in <= 4, ShapeError,
              "convert_channels: expected 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA) channels, got shape {}",
              src.shape().str());
  const bool src_rgb = in >= 3;
  Tensor out = empty(Shape{channels, height, width});
  const float* s = src.data<float>();
  float* o = out.data<float>();
  for (std::int64_t i = 0; i < plane; ++i) {
    if (channels == 1) {
      o[i] = src_rgb ? static_cast<float>(luma(s[i], s[plane + i], s[2 * plane + i])) : s[i];
    } else {
      for (std::int64_t c = 0; c < 3; ++c) o[c * plane + i] = src_rgb ? s[c * plane + i] : s[i];
    }
  }
  return out;
}

Tensor resize_bilinear(const Tensor& image, std::int64_t height, std::int64_t width) {
  const Tensor src = checked_image(image, "resize_bilinear");
  VIGIL_CHECK(height > 0 && width > 0, ShapeError, "resize_bilinear: target size must be positive, got {} x {}",
              height, width);
  const std::int64_t channels = src.size(0), in_h = src.size(1), in_w = src.size(2);
  VIGIL_CHECK(in_h > 0 && in_w > 0, ShapeError, "resize_bilinear: empty image of shape {}", src.shape().str());
  const Taps ty = resize_taps(in_h, height), tx = resize_taps(in_w, width);
  Tensor out = empty(Shape{channels, height, width});
  const float* s = src.data<float>();
  float* o = out.data<float>();
  for (std::int64_t c = 0; c < channels; ++c) {
    const float* plane = s + c * in_h * in_w;
    for (std::int64_t y = 0; y < height; ++y) {
      const float* r0 = plane + ty.lo[y] * in_w;
      const float* r1 = plane + ty.hi[y] * in_w;
      const float wy = ty.w_hi[y];
      for (std::int64_t x = 0; x < width; ++x) {
        const float wx = tx.w_hi[x];
        const float top = r0[tx.lo[x]] + wx * (r0[tx.hi[x]] - r0[tx.lo[x]]);
        const float bottom = r1[tx.lo[x]] + wx * (r1[tx.hi[x]] - r1[tx.lo[x]]);
        o[(c * height + y) * width + x] = top + wy * (bottom - top);
      }
    }
  }
  return out;
}

Tensor crop(const Tensor& image, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width,
            float fill) {
  const Tensor src = checked_image(image, "crop");
  VIGIL_CHECK(height > 0 && width > 0, ShapeError, "crop: window size must be positive, got {} x {}", height, width);
  const std::int64_t channels = src.size(0), in_h = src.size(1), in_w = src.size(2);
  Tensor out = full(Shape{channels, height, width}, fill);
  const float* s = src.data<float>();
  float* o = out.data<float>();
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::int64_t y = std::max<std::int64_t>(0, -top); y < height && top + y < in_h; ++y)
      for (std::int64_t x = std::max<std::int64_t>(0, -left); x < width && left + x < in_w; ++x)
        o[(c * height + y) * width + x] = s[(c * in_h + top + y) * in_w + left + x];
  return out;
}

Tensor center_crop(const Tensor& image, std::int64_t height, std::int64_t width, float fill) {
  VIGIL_CHECK(image.defined() && image.dim() == 3, ShapeError, "center_crop: expected an image [C, H, W], got shape {}",
              image.defined() ? image.shape().str() : "undefined");
  // Floor division also for a window larger than the image (negative offsets), like torchvision's padding.
  const auto floor_half = [](std::int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); };
  return crop(image, floor_half(image.size(1) - height), floor_half(image.size(2) - width), height, width, fill);
}

Tensor pad_image(const Tensor& image, std::int64_t pad, PadMode mode, float fill) {
  const Tensor src = checked_image(image, "pad_image");
  VIGIL_CHECK(pad >= 0, Error, "pad_image: pad must be >= 0, got {}", pad);
  const std::int64_t channels = src.size(0), in_h = src.size(1), in_w = src.size(2);
  if (mode == PadMode::Constant) return crop(src, -pad, -pad, in_h + 2 * pad, in_w + 2 * pad, fill);
  VIGIL_CHECK(pad < in_h && pad < in_w, ShapeError,
              "pad_image: reflect padding {} needs pad < H and pad < W, got shape {}", pad, src.shape().str());
  const auto reflect = [](std::int64_t i, std::int64_t n) { return i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i); };
  const std::int64_t height = in_h + 2 * pad, width = in_w + 2 * pad;
  Tensor out = empty(Shape{channels, height, width});
  const float* s = src.data<float>();
  float* o = out.data<float>();
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::int64_t y = 0; y < height; ++y)
      for (std::int64_t x = 0; x < width; ++x)
        o[(c * height + y) * width + x] = s[(c * in_h + reflect(y - pad, in_h)) * in_w + reflect(x - pad, in_w)];
  return out;
}

Tensor flip_horizontal(const Tensor& image) {
  Tensor out = raw::clone(checked_image(image, "flip_horizontal"));
  const std::int64_t rows = out.size(0) * out.size(1), width = out.size(2);
  float* o = out.data<float>();
  for (std::int64_t r = 0; r < rows; ++r) std::reverse(o + r * width, o + (r + 1) * width);
  return out;
}

Tensor flip_vertical(const Tensor& image) {
  Tensor out = raw::clone(checked_image(image, "flip_vertical"));
  const std::int64_t channels = out.size(0), height = out.size(1), width = out.size(2);
  float* o = out.data<float>();
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::int64_t y = 0; y < height / 2; ++y)
      std::swap_ranges(o + (c * height + y) * width, o + (c * height + y + 1) * width,
                       o + (c * height + height - 1 - y) * width);
  return out;
}

Tensor warp_affine(const Tensor& image, const Affine& m, float fill) {
  const Tensor src = checked_image(image, "warp_affine");
  const std::int64_t channels = src.size(0), height = src.size(1), width = src.size(2);
  Tensor out = empty(Shape{channels, height, width});
  const float* s = src.data<float>();
  float* o = out.data<float>();
  for (std::int64_t y = 0; y < height; ++y)
    for (std::int64_t x = 0; x < width; ++x) {
      const double sx = m.a * static_cast<double>(x) + m.b * static_cast<double>(y) + m.c;
      const double sy = m.d * static_cast<double>(x) + m.e * static_cast<double>(y) + m.f;
      const double fx = std::floor(sx), fy = std::floor(sy);
      const double wx = sx - fx, wy = sy - fy;
      // Far outside (also NaN coordinates from a degenerate map): all fill, and no index overflow below.
      if (!(fx >= -1 && fx < static_cast<double>(width) && fy >= -1 && fy < static_cast<double>(height))) {
        for (std::int64_t c = 0; c < channels; ++c) o[(c * height + y) * width + x] = fill;
        continue;
      }
      const auto x0 = static_cast<std::int64_t>(fx), y0 = static_cast<std::int64_t>(fy);
      const bool in_x0 = x0 >= 0, in_x1 = x0 + 1 < width, in_y0 = y0 >= 0, in_y1 = y0 + 1 < height;
      for (std::int64_t c = 0; c < channels; ++c) {
        const float* plane = s + c * height * width;
        const double v00 = in_y0 && in_x0 ? plane[y0 * width + x0] : fill;
        const double v01 = in_y0 && in_x1 ? plane[y0 * width + x0 + 1] : fill;
        const double v10 = in_y1 && in_x0 ? plane[(y0 + 1) * width + x0] : fill;
        const double v11 = in_y1 && in_x1 ? plane[(y0 + 1) * width + x0 + 1] : fill;
        const double top = v00 + wx * (v01 - v00), bottom = v10 + wx * (v11 - v10);
        o[(c * height + y) * width + x] = static_cast<float>(top + wy * (bottom - top));
      }
    }
  return out;
}

Tensor rotate(const Tensor& image, double degrees, float fill) {
  VIGIL_CHECK(image.defined() && image.dim() == 3, ShapeError, "rotate: expected an image [C, H, W], got shape {}",
              image.defined() ? image.shape().str() : "undefined");
  // Output offset (u, v) from the centre comes from input offset R(-theta) (u, v), with y pointing down:
  //   x_in = cos t u - sin t v,  y_in = sin t u + cos t v.
  // sin and cos of multiples of 90 degrees are snapped to exact 0 / +-1 so those rotations are exact permutations.
  const double t = degrees * std::numbers::pi / 180.0;
  const auto snap = [](double v) {
    return std::abs(v) < 1e-12 ? 0.0 : (std::abs(std::abs(v) - 1) < 1e-12 ? std::round(v) : v);
  };
  const double cos_t = snap(std::cos(t)), sin_t = snap(std::sin(t));
  const double cx = static_cast<double>(image.size(2) - 1) / 2, cy = static_cast<double>(image.size(1) - 1) / 2;
  Affine m;
  m.a = cos_t;
  m.b = -sin_t;
  m.c = cx - cos_t * cx + sin_t * cy;
  m.d = sin_t;
  m.e = cos_t;
  m.f = cy - sin_t * cx - cos_t * cy;
  return warp_affine(image, m, fill);
}

Tensor scale_translate(const Tensor& image, double scale, double dx, double dy, float fill) {
  VIGIL_CHECK(image.defined() && image.dim() == 3, ShapeError,
              "scale_translate: expected an image [C, H, W], got shape {}",
              image.defined() ? image.shape().str() : "undefined");
  VIGIL_CHECK(scale > 0, Error, "scale_translate: scale must be > 0, got {}", scale);
  // out = s (in - centre) + centre + shift, so in = (out - centre - shift) / s + centre.
  const double cx = static_cast<double>(image.size(2) - 1) / 2, cy = static_cast<double>(image.size(1) - 1) / 2;
  Affine m;
  m.a = 1 / scale;
  m.c = cx - (cx + dx) / scale;
  m.e = 1 / scale;
  m.f = cy - (cy + dy) / scale;
  return warp_affine(image, m, fill);
}

Tensor adjust_brightness(const Tensor& image, double factor, float max_value) {
  Tensor out = raw::clone(checked_image(image, "adjust_brightness"));
  check_gray_or_rgb(out, "adjust_brightness");
  float* o = out.data<float>();
  for (std::int64_t i = 0; i < out.numel(); ++i) o[i] = clamp_value(o[i] * factor, max_value);
  return out;
}

Tensor adjust_contrast(const Tensor& image, double factor, float max_value) {
  Tensor out = raw::clone(checked_image(image, "adjust_contrast"));
  check_gray_or_rgb(out, "adjust_contrast");
  const std::int64_t plane = out.size(1) * out.size(2);
  float* o = out.data<float>();
  double sum = 0;
  for (std::int64_t i = 0; i < plane; ++i)
    sum += out.size(0) == 3 ? luma(o[i], o[plane + i], o[2 * plane + i]) : o[i];
  const double mean = plane > 0 ? sum / static_cast<double>(plane) : 0.0;
  for (std::int64_t i = 0; i < out.numel(); ++i) o[i] = clamp_value(factor * o[i] + (1 - factor) * mean, max_value);
  return out;
}

Tensor adjust_saturation(const Tensor& image, double factor, float max_value) {
  Tensor out = raw::clone(checked_image(image, "adjust_saturation"));
  check_rgb(out, "adjust_saturation");
  const std::int64_t plane = out.size(1) * out.size(2);
  float* o = out.data<float>();
  for (std::int64_t i = 0; i < plane; ++i) {
    const double gray = luma(o[i], o[plane + i], o[2 * plane + i]);
    for (std::int64_t c = 0; c < 3; ++c)
      o[c * plane + i] = clamp_value(factor * o[c * plane + i] + (1 - factor) * gray, max_value);
  }
  return out;
}

Tensor adjust_hue(const Tensor& image, double shift, float max_value) {
  VIGIL_CHECK(shift >= -0.5 && shift <= 0.5, Error, "adjust_hue: shift must be in [-0.5, 0.5] turns, got {}", shift);
  Tensor out = raw::clone(checked_image(image, "adjust_hue"));
  check_rgb(out, "adjust_hue");
  const std::int64_t plane = out.size(1) * out.size(2);
  float* o = out.data<float>();
  for (std::int64_t i = 0; i < plane; ++i) {
    // RGB -> HSV (hue in turns), rotate the hue, HSV -> RGB. Scale-free: v is the largest channel.
    const double r = o[i], g = o[plane + i], b = o[2 * plane + i];
    const double v = std::max({r, g, b}), delta = v - std::min({r, g, b});
    if (!(delta > 0)) continue;  // gray pixel: no hue to rotate
    const double s = delta / v;
    double h = v == r ? (g - b) / delta : (v == g ? (b - r) / delta + 2 : (r - g) / delta + 4);
    h = h / 6 + shift;
    h -= std::floor(h);
    const double sector = h * 6, i_sector = std::floor(sector), frac = sector - i_sector;
    const double p = v * (1 - s), q = v * (1 - s * frac), t = v * (1 - s * (1 - frac));
    double rgb[3];
    switch (static_cast<int>(i_sector) % 6) {
      case 0: rgb[0] = v, rgb[1] = t, rgb[2] = p; break;
      case 1: rgb[0] = q, rgb[1] = v, rgb[2] = p; break;
      case 2: rgb[0] = p, rgb[1] = v, rgb[2] = t; break;
      case 3: rgb[0] = p, rgb[1] = q, rgb[2] = v; break;
      case 4: rgb[0] = t, rgb[1] = p, rgb[2] = v; break;
      default: rgb[0] = v, rgb[1] = p, rgb[2] = q; break;
    }
    for (std::int64_t c = 0; c < 3; ++c) o[c * plane + i] = clamp_value(rgb[c], max_value);
  }
  return out;
}

}  // namespace vigil::data
