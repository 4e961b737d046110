// ImageFolder: the directory listing at construction, decoding and resizing per get().
#include <vigil/data/image_folder.hpp>

#include <vigil/data/image_ops.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace vigil::data {
namespace {

bool is_image_file(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

bool is_hidden(const std::filesystem::path& path) { return path.filename().string().starts_with('.'); }

// The entries of `dir`, sorted, for which keep(entry) holds; a listing failure (permissions) throws Error naming
// the directory instead of std::filesystem's own exception.
template <class Keep>
std::vector<std::filesystem::path> list_sorted(const std::string& root, const std::filesystem::path& dir, Keep keep) {
  std::vector<std::filesystem::path> out;
  std::error_code error;
  for (std::filesystem::directory_iterator it(dir, error), end; !error && it != end; it.increment(error))
    if (!is_hidden(it->path()) && keep(*it)) out.push_back(it->path());
  VIGIL_CHECK(!error, Error, "ImageFolder {}: cannot list {}: {}", root, dir.string(), error.message());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

ImageFolder::ImageFolder(std::string root, ImageFolderOptions options) : root_(std::move(root)), options_(options) {
  namespace fs = std::filesystem;
  VIGIL_CHECK(options_.channels == 1 || options_.channels == 3, Error,
              "ImageFolder {}: channels must be 1 or 3, got {}", root_, options_.channels);
  VIGIL_CHECK(options_.height > 0 && options_.width > 0, Error,
              "ImageFolder {}: the output size must be positive, got {} x {}", root_, options_.height, options_.width);
  std::error_code error;
  VIGIL_CHECK(fs::is_directory(root_, error), Error, "ImageFolder {}: not a directory", root_);

  const std::vector<fs::path> class_dirs =
      list_sorted(root_, root_, [](const fs::directory_entry& entry) { return entry.is_directory(); });
  VIGIL_CHECK(!class_dirs.empty(), Error, "ImageFolder {}: no class sub-directories", root_);

  for (const fs::path& dir : class_dirs) {
    const std::vector<fs::path> images = list_sorted(root_, dir, [](const fs::directory_entry& entry) {
      return entry.is_regular_file() && is_image_file(entry.path());
    });
    VIGIL_CHECK(!images.empty(), Error, "ImageFolder {}: class directory {} holds no .png/.jpg/.jpeg file", root_,
                dir.string());
    const auto label = static_cast<std::int64_t>(classes_.size());
    classes_.push_back(dir.filename().string());
    for (const fs::path& image : images) {
      files_.push_back(image.string());
      labels_.push_back(label);
    }
  }
}

void ImageFolder::check_index(std::int64_t index) const {
  VIGIL_CHECK(index >= 0 && index < size(), IndexError, "{}: index {} is out of range for size {}", describe(), index,
              size());
}

const std::string& ImageFolder::path(std::int64_t index) const {
  check_index(index);
  return files_[static_cast<std::size_t>(index)];
}

std::int64_t ImageFolder::label(std::int64_t index) const {
  check_index(index);
  return labels_[static_cast<std::size_t>(index)];
}

Example ImageFolder::get(std::int64_t index) const {
  const Tensor decoded = read_image(path(index), options_.max_pixels);
  const Tensor converted = convert_channels(decoded, options_.channels);
  Tensor input = options_.fit == ImageFit::Resize ? resize_bilinear(converted, options_.height, options_.width)
                                                  : center_crop(converted, options_.height, options_.width);
  const std::int64_t target = label(index);
  return Example{std::move(input), from_vector_i64(std::span<const std::int64_t>(&target, 1), Shape{})};
}

std::string ImageFolder::describe() const {
  return fmt::format("ImageFolder {} ({} images, {} classes, {} x {} x {})", root_, files_.size(), classes_.size(),
                     options_.channels, options_.height, options_.width);
}

}  // namespace vigil::data
