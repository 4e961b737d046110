// ImageFolder on a directory tree written here: class order, conversion, resizing, and errors naming the file.
#include <vigil/data/image_folder.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace vigil::data {
namespace {

namespace fs = std::filesystem;

void write_bytes(const fs::path& path, const std::vector<unsigned char>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// root/cat: a.png (gray 4 x 6, all 10), b.JPG (RGB 8 x 8, smooth); root/dog: z.png (RGB 2 x 2);
// root/.hidden/x.png and root/cat/notes.txt are ignored.
fs::path make_tree(const std::string& name) {
  const fs::path root = fs::temp_directory_path() / ("vigil_image_folder_test_" + name);
  fs::remove_all(root);
  fs::create_directories(root / "cat");
  fs::create_directories(root / "dog");
  fs::create_directories(root / ".hidden");
  write_bytes(root / "cat" / "a.png", encode_png(full(Shape{1, 4, 6}, 10)));
  std::vector<float> smooth;
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 64; ++i) smooth.push_back(static_cast<float>(60 + 2 * i + 30 * c));
  write_bytes(root / "cat" / "b.JPG", encode_jpeg(from_vector(smooth, Shape{3, 8, 8}), 100));
  write_bytes(root / "cat" / "notes.txt", {'h', 'i'});
  write_bytes(root / "dog" / "z.png",
              encode_png(from_vector(std::vector<float>{255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 0}, Shape{3, 2, 2})));
  write_bytes(root / ".hidden" / "x.png", encode_png(zeros(Shape{1, 2, 2})));
  return root;
}

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ImageFolder, ListsClassesSortedAndLabelsInOrder) {
  const fs::path root = make_tree("list");
  const ImageFolder folder(root.string(), ImageFolderOptions{3, 4, 4});
  EXPECT_EQ(folder.classes(), (std::vector<std::string>{"cat", "dog"}));
  ASSERT_EQ(folder.size(), 3);
  EXPECT_EQ(fs::path(folder.path(0)).filename(), "a.png");
  EXPECT_EQ(fs::path(folder.path(1)).filename(), "b.JPG");
  EXPECT_EQ(fs::path(folder.path(2)).filename(), "z.png");
  EXPECT_EQ(folder.label(0), 0);
  EXPECT_EQ(folder.label(1), 0);
  EXPECT_EQ(folder.label(2), 1);
  const Example e = folder.get(2);
  EXPECT_EQ(e.target.dtype(), DType::Int64);
  EXPECT_EQ(e.target.dim(), 0);
  EXPECT_EQ(e.target.item(), 1.0f);
  EXPECT_NE(folder.describe().find(root.string()), std::string::npos);
  EXPECT_THROW((void)folder.get(3), IndexError);
  EXPECT_THROW((void)folder.get(-1), IndexError);
}

TEST(ImageFolder, ConvertsChannelsAndResizes) {
  const fs::path root = make_tree("convert");
  const ImageFolder rgb(root.string(), ImageFolderOptions{3, 4, 4});
  for (std::int64_t i = 0; i < rgb.size(); ++i) EXPECT_EQ(rgb.get(i).input.shape(), (Shape{3, 4, 4}));
  // The constant gray image stays constant through conversion and resizing.
  for (const float v : rgb.get(0).input.to_vector()) EXPECT_FLOAT_EQ(v, 10.0f);
  const ImageFolder gray(root.string(), ImageFolderOptions{1, 2, 2});
  // Upsampled 2 x 2 RGB -> 2 x 2 gray: pixel 0 was red.
  const std::vector<float> dog = gray.get(2).input.to_vector();
  ASSERT_EQ(dog.size(), 4u);
  EXPECT_NEAR(dog[0], 0.299 * 255, 1e-3);
  EXPECT_NEAR(dog[1], 0.587 * 255, 1e-3);
  EXPECT_NEAR(dog[2], 0.114 * 255, 1e-3);
  EXPECT_NEAR(dog[3], 0.0, 1e-3);
}

TEST(ImageFolder, CenterCropTakesTheMiddle) {
  const fs::path root = make_tree("crop");
  const ImageFolder folder(root.string(), ImageFolderOptions{3, 4, 4, ImageFit::CenterCrop});
  // The 2 x 2 dog image sits in the middle of a zero 4 x 4 window.
  const std::vector<float> dog = folder.get(2).input.to_vector();
  EXPECT_EQ(std::vector<float>(dog.begin(), dog.begin() + 16),
            (std::vector<float>{0, 0, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  // The 8 x 8 JPEG: rows and columns 2..5.
  EXPECT_EQ(folder.get(1).input.shape(), (Shape{3, 4, 4}));
}

TEST(ImageFolder, TruncatedImageErrorNamesTheFile) {
  const fs::path root = make_tree("truncated");
  const fs::path bad = root / "dog" / "z.png";
  const auto size = fs::file_size(bad);
  fs::resize_file(bad, size / 2);
  const ImageFolder folder(root.string(), ImageFolderOptions{3, 4, 4});
  EXPECT_NO_THROW((void)folder.get(0));
  const std::string message = error_of([&] { (void)folder.get(2); });
  EXPECT_NE(message.find(bad.string()), std::string::npos) << message;
  // A truncated JPEG too.
  const fs::path jpeg = root / "cat" / "b.JPG";
  fs::resize_file(jpeg, fs::file_size(jpeg) - 10);
  const std::string jpeg_message = error_of([&] { (void)folder.get(1); });
  EXPECT_NE(jpeg_message.find(jpeg.string()), std::string::npos) << jpeg_message;
}

TEST(ImageFolder, BadTreesAndOptionsThrow) {
  const fs::path root = make_tree("bad");
  EXPECT_NE(error_of([&] { ImageFolder((root / "missing").string(), ImageFolderOptions{3, 4, 4}); }).find("missing"),
            std::string::npos);
  EXPECT_NE(error_of([&] { ImageFolder(root.string(), ImageFolderOptions{2, 4, 4}); }).find("channels"),
            std::string::npos);
  EXPECT_THROW(ImageFolder(root.string(), ImageFolderOptions{3, 0, 4}), Error);
  fs::create_directories(root / "empty_class");
  const std::string message = error_of([&] { ImageFolder(root.string(), ImageFolderOptions{3, 4, 4}); });
  EXPECT_NE(message.find("empty_class"), std::string::npos) << message;
  const fs::path no_classes = fs::temp_directory_path() / "vigil_image_folder_test_no_classes";
  fs::remove_all(no_classes);
  fs::create_directories(no_classes);
  EXPECT_THROW(ImageFolder(no_classes.string(), ImageFolderOptions{3, 4, 4}), Error);
}

}  // namespace
}  // namespace vigil::data
