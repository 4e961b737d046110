// vigil's exceptions. Every failure a user can cause (a shape that does not fit, an index out of range, a dtype
// an op does not take, a freed graph walked twice) throws one of these with a message that names the op and
// shows the shapes involved, so the user never has to guess which call failed.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace vigil {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class ShapeError : public Error {
 public:
  using Error::Error;
};
class IndexError : public Error {
 public:
  using Error::Error;
};
class DTypeError : public Error {
 public:
  using Error::Error;
};

}  // namespace vigil

// VIGIL_CHECK(cond, ErrorType, "format {}", args...): throws ErrorType with the formatted message when cond is false.
#define VIGIL_CHECK(cond, ErrorType, ...)                 \
  do {                                                    \
    if (!(cond)) throw ErrorType(fmt::format(__VA_ARGS__)); \
  } while (0)
