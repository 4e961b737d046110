// Image files: PNG (libpng) and JPEG (libjpeg-turbo) decoding, PNG and JPEG encoding.
//
// An image in vigil is a float32 tensor [C, H, W] (channels first, as the network takes it) holding the file's
// 8-bit sample values unscaled: integers 0 to 255. Normalisation (to [0, 1], or mean/std) is a transform's job,
// so that what the decoder returns is exactly what the file holds.
//
// Decoding returns the file's own channels: 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA). PNG palettes expand
// to RGB (RGBA when the palette has transparency), gray below 8 bits widens to 8, 16-bit samples scale to 8 bits
// (v * 255 / 65535, rounded). JPEG gives gray or RGB; CMYK JPEGs are refused.
//
// Errors (vigil::Error) name the file: a missing file, a format that is neither PNG nor JPEG, a corrupt or
// truncated stream, or an image above `max_pixels`. The JPEG decoder treats libjpeg's warnings ("premature end of
// data", "corrupt data: extraneous bytes") as errors: a truncated JPEG otherwise decodes "successfully" with its
// missing rows filled grey, and a training set should not silently hold such images. Neither decoder ever calls
// exit() or crashes on bad input: the libraries' error paths longjmp back into vigil, which throws.
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace vigil::data {

// The default cap on width * height: larger images are refused before any pixel memory is allocated (a
// decompression bomb declares 100000 x 100000 in a few bytes).
inline constexpr std::int64_t kDefaultMaxImagePixels = std::int64_t{64} << 20;

// Decodes an in-memory PNG / JPEG. `name` (usually the path) is what error messages call the data.
Tensor decode_png(std::span<const unsigned char> bytes, const std::string& name,
                  std::int64_t max_pixels = kDefaultMaxImagePixels);
Tensor decode_jpeg(std::span<const unsigned char> bytes, const std::string& name,
                   std::int64_t max_pixels = kDefaultMaxImagePixels);

// Reads the file at `path` and decodes it as PNG or JPEG according to its leading signature bytes (not its
// extension).
Tensor read_image(const std::string& path, std::int64_t max_pixels = kDefaultMaxImagePixels);

// Encodes a [C, H, W] image, C = 1 (gray) or 3 (RGB), any float dtype, values rounded and clamped to 0-255.
// Throws ShapeError for another shape or channel count.
std::vector<unsigned char> encode_png(const Tensor& image);
// Baseline JPEG at `quality` (1-100), 4:2:0 chroma subsampling for RGB (libjpeg's defaults).
std::vector<unsigned char> encode_jpeg(const Tensor& image, int quality = 90);

// encode_png, then written atomically (vigil/data/atomic_file.hpp): a reader or a crash never sees half a file.
void write_png(const std::string& path, const Tensor& image);

}  // namespace vigil::data
