// The search space: parsing SPACE.toml against the config schema, grid points and seeded random draws (see
// search.hpp). Reads TOML through toml_reader.hpp, as config.cpp does.
#include <vigil/cli/search.hpp>

#include <fmt/format.h>

#include "toml_reader.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <sstream>

#include "internal.hpp"

namespace vigil::cli {
namespace {

constexpr std::array<std::string_view, 5> kFields = {"dist", "low", "high", "num", "values"};
constexpr std::array<std::string_view, 4> kDistributions = {"log_uniform", "uniform", "int_uniform", "choice"};

template <std::size_t N>
std::string_view nearest(std::string_view word, const std::array<std::string_view, N>& candidates) {
  return *std::min_element(candidates.begin(), candidates.end(), [&](std::string_view a, std::string_view b) {
    return edit_distance(word, a) < edit_distance(word, b);
  });
}

std::string line_of(const std::string& name, const toml::node& node) {
  return fmt::format("{} line {}", name, node.source().begin.line);
}

// A TOML value (a scalar, or a list of scalars for list-valued keys) as a Value; the schema types it afterwards.
std::optional<Value> value_of(const toml::node& node) {
  if (const auto* b = node.as_boolean()) return Value{b->get()};
  if (const auto* i = node.as_integer()) return Value{i->get()};
  if (const auto* f = node.as_floating_point()) return Value{f->get()};
  if (const auto* s = node.as_string()) return Value{s->get()};
  const auto* array = node.as_array();
  if (array == nullptr) return std::nullopt;
  if (array->empty()) return Value{std::vector<double>{}};
  if (array->is_homogeneous(toml::node_type::integer)) {
    std::vector<std::int64_t> out;
    for (const auto& e : *array) out.push_back(e.as_integer()->get());
    return Value{out};
  }
  if (array->is_homogeneous(toml::node_type::string)) {
    std::vector<std::string> out;
    for (const auto& e : *array) out.push_back(e.as_string()->get());
    return Value{out};
  }
  std::vector<double> out;
  for (const auto& e : *array) {
    if (const auto* i = e.as_integer()) out.push_back(static_cast<double>(i->get()));
    else if (const auto* f = e.as_floating_point()) out.push_back(f->get());
    else return std::nullopt;
  }
  return Value{out};
}

// `value` typed and checked by the key's schema row (the Config's messages: wrong type, out of range).
Value checked(const std::string& key, Value value, const std::string& where) {
  Config scratch("(search space)");
  scratch.set(key, std::move(value), where);
  return scratch.value(key);
}

double number_of(const toml::node& node, const std::string& key, std::string_view field, const std::string& where) {
  if (const auto* i = node.as_integer()) return static_cast<double>(i->get());
  if (const auto* f = node.as_floating_point()) return f->get();
  throw UsageError(fmt::format("wrong type for \"{}\" {} in {}: expected a number", key, field, where));
}

SearchParam parse_param(const std::string& key, const toml::table& table, const std::string& name) {
  SearchParam param;
  param.key = key;
  param.where = line_of(name, table);
  const KeySpec& spec = *find_key(key);
  for (const auto& [field, node] : table) {
    if (std::find(kFields.begin(), kFields.end(), field.str()) == kFields.end())
      throw UsageError(fmt::format("unknown field \"{}\" for \"{}\" in {}; did you mean \"{}\"? (a key takes dist, "
                                   "low, high, num or values)",
                                   field.str(), key, line_of(name, node), nearest(field.str(), kFields)));
  }
  const toml::node* dist = table.get("dist");
  const toml::node* values = table.get("values");
  const toml::node* low = table.get("low");
  const toml::node* high = table.get("high");
  const toml::node* num = table.get("num");
  std::string dist_name = "choice";
  if (dist != nullptr) {
    const auto* s = dist->as_string();
    if (s == nullptr)
      throw UsageError(fmt::format("wrong type for \"{}\" dist in {}: expected a string (one of log_uniform, uniform, "
                                   "int_uniform, choice)",
                                   key, line_of(name, *dist)));
    dist_name = s->get();
    if (std::find(kDistributions.begin(), kDistributions.end(), dist_name) == kDistributions.end())
      throw UsageError(fmt::format("unknown dist \"{}\" for \"{}\" in {}; did you mean \"{}\"? (log_uniform, uniform, "
                                   "int_uniform or choice)",
                                   dist_name, key, line_of(name, *dist), nearest(dist_name, kDistributions)));
  } else if (values == nullptr) {
    throw UsageError(fmt::format("\"{}\" in {} needs dist = \"log_uniform\", \"uniform\" or \"int_uniform\" with low "
                                 "and high, or values = [...]",
                                 key, param.where));
  }

  if (dist_name == "choice") {
    if (low != nullptr || high != nullptr || num != nullptr)
      throw UsageError(fmt::format("\"{}\" in {}: a choice takes values = [...], not low, high or num", key,
                                   param.where));
    if (values == nullptr)
      throw UsageError(fmt::format("\"{}\" in {}: dist = \"choice\" needs values = [...]", key, param.where));
    const auto* array = values->as_array();
    if (array == nullptr)
      throw UsageError(fmt::format("wrong type for \"{}\" values in {}: expected a list", key, line_of(name, *values)));
    if (array->empty())
      throw UsageError(fmt::format("\"{}\" values in {} is empty: give at least one value", key,
                                   line_of(name, *values)));
    for (const auto& element : *array) {
      const std::string where = line_of(name, element);
      const std::optional<Value> value = value_of(element);
      if (!value)
        throw UsageError(fmt::format("wrong type for \"{}\" in {}: expected {}, got a table or a mixed list", key,
                                     where, type_name(spec.type)));
      param.values.push_back(checked(key, *value, where));
    }
    param.dist = Distribution::Choice;
    return param;
  }

  param.dist = dist_name == "log_uniform" ? Distribution::LogUniform
               : dist_name == "uniform"   ? Distribution::Uniform
                                          : Distribution::IntUniform;
  if (values != nullptr)
    throw UsageError(fmt::format("\"{}\" in {}: give either values = [...] or dist = \"{}\" with low and high, not "
                                 "both",
                                 key, param.where, dist_name));
  if (spec.type != Type::Float && spec.type != Type::Int)
    throw UsageError(fmt::format("\"{}\" in {} is {}, not a number: list its candidates with values = [...]", key,
                                 param.where, type_name(spec.type)));
  if (spec.type == Type::Int && param.dist != Distribution::IntUniform)
    throw UsageError(fmt::format("\"{}\" in {} is an integer: use dist = \"int_uniform\" (or values = [...])", key,
                                 param.where));
  if (low == nullptr || high == nullptr)
    throw UsageError(fmt::format("\"{}\" in {}: dist = \"{}\" needs low and high", key, param.where, dist_name));
  param.low = number_of(*low, key, "low", line_of(name, *low));
  param.high = number_of(*high, key, "high", line_of(name, *high));
  if (param.dist == Distribution::IntUniform && (!low->is_integer() || !high->is_integer()))
    throw UsageError(fmt::format("wrong type for \"{}\" in {}: int_uniform needs integer low and high", key,
                                 param.where));
  if (!(param.low < param.high))
    throw UsageError(fmt::format("invalid range for \"{}\" in {}: low ({}) must be < high ({})", key, param.where,
                                 format_value(param.low), format_value(param.high)));
  if (param.dist == Distribution::LogUniform && !(param.low > 0))
    throw UsageError(fmt::format("invalid range for \"{}\" in {}: log_uniform needs low > 0, got {}", key,
                                 param.where, format_value(param.low)));
  // Both ends must be values the key accepts (ranges are closed, so an open bound such as dropout < 1 counts).
  const auto as_key_type = [&](double x) {
    return spec.type == Type::Int ? Value{static_cast<std::int64_t>(x)} : Value{x};
  };
  checked(key, as_key_type(param.low), line_of(name, *low));
  checked(key, as_key_type(param.high), line_of(name, *high));
  if (num != nullptr) {
    const auto* n = num->as_integer();
    if (n == nullptr || n->get() < 2)
      throw UsageError(fmt::format("invalid value for \"{}\" num in {}: expected an integer >= 2 (one point: "
                                   "values = [x])",
                                   key, line_of(name, *num)));
    param.num = n->get();
    if (param.dist == Distribution::IntUniform && param.num > static_cast<std::int64_t>(param.high - param.low) + 1)
      throw UsageError(fmt::format("invalid value for \"{}\" num in {}: {} points do not fit the {} integers of "
                                   "[{}, {}]",
                                   key, line_of(name, *num), param.num,
                                   static_cast<std::int64_t>(param.high - param.low) + 1, param.low, param.high));
  }
  return param;
}

bool has_spec_fields(const toml::table& table) {
  return std::any_of(kFields.begin(), kFields.end(), [&](std::string_view f) { return table.contains(f); });
}

// A key's place in the file: toml++ iterates tables in key order, the space keeps the file's order.
using Placed = std::vector<std::pair<std::pair<std::uint32_t, std::uint32_t>, SearchParam>>;

void collect(const toml::table& table, const std::string& prefix, const std::string& name, Placed& params) {
  for (const auto& [part, node] : table) {
    const std::string key = prefix.empty() ? std::string(part.str()) : prefix + "." + std::string(part.str());
    const std::string where = line_of(name, node);
    const auto* sub = node.as_table();
    if (sub != nullptr && !has_spec_fields(*sub) && find_key(key) == nullptr) {
      collect(*sub, key, name, params);
      continue;
    }
    if (find_key(key) == nullptr)
      throw UsageError(fmt::format("unknown key \"{}\" in {}; did you mean \"{}\"?", key, where, nearest_key(key)));
    if (std::any_of(params.begin(), params.end(), [&](const auto& p) { return p.second.key == key; }))
      throw UsageError(fmt::format("\"{}\" appears twice in {} (again in {})", key, name, where));
    const std::pair<std::uint32_t, std::uint32_t> place{node.source().begin.line, node.source().begin.column};
    if (sub != nullptr) {
      params.emplace_back(place, parse_param(key, *sub, name));
    } else if (node.is_array()) {
      // key = [a, b, c]: shorthand for a choice.
      toml::table shorthand;
      shorthand.insert("values", *node.as_array());
      SearchParam param = parse_param(key, shorthand, name);
      param.where = where;
      params.emplace_back(place, std::move(param));
    } else {
      throw UsageError(fmt::format("\"{}\" in {} is a single value; a search space gives each key a table ([{}] with "
                                   "dist, low, high) or a list of values",
                                   key, where, key));
    }
  }
}

// splitmix64: a well-mixed 64-bit hash (Steele, Lea and Flood 2014); chained to key draws by (seed, trial, key).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A uniform double in [0, 1) from the top 53 bits.
double unit(std::uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

Value of_key_type(const std::string& key, double x) {
  return find_key(key)->type == Type::Int ? Value{static_cast<std::int64_t>(x)} : Value{x};
}

}  // namespace

SearchSpace parse_space(std::string_view text, const std::string& name) {
  const toml::table table = parse_toml(text, name);
  SearchSpace space;
  space.file = name;
  Placed params;
  collect(table, "", name, params);
  std::stable_sort(params.begin(), params.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [place, param] : params) space.params.push_back(std::move(param));
  if (space.params.empty())
    throw UsageError(fmt::format("{} names no keys to search; e.g.\n  [optim.lr]\n  dist = \"log_uniform\"\n  low = "
                                 "1e-4\n  high = 1e-1",
                                 name));
  return space;
}

SearchSpace load_space(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(fmt::format("cannot read search space {}: no such file, or not readable", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_space(buffer.str(), path);
}

std::vector<Value> grid_values(const SearchParam& param) {
  if (param.dist == Distribution::Choice) return param.values;
  if (param.num == 0)
    throw UsageError(fmt::format("\"{}\" in {}: a grid needs num (the points from low to high) or values = [...]",
                                 param.key, param.where));
  std::vector<Value> out;
  for (std::int64_t k = 0; k < param.num; ++k) {
    const double t = static_cast<double>(k) / static_cast<double>(param.num - 1);
    double x = 0;
    if (param.dist == Distribution::LogUniform) {
      x = std::exp(std::log(param.low) + t * (std::log(param.high) - std::log(param.low)));
    } else {
      x = param.low + t * (param.high - param.low);
      if (param.dist == Distribution::IntUniform) x = std::round(x);
    }
    // The ends exactly as written (exp(log(x)) can differ from x in the last bit).
    if (k == 0) x = param.low;
    if (k == param.num - 1) x = param.high;
    out.push_back(of_key_type(param.key, x));
  }
  return out;
}

std::int64_t grid_size(const SearchSpace& space) {
  std::int64_t size = 1;
  for (const SearchParam& param : space.params) size *= static_cast<std::int64_t>(grid_values(param).size());
  return size;
}

TrialParams grid_point(const SearchSpace& space, std::int64_t index) {
  TrialParams out(space.params.size());
  for (std::size_t j = space.params.size(); j-- > 0;) {
    const std::vector<Value> values = grid_values(space.params[j]);
    const auto n = static_cast<std::int64_t>(values.size());
    out[j] = {space.params[j].key, values[static_cast<std::size_t>(index % n)]};
    index /= n;
  }
  return out;
}

TrialParams random_point(const SearchSpace& space, std::uint64_t seed, std::int64_t index) {
  TrialParams out;
  const std::uint64_t trial_state = mix(mix(seed) ^ static_cast<std::uint64_t>(index));
  for (std::size_t j = 0; j < space.params.size(); ++j) {
    const SearchParam& param = space.params[j];
    const double u = unit(mix(trial_state ^ mix(j + 1)));
    Value value;
    switch (param.dist) {
      case Distribution::LogUniform:
        value = of_key_type(param.key, std::exp(std::log(param.low) + u * (std::log(param.high) - std::log(param.low))));
        break;
      case Distribution::Uniform: value = of_key_type(param.key, param.low + u * (param.high - param.low)); break;
      case Distribution::IntUniform:
        // Every integer of [low, high] with equal odds; the min guards u * count rounding up to count.
        value = of_key_type(param.key, std::min(param.high, param.low + std::floor(u * (param.high - param.low + 1))));
        break;
      case Distribution::Choice: {
        const auto n = param.values.size();
        value = param.values[std::min(n - 1, static_cast<std::size_t>(u * static_cast<double>(n)))];
        break;
      }
    }
    out.emplace_back(param.key, std::move(value));
  }
  return out;
}

}  // namespace vigil::cli
