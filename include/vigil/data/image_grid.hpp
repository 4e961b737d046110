// Contact sheets: a batch drawn as a PNG grid of its images, exactly as they enter the network, with a caption
// under each tile. For checking a data pipeline by eye (are the augmentations sane, do labels match images).
//
// Layout: tiles in row-major order, `columns` per row. Each tile is the image, each pixel repeated `scale` x
// `scale` times, min-max rescaled per image to 0-255 (over all its channels together, so colours keep their
// balance; a constant image is drawn black). Under each tile is a 9-pixel caption strip (black, text white,
// drawn in a built-in 5 x 7 font: digits, A-Z with lower case drawn as upper, space and - _ . : / % ( ) + ' #;
// anything else as '?'), cut to the characters that fit the tile's width (6 pixels a character). Tiles sit
// kGridGap pixels apart on a grey (64) background, with the same margin outside.
// The PNG is gray for 1-channel images and RGB for 3-channel ones, written atomically (temporary file + rename).
#pragma once

#include <vigil/data/dataset.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::data {

inline constexpr std::int64_t kGridGap = 2;
inline constexpr std::int64_t kGridCaptionHeight = 9;

// images [N, C, H, W] float with C = 1 or 3; captions empty or N strings; columns >= 1; scale >= 1.
// image_grid returns the grid as a [C, H', W'] image with values in 0-255 (for TensorBoard, say).
Tensor image_grid(const Tensor& images, const std::vector<std::string>& captions, std::int64_t columns = 8,
                  std::int64_t scale = 1);
void write_image_grid_png(const std::string& path, const Tensor& images, const std::vector<std::string>& captions,
                          std::int64_t columns = 8, std::int64_t scale = 1);

// The batch's inputs captioned by their targets: int64 labels [N] as class_names[label] (the number itself when
// class_names is empty), soft targets [N, K] as the most probable class followed by its percentage when below
// 100 ("CAT 62%", mixup/cutmix batches).
void write_batch_grid_png(const std::string& path, const Batch& batch, const std::vector<std::string>& class_names,
                          std::int64_t columns = 8, std::int64_t scale = 1);

}  // namespace vigil::data
