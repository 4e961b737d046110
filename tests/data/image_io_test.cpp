// PNG / JPEG codecs: round trips, every PNG colour type the decoder expands, the pixel cap, and corrupt or
// truncated files naming the file instead of crashing.
#include <vigil/data/image_io.hpp>

#include <gtest/gtest.h>
#include <png.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace vigil::data {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("vigil_image_io_test_" + name)).string();
}

void write_bytes(const std::string& path, const std::vector<unsigned char>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// A [C, H, W] image with distinct integer values 0-255.
Tensor test_image(std::int64_t c, std::int64_t h, std::int64_t w) {
  std::vector<float> v(static_cast<std::size_t>(c * h * w));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 37 + 11) % 256);
  return from_vector(v, Shape{c, h, w});
}

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

// A PNG written directly with libpng, for colour types encode_png does not produce.
std::vector<unsigned char> libpng_encode(int width, int height, int color_type, int bit_depth,
                                         const std::vector<unsigned char>& rows_bytes,
                                         const std::vector<png_color>& palette = {},
                                         const std::vector<unsigned char>& trans = {}) {
  std::vector<unsigned char> out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_set_write_fn(
      png, &out,
      [](png_structp p, png_bytep data, png_size_t n) {
        auto* v = static_cast<std::vector<unsigned char>*>(png_get_io_ptr(p));
        v->insert(v->end(), data, data + n);
      },
      nullptr);
  png_set_IHDR(png, info, width, height, bit_depth, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (!palette.empty()) png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
  if (!trans.empty()) png_set_tRNS(png, info, trans.data(), static_cast<int>(trans.size()), nullptr);
  png_write_info(png, info);
  const std::size_t stride = rows_bytes.size() / static_cast<std::size_t>(height);
  for (int y = 0; y < height; ++y) png_write_row(png, const_cast<unsigned char*>(rows_bytes.data()) + y * stride);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

TEST(ImageIo, PngRoundTripsGrayAndRgbExactly) {
  for (const std::int64_t c : {1, 3}) {
    const Tensor image = test_image(c, 5, 7);
    const Tensor back = decode_png(encode_png(image), "memory");
    EXPECT_EQ(back.shape(), image.shape());
    EXPECT_EQ(back.to_vector(), image.to_vector());
  }
}

TEST(ImageIo, PngEncodeRoundsAndClamps) {
  const Tensor image = from_vector(std::vector<float>{-3.0f, 0.4f, 0.6f, 254.5f, 300.0f, NAN}, Shape{1, 2, 3});
  EXPECT_EQ(decode_png(encode_png(image), "memory").to_vector(), (std::vector<float>{0, 0, 1, 255, 255, 0}));
}

TEST(ImageIo, PngEncodeAcceptsNonContiguousFloat64) {
  const Tensor image = raw::to_dtype(test_image(1, 4, 6), DType::Float64);
  const Tensor transposed = raw::transpose(image, 1, 2);  // [1, 6, 4]
  EXPECT_EQ(decode_png(encode_png(transposed), "memory").to_vector(), raw::contiguous(transposed).to_vector());
}

TEST(ImageIo, PngDecodesGrayAlphaRgbaPaletteLowBitAnd16Bit) {
  // Gray + alpha: 2 channels.
  const Tensor ga = decode_png(libpng_encode(2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, {10, 20, 30, 40}), "ga");
  EXPECT_EQ(ga.shape(), (Shape{2, 1, 2}));
  EXPECT_EQ(ga.to_vector(), (std::vector<float>{10, 30, 20, 40}));
  // RGBA: 4 channels.
  const Tensor rgba = decode_png(libpng_encode(1, 1, PNG_COLOR_TYPE_RGBA, 8, {1, 2, 3, 4}), "rgba");
  EXPECT_EQ(rgba.to_vector(), (std::vector<float>{1, 2, 3, 4}));
  // Palette without and with transparency.
  const std::vector<png_color> palette = {{255, 0, 0}, {0, 128, 255}};
  const Tensor pal = decode_png(libpng_encode(2, 1, PNG_COLOR_TYPE_PALETTE, 8, {1, 0}, palette), "pal");
  EXPECT_EQ(pal.shape(), (Shape{3, 1, 2}));
  EXPECT_EQ(pal.to_vector(), (std::vector<float>{0, 255, 128, 0, 255, 0}));
  const Tensor palt = decode_png(libpng_encode(2, 1, PNG_COLOR_TYPE_PALETTE, 8, {1, 0}, palette, {7, 200}), "palt");
  EXPECT_EQ(palt.shape(), (Shape{4, 1, 2}));
  EXPECT_EQ(palt.to_vector(), (std::vector<float>{0, 255, 128, 0, 255, 0, 200, 7}));
  // 1-bit gray widens to 0 / 255: the byte 0b10100000 holds pixels 1, 0, 1, 0.
  const Tensor bits = decode_png(libpng_encode(4, 1, PNG_COLOR_TYPE_GRAY, 1, {0xa0}), "bits");
  EXPECT_EQ(bits.to_vector(), (std::vector<float>{255, 0, 255, 0}));
  // 16-bit gray scales to 8 bits: 0xffff -> 255, 0x8080 -> 128, 0 -> 0.
  const Tensor wide = decode_png(libpng_encode(3, 1, PNG_COLOR_TYPE_GRAY, 16, {0xff, 0xff, 0x80, 0x80, 0, 0}), "16");
  EXPECT_EQ(wide.to_vector(), (std::vector<float>{255, 128, 0}));
}

TEST(ImageIo, JpegRoundTripIsClose) {
  // A smooth image, which JPEG keeps well at high quality.
  std::vector<float> v;
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 16; ++y)
      for (int x = 0; x < 16; ++x) v.push_back(static_cast<float>(40 + 8 * x + 4 * y + 20 * c));
  const Tensor image = from_vector(v, Shape{3, 16, 16});
  const Tensor back = decode_jpeg(encode_jpeg(image, 100), "memory");
  EXPECT_EQ(back.shape(), image.shape());
  EXPECT_TRUE(allclose(back, image, 0.0, 6.0));
  const Tensor gray = raw::narrow(image, 0, 0, 1);
  const Tensor gray_back = decode_jpeg(encode_jpeg(gray, 95), "memory");
  EXPECT_EQ(gray_back.shape(), (Shape{1, 16, 16}));
  EXPECT_TRUE(allclose(gray_back, gray, 0.0, 4.0));
}

TEST(ImageIo, ReadImageDetectsTheFormatByContent) {
  const Tensor image = test_image(3, 8, 8);
  const std::string png = temp_path("really_png.jpg"), jpeg = temp_path("really_jpeg.png");
  write_bytes(png, encode_png(image));
  write_bytes(jpeg, encode_jpeg(image));
  EXPECT_EQ(read_image(png).to_vector(), image.to_vector());
  EXPECT_EQ(read_image(jpeg).shape(), image.shape());
}

TEST(ImageIo, TruncatedAndCorruptFilesNameTheFile) {
  const Tensor image = test_image(3, 32, 32);
  const std::vector<unsigned char> png = encode_png(image), jpeg = encode_jpeg(image);
  for (const auto& [name, bytes] : {std::pair{std::string("png"), png}, std::pair{std::string("jpeg"), jpeg}}) {
    // Truncations at several points, from inside the header to just before the end.
    for (const double keep : {0.02, 0.1, 0.5, 0.9, 0.99}) {
      const std::string path = temp_path("truncated_" + name);
      write_bytes(path,
                  std::vector<unsigned char>(bytes.begin(), bytes.begin() + static_cast<long>(bytes.size() * keep)));
      const std::string message = error_of([&] { (void)read_image(path); });
      EXPECT_NE(message.find(path), std::string::npos) << name << " keep " << keep << ": " << message;
    }
    // Garbage over the compressed data: PNG's checksums always catch it; JPEG has none, so a corrupt JPEG either
    // throws naming the file or decodes to some image of the right shape, and never crashes.
    for (std::size_t start = bytes.size() / 4; start + 40 < bytes.size(); start += bytes.size() / 8) {
      std::vector<unsigned char> corrupt = bytes;
      for (std::size_t i = start; i < start + 40; ++i) corrupt[i] ^= 0x5a;
      const std::string path = temp_path("corrupt_" + name);
      write_bytes(path, corrupt);
      const std::string message = error_of([&] { (void)read_image(path); });
      if (name == "png" || message != "no error") {
        EXPECT_NE(message.find(path), std::string::npos) << name << " at " << start << ": " << message;
      }
    }
  }
  // An end-of-image marker halfway through a JPEG's scan data: libjpeg only warns, vigil throws.
  std::vector<unsigned char> cut = jpeg;
  cut[cut.size() / 2] = 0xff;
  cut[cut.size() / 2 + 1] = 0xd9;
  const std::string path = temp_path("early_eoi.jpg");
  write_bytes(path, cut);
  const std::string message = error_of([&] { (void)read_image(path); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("corrupt JPEG"), std::string::npos) << message;
}

TEST(ImageIo, MissingAndUnknownFilesNameTheFile) {
  const std::string missing = temp_path("missing.png");
  std::filesystem::remove(missing);
  EXPECT_NE(error_of([&] { (void)read_image(missing); }).find(missing), std::string::npos);
  const std::string text = temp_path("text.png");
  write_bytes(text, {'h', 'e', 'l', 'l', 'o'});
  const std::string message = error_of([&] { (void)read_image(text); });
  EXPECT_NE(message.find(text), std::string::npos);
  EXPECT_NE(message.find("neither a PNG nor a JPEG"), std::string::npos);
  const std::string empty_file = temp_path("empty.jpg");
  write_bytes(empty_file, {});
  EXPECT_NE(error_of([&] { (void)read_image(empty_file); }).find(empty_file), std::string::npos);
}

TEST(ImageIo, PixelCapRefusesLargeImages) {
  const Tensor image = test_image(1, 10, 10);
  for (const auto& bytes : {encode_png(image), encode_jpeg(image)}) {
    const bool is_png = bytes[0] == 0x89;
    const auto decode = [&](std::int64_t cap) {
      return is_png ? decode_png(bytes, "big", cap) : decode_jpeg(bytes, "big", cap);
    };
    EXPECT_EQ(decode(100).shape(), (Shape{1, 10, 10}));
    const std::string message = error_of([&] { (void)decode(99); });
    EXPECT_NE(message.find("big"), std::string::npos);
    EXPECT_NE(message.find("above the limit of 99 pixels"), std::string::npos) << message;
  }
}

// Headers that declare a huge image in a few bytes are refused before any pixel memory is allocated.
TEST(ImageIo, DecompressionBombsAreRefusedByTheDefaultCap) {
  std::vector<unsigned char> png = encode_png(test_image(1, 4, 4));
  // IHDR: width at bytes 16-19, height at 20-23 (big-endian), CRC over bytes 12-28 stored at 29-32.
  for (const int at : {16, 20}) {
    png[at] = 0x00, png[at + 1] = 0x01, png[at + 2] = 0x86, png[at + 3] = 0xa0;  // 100000
  }
  const auto crc = static_cast<std::uint32_t>(crc32(0, png.data() + 12, 17));
  for (int i = 0; i < 4; ++i) png[static_cast<std::size_t>(29 + i)] = static_cast<unsigned char>(crc >> (24 - 8 * i));
  EXPECT_NE(error_of([&] { (void)decode_png(png, "bomb.png"); }).find("100000 x 100000"), std::string::npos);

  std::vector<unsigned char> jpeg = encode_jpeg(test_image(1, 8, 8));
  // Baseline SOF0 (FF C0): length (2), precision (1), height (2), width (2).
  for (std::size_t i = 2; i + 8 < jpeg.size(); ++i)
    if (jpeg[i] == 0xff && jpeg[i + 1] == 0xc0) {
      jpeg[i + 5] = jpeg[i + 7] = 0xfd;
      jpeg[i + 6] = jpeg[i + 8] = 0xe8;  // 65000
      break;
    }
  const std::string message = error_of([&] { (void)decode_jpeg(jpeg, "bomb.jpg"); });
  EXPECT_NE(message.find("bomb.jpg"), std::string::npos) << message;
  EXPECT_NE(message.find("above the limit"), std::string::npos) << message;
}

TEST(ImageIo, EncodeRejectsBadShapes) {
  EXPECT_THROW((void)encode_png(zeros(Shape{2, 4, 4})), ShapeError);
  EXPECT_THROW((void)encode_png(zeros(Shape{4, 4})), ShapeError);
  EXPECT_THROW((void)encode_jpeg(zeros(Shape{4, 4, 4})), ShapeError);
  EXPECT_THROW((void)encode_jpeg(zeros(Shape{1, 4, 4}), 0), Error);
  EXPECT_THROW((void)encode_png(zeros(Shape{1, 4, 4}, TensorOptions{DType::Int64})), DTypeError);
}

TEST(ImageIo, WritePngIsAtomicAndLeavesNoTemporary) {
  const std::string dir = temp_path("atomic_dir");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/out.png";
  write_png(path, test_image(3, 4, 4));
  write_png(path, test_image(1, 2, 2));  // replaces the first
  EXPECT_EQ(read_image(path).shape(), (Shape{1, 2, 2}));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()), 1);
  const std::string message = error_of([&] { write_png(dir + "/no/such/dir/x.png", test_image(1, 2, 2)); });
  EXPECT_NE(message.find("no/such/dir/x.png"), std::string::npos);
}

}  // namespace
}  // namespace vigil::data
