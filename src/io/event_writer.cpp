// TensorBoard event writer (see event_writer.hpp): protobuf-encoded events in TFRecord records.
#include <vigil/io/event_writer.hpp>

#include <vigil/io/tfrecord.hpp>

#include "protobuf.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <filesystem>

namespace vigil::io {
namespace {

// Field numbers of event.proto and summary.proto.
namespace event {
constexpr int kWallTime = 1, kStep = 2, kFileVersion = 3, kSummary = 5;
}
namespace summary {
constexpr int kValue = 1;
}
namespace value {
constexpr int kTag = 1, kSimpleValue = 2, kImage = 4, kHisto = 5;
}
namespace image {
constexpr int kHeight = 1, kWidth = 2, kColorspace = 3, kEncoded = 4;
}
namespace histo {
constexpr int kMin = 1, kMax = 2, kNum = 3, kSum = 4, kSumSquares = 5, kBucketLimit = 6, kBucket = 7;
}

// TensorFlow's default histogram bucket limits (core/lib/histogram/histogram.cc): -DBL_MAX, the negated
// positive limits, 0, the positive limits 1e-12 * 1.1^k below 1e20, DBL_MAX.
const std::vector<double>& default_bucket_limits() {
  static const std::vector<double> limits = [] {
    std::vector<double> positive;
    for (double v = 1.0e-12; v < 1.0e20; v *= 1.1) positive.push_back(v);
    positive.push_back(DBL_MAX);
    std::vector<double> out;
    for (auto it = positive.rbegin(); it != positive.rend(); ++it) out.push_back(-*it);
    out.push_back(0.0);
    out.insert(out.end(), positive.begin(), positive.end());
    return out;
  }();
  return limits;
}

double wall_time_now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

std::string host_name() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "localhost";
  return name.data();
}

proto::Message make_event(std::int64_t step) {
  proto::Message e;
  e.add_double(event::kWallTime, wall_time_now());
  e.add_int64(event::kStep, step);
  return e;
}

// An event carrying one summary value.
std::string summary_event(const proto::Message& summary_value, std::int64_t step) {
  proto::Message s;
  s.add_message(summary::kValue, summary_value);
  proto::Message e = make_event(step);
  e.add_message(event::kSummary, s);
  return e.bytes();
}

}  // namespace

Histogram histogram_of(const Tensor& values) {
  const Tensor v = raw::contiguous(values.dtype() == DType::Float64 ? values : raw::to_dtype(values, DType::Float64));
  const std::vector<double>& limits = default_bucket_limits();
  std::vector<double> counts(limits.size(), 0.0);
  Histogram h;
  h.min = DBL_MAX;
  h.max = -DBL_MAX;
  const double* p = v.data<double>();
  for (std::int64_t i = 0; i < v.numel(); ++i) {
    const double x = p[i];
    if (std::isnan(x)) continue;
    // First limit above x; +inf runs past the end and joins the last (DBL_MAX) bucket.
    const auto b = std::upper_bound(limits.begin(), limits.end(), x) - limits.begin();
    counts[static_cast<std::size_t>(std::min<std::ptrdiff_t>(b, static_cast<std::ptrdiff_t>(limits.size()) - 1))] += 1;
    h.min = std::min(h.min, x);
    h.max = std::max(h.max, x);
    h.num += 1;
    h.sum += x;
    h.sum_squares += x * x;
  }
  VIGIL_CHECK(h.num > 0, Error, "histogram: no values to count (a tensor of shape {} with {} values, NaNs left out)",
              values.shape().str(), values.numel());
  // Runs of empty buckets become one bucket reaching to the run's last limit (TensorFlow's EncodeToProto).
  for (std::size_t i = 0; i < counts.size();) {
    double end = limits[i];
    const double count = counts[i];
    ++i;
    if (count == 0) {
      while (i < counts.size() && counts[i] == 0) end = limits[i++];
    }
    h.bucket_limit.push_back(end);
    h.bucket.push_back(count);
  }
  return h;
}

EventWriter::EventWriter(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  VIGIL_CHECK(!ec, Error, "EventWriter: cannot create the directory {}: {}", dir, ec.message());
  static std::atomic<std::uint64_t> counter{0};
  path_ = (std::filesystem::path(dir) / fmt::format("events.out.tfevents.{:010d}.{}.{}.{}", std::time(nullptr),
                                                     host_name(), ::getpid(), counter.fetch_add(1)))
              .string();
  // "x": fail rather than append to or truncate someone else's file.
  file_ = std::fopen(path_.c_str(), "wbx");
  VIGIL_CHECK(file_ != nullptr, Error, "EventWriter: cannot create {}: {}", path_, std::strerror(errno));
  proto::Message e = make_event(0);
  e.add_bytes(event::kFileVersion, "brain.Event:2");
  write_event(e.bytes());
  flush();
}

EventWriter::~EventWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

void EventWriter::write_event(std::string_view event) {
  const std::string record = frame_tfrecord(event);
  VIGIL_CHECK(std::fwrite(record.data(), 1, record.size(), file_) == record.size(), Error,
              "EventWriter: write to {} failed: {}", path_, std::strerror(errno));
}

void EventWriter::flush() {
  VIGIL_CHECK(std::fflush(file_) == 0, Error, "EventWriter: flush of {} failed: {}", path_, std::strerror(errno));
}

void EventWriter::add_scalar(const std::string& tag, double value, std::int64_t step) {
  proto::Message v;
  v.add_bytes(value::kTag, tag);
  v.add_float(value::kSimpleValue, static_cast<float>(value));
  write_event(summary_event(v, step));
}

void EventWriter::add_histogram(const std::string& tag, const Tensor& values, std::int64_t step) {
  Histogram h;
  try {
    h = histogram_of(values);
  } catch (const Error& e) {
    throw Error(fmt::format("EventWriter::add_histogram '{}': {}", tag, e.what()));
  }
  proto::Message hp;
  hp.add_double(histo::kMin, h.min);
  hp.add_double(histo::kMax, h.max);
  hp.add_double(histo::kNum, h.num);
  hp.add_double(histo::kSum, h.sum);
  hp.add_double(histo::kSumSquares, h.sum_squares);
  hp.add_packed_doubles(histo::kBucketLimit, h.bucket_limit);
  hp.add_packed_doubles(histo::kBucket, h.bucket);
  proto::Message v;
  v.add_bytes(value::kTag, tag);
  v.add_message(value::kHisto, hp);
  write_event(summary_event(v, step));
}

void EventWriter::add_image_png(const std::string& tag, std::string_view png, int height, int width, int channels,
                                std::int64_t step) {
  constexpr std::string_view kPngSignature("\x89PNG\r\n\x1a\n", 8);
  VIGIL_CHECK(png.substr(0, 8) == kPngSignature, Error,
              "EventWriter::add_image_png '{}': the bytes are not a PNG (no PNG signature); encode the image first",
              tag);
  VIGIL_CHECK(height > 0 && width > 0 && channels >= 1 && channels <= 4, Error,
              "EventWriter::add_image_png '{}': height {} and width {} must be positive and channels {} in 1..4", tag,
              height, width, channels);
  proto::Message im;
  im.add_varint(image::kHeight, static_cast<std::uint64_t>(height));
  im.add_varint(image::kWidth, static_cast<std::uint64_t>(width));
  im.add_varint(image::kColorspace, static_cast<std::uint64_t>(channels));
  im.add_bytes(image::kEncoded, png);
  proto::Message v;
  v.add_bytes(value::kTag, tag);
  v.add_message(value::kImage, im);
  write_event(summary_event(v, step));
}

}  // namespace vigil::io
