// Run configurations: a TOML file of sections ([run], [data], [model], [optim], ...) checked against one schema
// table. Every key the CLI knows is a row of that table (key, type, default, range or choices, help); from it come
// the defaults, the validation, the typed `--set key=value` overrides, the resolved config.toml written into each
// run directory (every key, defaults filled in) and the error messages.
//
// Errors are UsageError: ONE line naming the file, the line and the key, never a stack trace:
//   unknown key "optim.lrr" in cfg.toml line 7; did you mean "optim.lr"?
//   wrong type for "optim.lr" in cfg.toml line 7: expected a number, got a string
//   invalid value for "model.dropout" in cfg.toml line 12: must be < 1, got 1.5
//   cfg.toml line 3 column 9: malformed TOML: ...
//   cfg.toml line 2 column 8: non-ASCII byte 0xc3; write configs in ASCII
// The TOML is checked for non-ASCII bytes before toml++ sees it (Debian's toml++ 3.3.0 misbehaves on some
// non-ASCII input), and the file that includes toml++ is compiled with NDEBUG.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vigil::cli {

// A mistake in what the user gave (a config, an argument, a path): the message is shown as is; exit status 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Type { Bool, Int, Float, String, IntList, FloatList, StringList };
const char* type_name(Type type);  // "a boolean", "an integer", "a number", "a string", "a list of integers", ...

using Value = std::variant<bool, std::int64_t, double, std::string, std::vector<std::int64_t>, std::vector<double>,
                           std::vector<std::string>>;

// One row of the schema. Numbers (and list elements) must lie in [min, max] (or the open interval where
// min_open / max_open); strings (and string-list elements) must be one of `choices` when it is not empty.
struct KeySpec {
  std::string key;  // "section.name"
  Type type;
  Value default_value;
  std::string help;
  std::vector<std::string> choices = {};
  std::optional<double> min = std::nullopt;
  bool min_open = false;
  std::optional<double> max = std::nullopt;
  bool max_open = false;
};

// Every key, section by section, in the order config.toml lists them.
const std::vector<KeySpec>& schema();
// The sections in order: run, data, preprocess, augment, model, loss, optim, schedule, regularize, callbacks, doctor.
const std::vector<std::string>& sections();
// The row of `key`, or null.
const KeySpec* find_key(std::string_view key);
// The known key (or section, when `key` has no dot) closest to `key` by edit distance.
std::string nearest_key(std::string_view key);
// The constraint of a row in words: "> 0", "in [0, 1)", "one of sgd, adam, adamw"; empty when there is none.
std::string describe_constraint(const KeySpec& spec);
// A value as TOML writes it: 0.001, 1e-08, 10, true, "adam", [256, 128].
std::string format_value(const Value& value);

class Config {
 public:
  // Every key at its default; `file` names the source in messages.
  explicit Config(std::string file = "(defaults)");

  bool get_bool(std::string_view key) const;
  std::int64_t get_int(std::string_view key) const;
  double get_float(std::string_view key) const;
  const std::string& get_string(std::string_view key) const;
  const std::vector<std::int64_t>& get_ints(std::string_view key) const;
  const std::vector<double>& get_floats(std::string_view key) const;
  const std::vector<std::string>& get_strings(std::string_view key) const;
  const Value& value(std::string_view key) const;

  // Checks `value` against the key's row (type, range, choices; an integer is accepted for a number) and stores
  // it, remembering `origin` ("cfg.toml line 7", "--set optim.lr=0.1") for later messages. UsageError otherwise.
  void set(std::string_view key, Value value, std::string origin);
  // "cfg.toml line 7", "--set optim.lr=1", or "<file> (default)" for a key not given.
  std::string origin(std::string_view key) const;
  // Whether the user gave the key (in the file or with --set).
  bool given(std::string_view key) const;
  // An error about `key`'s value: `invalid value for "key" in <origin>: <message>`.
  UsageError invalid(std::string_view key, const std::string& message) const;

  const std::string& file() const { return file_; }
  // The resolved config as TOML: every section and key in schema order, each key with its help as a comment.
  std::string to_toml() const;

 private:
  std::string file_;
  std::map<std::string, Value, std::less<>> values_;
  std::map<std::string, std::string, std::less<>> origins_;
};

// Parses `text` (named `name` in messages), applies the `key=value` overrides in order (typed by the schema),
// then checks what involves several keys and fills in the defaults that depend on others (data.path of
// Fashion-MNIST). Throws UsageError.
Config parse_config(std::string_view text, const std::string& name, const std::vector<std::string>& overrides = {});
// The same from a file; UsageError when it cannot be read.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

}  // namespace vigil::cli
