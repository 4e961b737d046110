// Writes the fixture events (tests/io/event_fixture.hpp) into a new event file under argv[1] and prints its path,
// for read_events.mjs to check.
#include "io/event_fixture.hpp"

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  vigil::io::EventWriter writer(argv[1]);
  vigil::testing::write_fixture_events(writer);
  std::printf("%s\n", writer.path().c_str());
  return 0;
}
