// Deterministic image operations on float [C, H, W] tensors: channel conversion, resizing, cropping, padding,
// flips, affine resampling and colour adjustments. The random augmentations (augment.hpp) draw their parameters
// and call these; the dataset readers use them to bring every image to one shape.
//
// Every function takes a float32 or float64 image [C, H, W] of any layout and returns a new contiguous float32
// tensor (never a view of the input, so a transform cannot write into a dataset's stored images). A wrong rank
// throws ShapeError naming the function and the shape.
//
// Coordinates: pixel (y, x) has its centre at (y, x); the image covers [-0.5, H - 0.5] x [-0.5, W - 0.5]. The
// centre of the image is ((H - 1) / 2, (W - 1) / 2).
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <cstdint>

namespace vigil::data {

// To 1 or 3 channels from 1, 2 (gray + alpha), 3 or 4 (RGBA). Alpha is dropped (not composited). RGB to gray is
// the ITU-R 601 luma 0.299 R + 0.587 G + 0.114 B (PIL's "L" and torchvision's rgb_to_grayscale); gray to RGB
// repeats the plane.
Tensor convert_channels(const Tensor& image, std::int64_t channels);

// Bilinear resize to [C, height, width] with half-pixel centres (PyTorch interpolate, align_corners=False, no
// antialiasing: shrinking by more than 2x skips pixels, as it does there). Samples beyond the edge clamp to it.
Tensor resize_bilinear(const Tensor& image, std::int64_t height, std::int64_t width);

// The height x width window at the image's centre, top = floor((H - height) / 2) and likewise left (torchvision
// rounds half to even instead, so for an odd difference its window can sit one pixel lower / further right);
// where the image is smaller than the window, the outside is `fill`.
Tensor center_crop(const Tensor& image, std::int64_t height, std::int64_t width, float fill = 0.0f);

// The window rows [top, top + height), columns [left, left + width); parts outside the image are `fill`.
Tensor crop(const Tensor& image, std::int64_t top, std::int64_t left, std::int64_t height, std::int64_t width,
            float fill = 0.0f);

// Padding modes: Constant fills with a value; Reflect mirrors about the edge pixel without repeating it
// (pad 2 of [a b c d] gives [c b a b c d c b], NumPy/PyTorch "reflect"; needs pad < H and pad < W).
enum class PadMode { Constant, Reflect };
// [C, H + 2 pad, W + 2 pad].
Tensor pad_image(const Tensor& image, std::int64_t pad, PadMode mode, float fill = 0.0f);

Tensor flip_horizontal(const Tensor& image);  // mirrors left-right (W axis)
Tensor flip_vertical(const Tensor& image);    // mirrors top-bottom (H axis)

// An affine map of pixel coordinates: (x, y) -> (a x + b y + c, d x + e y + f).
struct Affine {
  double a = 1, b = 0, c = 0;
  double d = 0, e = 1, f = 0;
};
// out(y, x) = the image sampled bilinearly at `output_to_input`(x, y); neighbours outside the image count as
// `fill`, so a sample point well outside gives fill and the border blends into it over one pixel.
Tensor warp_affine(const Tensor& image, const Affine& output_to_input, float fill = 0.0f);
// Rotates counter-clockwise (as seen with y down, torchvision's sense) by `degrees` about the image centre. A
// multiple of 90 on a square image moves pixel centres onto pixel centres: it equals the exact rot90.
Tensor rotate(const Tensor& image, double degrees, float fill = 0.0f);
// Scales by `scale` about the centre, then shifts by (dx, dy) pixels (right, down).
Tensor scale_translate(const Tensor& image, double scale, double dx, double dy, float fill = 0.0f);

// Colour adjustments, torchvision's definitions, clamping the result to [0, max_value] (255 for decoded images,
// 1 after scaling to [0, 1]). Brightness and contrast take 1- or 3-channel images; saturation and hue need RGB
// (Error otherwise, naming the shape).
//   brightness: image * factor
//   contrast:   factor * image + (1 - factor) * mean(gray(image))
//   saturation: factor * image + (1 - factor) * gray(image)           (per pixel)
//   hue:        the HSV hue rotated by `shift` turns (shift in [-0.5, 0.5])
Tensor adjust_brightness(const Tensor& image, double factor, float max_value = 255.0f);
Tensor adjust_contrast(const Tensor& image, double factor, float max_value = 255.0f);
Tensor adjust_saturation(const Tensor& image, double factor, float max_value = 255.0f);
Tensor adjust_hue(const Tensor& image, double shift, float max_value = 255.0f);

}  // namespace vigil::data
