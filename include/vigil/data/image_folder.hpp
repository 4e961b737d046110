// ImageFolder: a directory of class sub-directories of images, as torchvision's ImageFolder.
//
//   root/cat/001.png
//   root/cat/002.jpg
//   root/dog/xyz.jpeg
//
// Classes are the sub-directories, sorted by name: class i is classes()[i]. Within a class, files are sorted by
// name; the dataset's order is class by class. Files ending .png, .jpg or .jpeg (any case) are images; other
// files and hidden entries (names starting with '.') are ignored. The listing is made once, at construction.
//
// get(i) decodes the file (read_image: by content, PNG or JPEG), converts it to `channels` (1 or 3, see
// convert_channels), then brings it to height x width:
//   Resize      bilinear resize, aspect ratio not kept
//   CenterCrop  the centre window, filled with 0 where the image is smaller
// and returns input float32 [channels, height, width] with values 0-255, target a 0-d int64 class index.
// Errors name the file: an unreadable or corrupt image throws from get(), not from the constructor, so one bad
// file is reported when it is met (a DataLoader reports the index with it).
#pragma once

#include <vigil/data/dataset.hpp>
#include <vigil/data/image_io.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::data {

enum class ImageFit { Resize, CenterCrop };

struct ImageFolderOptions {
  std::int64_t channels = 3;  // 1 or 3
  std::int64_t height = 0;    // > 0
  std::int64_t width = 0;     // > 0
  ImageFit fit = ImageFit::Resize;
  std::int64_t max_pixels = kDefaultMaxImagePixels;
};

class ImageFolder final : public Dataset {
 public:
  // Throws Error when root is not a directory, has no class directories, or a class directory holds no image
  // (naming it); Error for options out of range.
  ImageFolder(std::string root, ImageFolderOptions options);

  std::int64_t size() const override { return static_cast<std::int64_t>(files_.size()); }
  Example get(std::int64_t index) const override;
  std::string describe() const override;

  const std::vector<std::string>& classes() const { return classes_; }
  // The file and class index of example `index` (IndexError when out of range).
  const std::string& path(std::int64_t index) const;
  std::int64_t label(std::int64_t index) const;

 private:
  void check_index(std::int64_t index) const;

  std::string root_;
  ImageFolderOptions options_;
  std::vector<std::string> classes_;
  std::vector<std::string> files_;
  std::vector<std::int64_t> labels_;
};

}  // namespace vigil::data
