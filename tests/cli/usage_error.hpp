// The CLI tests' way of reading an error: the message of the UsageError a call throws.
#pragma once

#include <vigil/cli/config.hpp>

#include <string>

namespace vigil::cli {

// The message of the UsageError `f` throws ("" when it throws none).
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

}  // namespace vigil::cli
