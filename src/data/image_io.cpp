// PNG and JPEG through libpng and libjpeg-turbo.
//
// Both libraries report errors by calling a handler that must not return; vigil's handlers record the message
// and longjmp back to a setjmp in a small "phase" function below. longjmp skips C++ destructors, so each phase
// function holds no object with one: everything that owns memory (the library structs, the pixel buffer) lives in
// the caller, which turns a failed phase into an exception after the jump has landed.
#include <vigil/data/image_io.hpp>

#include <vigil/data/atomic_file.hpp>

// clang-format off: jpeglib.h needs <cstdio> first (it uses FILE without including it).
#include <cstdio>
#include <jpeglib.h>
// clang-format on
#include <png.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>

namespace vigil::data {
namespace {

// ---- Shared helpers ----

void check_pixel_count(std::int64_t width, std::int64_t height, std::int64_t max_pixels, const std::string& name,
                       const char* format) {
  VIGIL_CHECK(width > 0 && height > 0, Error, "{}: {} declares an empty image ({} x {})", name, format, width,
              height);
  VIGIL_CHECK(width * height <= max_pixels, Error,
              "{}: {} image of {} x {} = {} pixels is above the limit of {} pixels", name, format, width, height,
              width * height, max_pixels);
}

// Interleaved 8-bit rows (H rows of W * C bytes, `stride` apart) to a float32 [C, H, W] tensor.
Tensor planar_from_interleaved(const unsigned char* pixels, std::size_t stride, std::int64_t channels,
                               std::int64_t height, std::int64_t width) {
  Tensor out = empty(Shape{channels, height, width});
  float* dst = out.data<float>();
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::int64_t y = 0; y < height; ++y) {
      const unsigned char* row = pixels + static_cast<std::size_t>(y) * stride;
      float* out_row = dst + (c * height + y) * width;
      for (std::int64_t x = 0; x < width; ++x) out_row[x] = row[x * channels + c];
    }
  return out;
}

unsigned char to_byte(float v) {
  if (!(v > 0.0f)) return 0;  // also NaN
  if (v >= 255.0f) return 255;
  return static_cast<unsigned char>(v + 0.5f);
}

struct Interleaved {
  std::int64_t channels, height, width;
  std::vector<unsigned char> bytes;  // H rows of W * C
};

// A [C, H, W] image (C = 1 or 3) as rounded, clamped interleaved bytes for an encoder.
Interleaved interleaved_from_planar(const Tensor& image, const char* op) {
  VIGIL_CHECK(image.dim() == 3 && (image.size(0) == 1 || image.size(0) == 3), ShapeError,
              "{}: expected an image [C, H, W] with C = 1 or 3, got shape {}", op, image.shape().str());
  VIGIL_CHECK(image.dtype() == DType::Float32 || image.dtype() == DType::Float64, DTypeError,
              "{}: expected a float image, got {}", op, dtype_name(image.dtype()));
  VIGIL_CHECK(image.size(1) > 0 && image.size(2) > 0, ShapeError, "{}: empty image of shape {}", op,
              image.shape().str());
  const Tensor values = raw::contiguous(raw::to_dtype(image, DType::Float32));
  Interleaved out{image.size(0), image.size(1), image.size(2), {}};
  out.bytes.resize(static_cast<std::size_t>(values.numel()));
  const float* src = values.data<float>();
  for (std::int64_t c = 0; c < out.channels; ++c)
    for (std::int64_t i = 0; i < out.height * out.width; ++i)
      out.bytes[static_cast<std::size_t>(i * out.channels + c)] = to_byte(src[c * out.height * out.width + i]);
  return out;
}

// ---- PNG ----

struct PngContext {
  std::span<const unsigned char> input;  // decoding: the bytes, read from `position` on
  std::size_t position = 0;
  std::vector<unsigned char>* output = nullptr;  // encoding
  char message[256] = {};
};

void png_on_error(png_structp png, png_const_charp message) {
  auto* context = static_cast<PngContext*>(png_get_error_ptr(png));
  std::snprintf(context->message, sizeof context->message, "%s", message);
  png_longjmp(png, 1);
}

// libpng warns about harmless oddities (an sRGB profile it knows to be slightly wrong); the pixels are fine.
void png_on_warning(png_structp, png_const_charp) {}

void png_read_memory(png_structp png, png_bytep out, png_size_t count) {
  auto* context = static_cast<PngContext*>(png_get_io_ptr(png));
  if (count > context->input.size() - context->position) png_error(png, "truncated data (unexpected end of file)");
  std::memcpy(out, context->input.data() + context->position, count);
  context->position += count;
}

void png_write_memory(png_structp png, png_bytep data, png_size_t count) {
  auto* context = static_cast<PngContext*>(png_get_io_ptr(png));
  context->output->insert(context->output->end(), data, data + count);
}

void png_flush_memory(png_structp) {}

struct PngHeader {
  png_uint_32 width = 0, height = 0;
  int channels = 0;
  std::size_t row_bytes = 0;
};

// Reads the header and sets the transforms that bring every colour type to 8-bit gray / gray+alpha / RGB / RGBA.
bool png_read_header_phase(png_structp png, png_infop info, PngHeader* header) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_info(png, info);
  const int color_type = png_get_color_type(png, info);
  const int bit_depth = png_get_bit_depth(png, info);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (bit_depth == 16) png_set_scale_16(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  header->width = png_get_image_width(png, info);
  header->height = png_get_image_height(png, info);
  header->channels = png_get_channels(png, info);
  header->row_bytes = png_get_rowbytes(png, info);
  return true;
}

bool png_read_pixels_phase(png_structp png, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, nullptr);  // the rest of the stream: its checksums and IEND, so a cut-off tail is an error too
  return true;
}

bool png_write_phase(png_structp png, png_infop info, png_uint_32 width, png_uint_32 height, int color_type,
                     png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_IHDR(png, info, width, height, 8, color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

struct PngReadHandle {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngReadHandle() { png_destroy_read_struct(&png, &info, nullptr); }
};

struct PngWriteHandle {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~PngWriteHandle() { png_destroy_write_struct(&png, &info); }
};

// ---- JPEG ----

struct JpegErrorManager {
  jpeg_error_mgr base;  // first member: libjpeg hands back a jpeg_error_mgr* that is cast to this
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jpeg_on_error(j_common_ptr cinfo) {
  auto* manager = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, manager->message);
  std::longjmp(manager->jump, 1);
}

// level < 0 is a warning: corrupt or truncated data that libjpeg would paper over (see image_io.hpp).
void jpeg_on_message(j_common_ptr cinfo, int level) {
  if (level < 0) jpeg_on_error(cinfo);
}

void install_error_manager(JpegErrorManager& manager) {
  jpeg_std_error(&manager.base);
  manager.base.error_exit = jpeg_on_error;
  manager.base.emit_message = jpeg_on_message;
  manager.message[0] = '\0';
}

bool jpeg_read_header_phase(jpeg_decompress_struct* cinfo, JpegErrorManager* manager,
                            std::span<const unsigned char> bytes) {
  if (setjmp(manager->jump)) return false;
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(cinfo, TRUE);
  return true;
}

bool jpeg_read_pixels_phase(jpeg_decompress_struct* cinfo, JpegErrorManager* manager, unsigned char* pixels,
                            std::size_t stride) {
  if (setjmp(manager->jump)) return false;
  jpeg_start_decompress(cinfo);
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = pixels + static_cast<std::size_t>(cinfo->output_scanline) * stride;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

bool jpeg_write_phase(jpeg_compress_struct* cinfo, JpegErrorManager* manager, const Interleaved* image, int quality,
                      unsigned char** out, unsigned long* out_size) {
  if (setjmp(manager->jump)) return false;
  jpeg_create_compress(cinfo);
  jpeg_mem_dest(cinfo, out, out_size);
  cinfo->image_width = static_cast<JDIMENSION>(image->width);
  cinfo->image_height = static_cast<JDIMENSION>(image->height);
  cinfo->input_components = static_cast<int>(image->channels);
  cinfo->in_color_space = image->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(cinfo);
  jpeg_set_quality(cinfo, quality, TRUE);
  jpeg_start_compress(cinfo, TRUE);
  const auto stride = static_cast<std::size_t>(image->width * image->channels);
  while (cinfo->next_scanline < cinfo->image_height) {
    // libjpeg's row type is non-const; it only reads the rows.
    JSAMPROW row = const_cast<unsigned char*>(image->bytes.data()) + cinfo->next_scanline * stride;
    jpeg_write_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_compress(cinfo);
  return true;
}

bool has_prefix(std::span<const unsigned char> bytes, std::initializer_list<unsigned char> prefix) {
  return bytes.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), bytes.begin());
}

}  // namespace

Tensor decode_png(std::span<const unsigned char> bytes, const std::string& name, std::int64_t max_pixels) {
  VIGIL_CHECK(has_prefix(bytes, {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}), Error,
              "{}: not a PNG file (bad signature)", name);
  PngContext context{bytes, 0, nullptr, {}};
  PngReadHandle handle;
  handle.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, png_on_error, png_on_warning);
  VIGIL_CHECK(handle.png != nullptr, Error, "{}: libpng could not start", name);
  handle.info = png_create_info_struct(handle.png);
  VIGIL_CHECK(handle.info != nullptr, Error, "{}: libpng could not start", name);
  png_set_read_fn(handle.png, &context, png_read_memory);

  PngHeader header;
  VIGIL_CHECK(png_read_header_phase(handle.png, handle.info, &header), Error, "{}: corrupt PNG: {}", name,
              context.message);
  const std::int64_t width = header.width, height = header.height;
  check_pixel_count(width, height, max_pixels, name, "PNG");

  std::vector<unsigned char> pixels(header.row_bytes * header.height);
  std::vector<png_bytep> rows(header.height);
  for (png_uint_32 y = 0; y < header.height; ++y) rows[y] = pixels.data() + y * header.row_bytes;
  VIGIL_CHECK(png_read_pixels_phase(handle.png, rows.data()), Error, "{}: corrupt PNG: {}", name, context.message);
  return planar_from_interleaved(pixels.data(), header.row_bytes, header.channels, height, width);
}

Tensor decode_jpeg(std::span<const unsigned char> bytes, const std::string& name, std::int64_t max_pixels) {
  VIGIL_CHECK(has_prefix(bytes, {0xff, 0xd8, 0xff}), Error, "{}: not a JPEG file (bad signature)", name);
  JpegErrorManager manager;
  install_error_manager(manager);
  jpeg_decompress_struct cinfo;
  std::memset(&cinfo, 0, sizeof cinfo);  // jpeg_destroy_decompress is then safe even if creation failed
  cinfo.err = &manager.base;
  struct Destroy {
    jpeg_decompress_struct* cinfo;
    ~Destroy() { jpeg_destroy_decompress(cinfo); }
  } destroy{&cinfo};

  VIGIL_CHECK(jpeg_read_header_phase(&cinfo, &manager, bytes), Error, "{}: corrupt JPEG: {}", name, manager.message);
  VIGIL_CHECK(cinfo.jpeg_color_space != JCS_CMYK && cinfo.jpeg_color_space != JCS_YCCK, Error,
              "{}: CMYK JPEG images are not supported (convert to RGB)", name);
  const bool gray = cinfo.jpeg_color_space == JCS_GRAYSCALE;
  cinfo.out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
  const std::int64_t width = cinfo.image_width, height = cinfo.image_height, channels = gray ? 1 : 3;
  check_pixel_count(width, height, max_pixels, name, "JPEG");

  const auto stride = static_cast<std::size_t>(width * channels);
  std::vector<unsigned char> pixels(stride * static_cast<std::size_t>(height));
  VIGIL_CHECK(jpeg_read_pixels_phase(&cinfo, &manager, pixels.data(), stride), Error, "{}: corrupt JPEG: {}", name,
              manager.message);
  return planar_from_interleaved(pixels.data(), stride, channels, height, width);
}

Tensor read_image(const std::string& path, std::int64_t max_pixels) {
  std::ifstream file(path, std::ios::binary);
  VIGIL_CHECK(file.is_open(), Error, "{}: cannot open the file", path);
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  VIGIL_CHECK(!file.bad(), Error, "{}: read error", path);
  if (has_prefix(bytes, {0x89, 'P', 'N', 'G'})) return decode_png(bytes, path, max_pixels);
  if (has_prefix(bytes, {0xff, 0xd8, 0xff})) return decode_jpeg(bytes, path, max_pixels);
  throw Error(fmt::format("{}: neither a PNG nor a JPEG file ({} bytes, unrecognised signature)", path,
                          bytes.size()));
}

std::vector<unsigned char> encode_png(const Tensor& image) {
  const Interleaved pixels = interleaved_from_planar(image, "encode_png");
  std::vector<unsigned char> out;
  PngContext context{{}, 0, &out, {}};
  PngWriteHandle handle;
  handle.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &context, png_on_error, png_on_warning);
  VIGIL_CHECK(handle.png != nullptr, Error, "encode_png: libpng could not start");
  handle.info = png_create_info_struct(handle.png);
  VIGIL_CHECK(handle.info != nullptr, Error, "encode_png: libpng could not start");
  png_set_write_fn(handle.png, &context, png_write_memory, png_flush_memory);

  const auto stride = static_cast<std::size_t>(pixels.width * pixels.channels);
  std::vector<png_bytep> rows(static_cast<std::size_t>(pixels.height));
  for (std::size_t y = 0; y < rows.size(); ++y) rows[y] = const_cast<unsigned char*>(pixels.bytes.data()) + y * stride;
  const int color_type = pixels.channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB;
  VIGIL_CHECK(png_write_phase(handle.png, handle.info, static_cast<png_uint_32>(pixels.width),
                              static_cast<png_uint_32>(pixels.height), color_type, rows.data()),
              Error, "encode_png: {}", context.message);
  return out;
}

std::vector<unsigned char> encode_jpeg(const Tensor& image, int quality) {
  VIGIL_CHECK(quality >= 1 && quality <= 100, Error, "encode_jpeg: quality must be in [1, 100], got {}", quality);
  const Interleaved pixels = interleaved_from_planar(image, "encode_jpeg");
  JpegErrorManager manager;
  install_error_manager(manager);
  jpeg_compress_struct cinfo;
  std::memset(&cinfo, 0, sizeof cinfo);
  cinfo.err = &manager.base;
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  struct Destroy {
    jpeg_compress_struct* cinfo;
    unsigned char** buffer;
    ~Destroy() {
      jpeg_destroy_compress(cinfo);
      std::free(*buffer);  // jpeg_mem_dest's buffer is malloc'd and outlives the compressor
    }
  } destroy{&cinfo, &buffer};
  VIGIL_CHECK(jpeg_write_phase(&cinfo, &manager, &pixels, quality, &buffer, &size), Error, "encode_jpeg: {}",
              manager.message);
  return std::vector<unsigned char>(buffer, buffer + size);
}

void write_png(const std::string& path, const Tensor& image) {
  const std::vector<unsigned char> png = encode_png(image);
  write_file_atomically(path, std::as_bytes(std::span(png)));
}

}  // namespace vigil::data
