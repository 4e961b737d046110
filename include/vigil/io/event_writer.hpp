// TensorBoard event files: scalars, histograms and images that `tensorboard --logdir DIR` shows.
//
// A file is a sequence of TFRecord records (tfrecord.hpp), each an Event protocol buffer
// (tensorflow/core/util/event.proto, summary.proto):
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; float simple_value = 2; Image image = 4; HistogramProto histo = 5; }
//   Image   { int32 height = 1; int32 width = 2; int32 colorspace = 3; bytes encoded_image_string = 4; }
//   HistogramProto { double min = 1, max = 2, num = 3, sum = 4, sum_squares = 5;
//                    repeated double bucket_limit = 6 [packed], bucket = 7 [packed]; }
// The first event carries file_version "brain.Event:2"; every later one one summary value.
#pragma once

#include <vigil/tensor/tensor.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::io {

// A histogram as TensorBoard stores it. Buckets use TensorFlow's default limits: 0, and +-1e-12 growing by 10%
// per bucket up to +-1e20, then +-DBL_MAX (1551 limits: fine near zero, wide for large magnitudes, the same for
// every tensor so that TensorBoard can overlay steps). bucket[i] counts the values v with
// bucket_limit[i-1] <= v < bucket_limit[i]. As TensorFlow does, each run of empty buckets is merged into one,
// so the proto stays small.
struct Histogram {
  double min = 0;
  double max = 0;
  double num = 0;
  double sum = 0;
  double sum_squares = 0;
  std::vector<double> bucket_limit;
  std::vector<double> bucket;
};

// The histogram of `values` (any real or integer dtype, any shape). NaNs are left out; +-inf land in the outermost
// buckets. Throws Error when no value is left.
Histogram histogram_of(const Tensor& values);

class EventWriter {
 public:
  // Creates `dir` (with parents) if needed, and in it the new file
  // events.out.tfevents.<10-digit Unix time>.<host>.<pid>.<n> (PyTorch's SummaryWriter naming: the pid and the
  // process-wide counter n keep writers started in the same second apart); writes and flushes the file_version
  // event. Throws Error naming the path when the file cannot be created.
  explicit EventWriter(const std::string& dir);
  ~EventWriter();  // flushes and closes
  EventWriter(const EventWriter&) = delete;
  EventWriter& operator=(const EventWriter&) = delete;

  // A point of the scalar chart `tag` (stored as float, as TensorBoard's simple_value is).
  void add_scalar(const std::string& tag, double value, std::int64_t step);
  // The histogram of `values` (see histogram_of).
  void add_histogram(const std::string& tag, const Tensor& values, std::int64_t step);
  // An image the caller has encoded as PNG. Requires: `png` starts with the PNG signature, height and width > 0,
  // channels 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA), as in the PNG; throws Error otherwise.
  void add_image_png(const std::string& tag, std::string_view png, int height, int width, int channels,
                     std::int64_t step);

  // Hands buffered events to the operating system, so that a running TensorBoard sees them. Events are buffered
  // between calls: call flush() at the end of an epoch or every few seconds.
  void flush();

  const std::string& path() const { return path_; }

 private:
  void write_event(std::string_view event);

  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace vigil::io
