// Reading a config: ASCII check, toml++ parse, schema check of every key, --set overrides, cross-key checks.
// Reads TOML through toml_reader.hpp (toml++ compiled with NDEBUG, see cli/CMakeLists.txt).
#include <vigil/cli/config.hpp>

#include <vigil/train/metrics.hpp>

#include <fmt/format.h>

#include "toml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace vigil::cli {
namespace {

const KeySpec& spec_of(std::string_view key) {
  const KeySpec* spec = find_key(key);
  if (spec == nullptr) throw std::logic_error(fmt::format("vigil cli: \"{}\" is not in the schema", key));
  return *spec;
}

std::string unknown_key_message(std::string_view key, const std::string& where) {
  return fmt::format("unknown {} \"{}\" in {}; did you mean \"{}\"?",
                     key.find('.') == std::string_view::npos ? "section" : "key", key, where, nearest_key(key));
}

// Range and choices of one number or string (a list's elements each).
std::optional<std::string> check_element(const KeySpec& spec, const Value& element) {
  if (const auto* s = std::get_if<std::string>(&element)) {
    if (spec.choices.empty() || std::find(spec.choices.begin(), spec.choices.end(), *s) != spec.choices.end())
      return std::nullopt;
    std::string best;
    std::size_t best_score = std::string::npos;
    for (const std::string& c : spec.choices) {
      std::size_t score = 0;  // shared leading characters count against the distance
      while (score < c.size() && score < s->size() && c[score] == (*s)[score]) ++score;
      score = c.size() + s->size() - 2 * score;
      if (score < best_score) {
        best_score = score;
        best = c;
      }
    }
    return fmt::format("\"{}\" is not {}; did you mean \"{}\"?", *s, describe_constraint(spec), best);
  }
  double x = 0.0;
  if (const auto* i = std::get_if<std::int64_t>(&element)) x = static_cast<double>(*i);
  else if (const auto* d = std::get_if<double>(&element)) x = *d;
  else return std::nullopt;
  const bool below = spec.min && (spec.min_open ? !(x > *spec.min) : !(x >= *spec.min));
  const bool above = spec.max && (spec.max_open ? !(x < *spec.max) : !(x <= *spec.max));
  if (below || above || std::isnan(x))
    return fmt::format("must be {}, got {}", describe_constraint(spec), format_value(element));
  return std::nullopt;
}

// A value of the key's type from `value` (an integer widens to a number, an empty list takes any list type), or
// nothing when the types do not fit.
std::optional<Value> coerce(const KeySpec& spec, Value value) {
  switch (spec.type) {
    case Type::Bool:
      if (std::holds_alternative<bool>(value)) return value;
      return std::nullopt;
    case Type::Int:
      if (std::holds_alternative<std::int64_t>(value)) return value;
      return std::nullopt;
    case Type::Float:
      if (const auto* i = std::get_if<std::int64_t>(&value)) return Value{static_cast<double>(*i)};
      if (std::holds_alternative<double>(value)) return value;
      return std::nullopt;
    case Type::String:
      if (std::holds_alternative<std::string>(value)) return value;
      return std::nullopt;
    case Type::IntList:
      if (std::holds_alternative<std::vector<std::int64_t>>(value)) return value;
      if (const auto* d = std::get_if<std::vector<double>>(&value); d != nullptr && d->empty())
        return Value{std::vector<std::int64_t>{}};
      return std::nullopt;
    case Type::FloatList:
      if (const auto* ints = std::get_if<std::vector<std::int64_t>>(&value))
        return Value{std::vector<double>(ints->begin(), ints->end())};
      if (std::holds_alternative<std::vector<double>>(value)) return value;
      return std::nullopt;
    case Type::StringList:
      if (std::holds_alternative<std::vector<std::string>>(value)) return value;
      if (const auto* d = std::get_if<std::vector<double>>(&value); d != nullptr && d->empty())
        return Value{std::vector<std::string>{}};
      return std::nullopt;
  }
  return std::nullopt;
}

std::string type_of(const Value& value) {
  switch (value.index()) {
    case 0: return "a boolean";
    case 1: return "an integer";
    case 2: return "a number";
    case 3: return "a string";
    default: return "a list";
  }
}

// The TOML node as a Value; lists must hold one kind of scalar. `where` names it for the error.
Value from_node(const toml::node& node, const std::string& key, const std::string& where) {
  if (const auto* b = node.as_boolean()) return b->get();
  if (const auto* i = node.as_integer()) return i->get();
  if (const auto* f = node.as_floating_point()) return f->get();
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* array = node.as_array()) {
    if (array->empty()) return std::vector<double>{};
    if (array->is_homogeneous(toml::node_type::integer)) {
      std::vector<std::int64_t> out;
      for (const auto& e : *array) out.push_back(e.as_integer()->get());
      return out;
    }
    if (array->is_homogeneous(toml::node_type::string)) {
      std::vector<std::string> out;
      for (const auto& e : *array) out.push_back(e.as_string()->get());
      return out;
    }
    bool numbers = true;
    std::vector<double> out;
    for (const auto& e : *array) {
      if (const auto* i = e.as_integer()) out.push_back(static_cast<double>(i->get()));
      else if (const auto* f = e.as_floating_point()) out.push_back(f->get());
      else numbers = false;
    }
    if (numbers) return out;
    throw UsageError(fmt::format("wrong type for \"{}\" in {}: a list must hold numbers only or strings only", key,
                                 where));
  }
  throw UsageError(fmt::format("wrong type for \"{}\" in {}: expected {}, got a {}", key, where,
                               type_name(spec_of(key).type), node.is_table() ? "table" : "date or time"));
}

// `--set key=value`: the text typed by the key's row.
Value parse_override_value(const KeySpec& spec, std::string text, const std::string& where) {
  const auto trim = [](std::string s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string::npos) return std::string();
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
  };
  const auto unquote = [](std::string s) {
    if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) return s.substr(1, s.size() - 2);
    return s;
  };
  const auto bad = [&](const std::string& got) {
    return UsageError(fmt::format("wrong type for \"{}\" in {}: expected {}, got \"{}\"", spec.key, where,
                                  type_name(spec.type), got));
  };
  const auto parse_int = [&](const std::string& s) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) throw bad(s);
    return v;
  };
  const auto parse_float = [&](const std::string& s) {
    double v = 0.0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) throw bad(s);
    return v;
  };
  const auto elements = [&](std::string s) {
    s = trim(s);
    if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
    std::vector<std::string> out;
    if (trim(s).empty()) return out;
    std::stringstream stream(s);
    std::string part;
    while (std::getline(stream, part, ',')) out.push_back(unquote(trim(part)));
    return out;
  };
  text = trim(text);
  switch (spec.type) {
    case Type::Bool:
      if (text == "true") return true;
      if (text == "false") return false;
      throw bad(text);
    case Type::Int: return parse_int(text);
    case Type::Float: return parse_float(text);
    case Type::String: return unquote(text);
    case Type::IntList: {
      std::vector<std::int64_t> out;
      for (const std::string& e : elements(text)) out.push_back(parse_int(e));
      return out;
    }
    case Type::FloatList: {
      std::vector<double> out;
      for (const std::string& e : elements(text)) out.push_back(parse_float(e));
      return out;
    }
    case Type::StringList: return elements(text);
  }
  throw bad(text);
}

void reject_non_ascii(std::string_view text, const std::string& name) {
  std::int64_t line = 1, column = 1;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x80)
      throw UsageError(fmt::format("{} line {} column {}: non-ASCII byte 0x{:02x}; write configs in ASCII (names "
                                   "and paths included)",
                                   name, line, column, byte));
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
}

// What involves several keys, and defaults that depend on others.
void check_across_keys(Config& config) {
  const std::string dataset = config.get_string("data.dataset");
  if (config.get_string("data.path").empty()) {
    if (dataset == "fashion-mnist")
      config.set("data.path", std::string("/usr/share/datasets/fashion-mnist"), config.file() + " (default)");
    else
      throw config.invalid("data.path", fmt::format("data.dataset \"{}\" needs data.path", dataset));
  }
  if (dataset == "npy" && config.get_string("data.targets_path").empty())
    throw config.invalid("data.targets_path", "data.dataset \"npy\" needs data.targets_path");
  if (dataset == "npy" && !config.get_string("data.test_path").empty() &&
      config.get_string("data.test_targets_path").empty())
    throw config.invalid("data.test_targets_path", "an npy test set (data.test_path) needs data.test_targets_path");
  if (config.get_int("data.folds") == 1) throw config.invalid("data.folds", "k-fold needs at least 2 folds (0: off)");
  if (config.get_int("data.fold") >= std::max<std::int64_t>(config.get_int("data.folds"), 1))
    throw config.invalid("data.fold", fmt::format("must be < data.folds ({}), got {}", config.get_int("data.folds"),
                                                  config.get_int("data.fold")));
  if (config.get_bool("optim.nesterov")) {
    if (config.get_string("optim.name") != "sgd")
      throw config.invalid("optim.nesterov", "Nesterov momentum is an sgd option, optim.name is \"" +
                                                 config.get_string("optim.name") + "\"");
    if (config.get_float("optim.momentum") <= 0.0)
      throw config.invalid("optim.nesterov", "Nesterov momentum needs optim.momentum > 0");
  }
  if (config.get_floats("optim.betas").size() != 2)
    throw config.invalid("optim.betas", fmt::format("needs 2 values (beta1, beta2), got {}",
                                                    config.get_floats("optim.betas").size()));
  if (config.get_string("schedule.name") == "onecycle" && config.get_string("schedule.every") != "step")
    throw config.invalid("schedule.every", "onecycle runs per step");
  if (config.get_string("schedule.name") == "multistep") {
    const auto& m = config.get_ints("schedule.milestones");
    if (m.empty()) throw config.invalid("schedule.milestones", "schedule \"multistep\" needs milestones");
    if (!std::is_sorted(m.begin(), m.end()))
      throw config.invalid("schedule.milestones", "milestones must be in increasing order");
  }
  if (config.get_float("augment.mixup_alpha") > 0 && config.get_float("augment.cutmix_alpha") > 0)
    throw config.invalid("augment.cutmix_alpha", "choose mixup or cutmix, not both");
  const std::string label_type = config.get_string("data.label_type");
  if (label_type == "regression" && config.get_string("loss.name") == "cross_entropy")
    throw config.invalid("loss.name", "regression targets (data.label_type = \"regression\") need mse, l1 or huber");
  for (const std::string& metric : config.get_strings("run.metrics")) {
    try {
      train::make_metric(metric);
    } catch (const std::exception& e) {
      throw config.invalid("run.metrics", e.what());
    }
  }
  if (!config.get_strings("model.init_only").empty() && config.get_string("model.init_from").empty())
    throw config.invalid("model.init_only", "needs model.init_from");
}

}  // namespace

Config::Config(std::string file) : file_(std::move(file)) {
  for (const KeySpec& spec : schema()) values_.emplace(spec.key, spec.default_value);
}

const Value& Config::value(std::string_view key) const {
  const auto it = values_.find(key);
  if (it == values_.end()) throw std::logic_error(fmt::format("vigil cli: \"{}\" is not in the schema", key));
  return it->second;
}

bool Config::get_bool(std::string_view key) const { return std::get<bool>(value(key)); }
std::int64_t Config::get_int(std::string_view key) const { return std::get<std::int64_t>(value(key)); }
double Config::get_float(std::string_view key) const { return std::get<double>(value(key)); }
const std::string& Config::get_string(std::string_view key) const { return std::get<std::string>(value(key)); }
const std::vector<std::int64_t>& Config::get_ints(std::string_view key) const {
  return std::get<std::vector<std::int64_t>>(value(key));
}
const std::vector<double>& Config::get_floats(std::string_view key) const {
  return std::get<std::vector<double>>(value(key));
}
const std::vector<std::string>& Config::get_strings(std::string_view key) const {
  return std::get<std::vector<std::string>>(value(key));
}

void Config::set(std::string_view key, Value value, std::string origin) {
  const KeySpec* spec = find_key(key);
  if (spec == nullptr) throw UsageError(unknown_key_message(key, origin));
  std::optional<Value> typed = coerce(*spec, value);
  if (!typed)
    throw UsageError(fmt::format("wrong type for \"{}\" in {}: expected {}, got {}", key, origin,
                                 type_name(spec->type), type_of(value)));
  std::optional<std::string> problem;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::vector<std::int64_t>> || std::is_same_v<T, std::vector<double>> ||
                      std::is_same_v<T, std::vector<std::string>>) {
          for (const auto& e : v)
            if (!problem) problem = check_element(*spec, Value{e});
        } else {
          problem = check_element(*spec, Value{v});
        }
      },
      *typed);
  if (problem) throw UsageError(fmt::format("invalid value for \"{}\" in {}: {}", key, origin, *problem));
  values_[std::string(key)] = std::move(*typed);
  origins_[std::string(key)] = std::move(origin);
}

std::string Config::origin(std::string_view key) const {
  const auto it = origins_.find(key);
  return it == origins_.end() ? file_ + " (default)" : it->second;
}

bool Config::given(std::string_view key) const {
  const auto it = origins_.find(key);
  return it != origins_.end() && !it->second.ends_with("(default)");
}

UsageError Config::invalid(std::string_view key, const std::string& message) const {
  return UsageError(fmt::format("invalid value for \"{}\" in {}: {}", key, origin(key), message));
}

std::string Config::to_toml() const {
  std::string out = "# vigil run configuration, resolved: every key, defaults filled in.\n";
  std::string section;
  for (const KeySpec& spec : schema()) {
    const std::string s = spec.key.substr(0, spec.key.find('.'));
    if (s != section) {
      section = s;
      out += fmt::format("\n[{}]\n", section);
    }
    out += fmt::format("{} = {}  # {}\n", spec.key.substr(s.size() + 1), format_value(value(spec.key)), spec.help);
  }
  return out;
}

toml::table parse_toml(std::string_view text, const std::string& name) {
  reject_non_ascii(text, name);
  try {
    return toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw UsageError(fmt::format("{} line {} column {}: malformed TOML: {}", name, e.source().begin.line,
                                 e.source().begin.column, e.description()));
  }
}

Config parse_config(std::string_view text, const std::string& name, const std::vector<std::string>& overrides) {
  const toml::table table = parse_toml(text, name);
  Config config(name);
  for (const auto& [section_key, section_node] : table) {
    const std::string section(section_key.str());
    const std::string where = fmt::format("{} line {}", name, section_node.source().begin.line);
    const auto* section_table = section_node.as_table();
    if (std::find(sections().begin(), sections().end(), section) == sections().end() || section_table == nullptr) {
      if (section_table == nullptr && find_key(section) == nullptr)
        throw UsageError(fmt::format("unknown key \"{}\" in {}; keys belong in sections: [{}]", section, where,
                                     fmt::join(sections(), "], [")));
      throw UsageError(unknown_key_message(section, where));
    }
    for (const auto& [key_name, node] : *section_table) {
      const std::string key = section + "." + std::string(key_name.str());
      const std::string key_where = fmt::format("{} line {}", name, node.source().begin.line);
      if (find_key(key) == nullptr) throw UsageError(unknown_key_message(key, key_where));
      config.set(key, from_node(node, key, key_where), key_where);
    }
  }
  for (const std::string& assignment : overrides) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError(fmt::format("--set {}: expected key=value (e.g. --set optim.lr=0.01)", assignment));
    const std::string key = assignment.substr(0, eq);
    const std::string where = "--set " + assignment;
    const KeySpec* spec = find_key(key);
    if (spec == nullptr) throw UsageError(unknown_key_message(key, where));
    config.set(key, parse_override_value(*spec, assignment.substr(eq + 1), where), where);
  }
  check_across_keys(config);
  return config;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(fmt::format("cannot read config {}: no such file, or not readable", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_config(buffer.str(), path, overrides);
}

}  // namespace vigil::cli
