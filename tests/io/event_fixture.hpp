// The events both event-file tests write: test_io's own decoder checks them, and so does the node script
// tests/io/node/read_events.mjs through a real TFRecord reader (see tests/io/node/run.sh).
#pragma once

#include <vigil/io/event_writer.hpp>

#include <string_view>

namespace vigil::testing {

// A 1x1 RGB PNG holding one red pixel.
inline constexpr std::string_view kTinyPng(
    "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00"
    "\x00\x00\x90\x77\x53\xde\x00\x00\x00\x0c\x49\x44\x41\x54\x78\x9c\x63\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9"
    "\xfe\x92\xef\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82",
    69);

// Events 1-3: scalar "loss" 0.5, 0.25, 0.125 at steps 0, 1, 2; event 4: scalar "lr" 0.001 at step 300; event 5:
// histogram "weights" of {-1, 0, 0.5, 0.5, 2} at step 2; event 6: image "sample" (kTinyPng, 1x1x3) at step 2.
inline void write_fixture_events(io::EventWriter& writer) {
  for (int step = 0; step < 3; ++step) writer.add_scalar("loss", 0.5 / (1 << step), step);
  writer.add_scalar("lr", 0.001, 300);
  writer.add_histogram("weights", from_vector(std::vector<float>{-1, 0, 0.5f, 0.5f, 2}, {5}), 2);
  writer.add_image_png("sample", kTinyPng, 1, 1, 3, 2);
  writer.flush();
}

}  // namespace vigil::testing
