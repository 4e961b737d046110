// Summary: one hooked forward pass, rows reordered from completion order to call order, and the table.
#include <vigil/nn/summary.hpp>

#include <vigil/nn/conv.hpp>
#include <vigil/nn/linear.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <set>
#include <utility>

namespace vigil::nn {

namespace {

// Whether the module at `inner` lies below the one at `outer` in the tree ("" is the model itself).
bool is_below(const std::string& inner, const std::string& outer) {
  return outer.empty() ? !inner.empty() : inner.size() > outer.size() && inner.starts_with(outer + ".");
}

// Restores every module's mode and removes the hooks when summarize() ends, normally or by an exception.
class SummaryScope {
 public:
  explicit SummaryScope(Module& model) {
    for (const auto& [path, module] : model.named_modules()) modes_.emplace_back(module, module->training());
  }
  ~SummaryScope() {
    for (HookHandle& handle : hooks_) handle.remove();
    // Parents come before their children, so each child's own mode is set last.
    for (const auto& [module, training] : modes_) module->train(training);
  }
  SummaryScope(const SummaryScope&) = delete;
  SummaryScope& operator=(const SummaryScope&) = delete;

  void add(HookHandle handle) { hooks_.push_back(std::move(handle)); }

 private:
  std::vector<std::pair<Module*, bool>> modes_;
  std::vector<HookHandle> hooks_;
};

std::int64_t count_elements(const std::vector<std::pair<std::string, Tensor>>& parameters, bool trainable_only) {
  std::int64_t n = 0;
  for (const auto& [name, parameter] : parameters) {
    if (!trainable_only || parameter.requires_grad()) n += parameter.numel();
  }
  return n;
}

// 1234567 -> "1,234,567" (n >= 0: element counts)
std::string with_thousands(std::int64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

// 172 -> "172 B", 412160 -> "402.50 KiB"
std::string human_bytes(std::int64_t bytes) {
  constexpr std::array<const char*, 4> kUnits{"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < kUnits.size()) {
    value /= 1024.0;
    ++unit;
  }
  return fmt::format("{:.2f} {}", value, kUnits[unit]);
}

// 2 per multiply-add of a matrix product or convolution, plus one per bias addition. Each output element of a
// Linear or (grouped) convolution is a dot product over weight.numel() / weight.size(0) inputs (in_features, or
// C_in / G * kernel extents); a transposed convolution scatters each input element into out_channels / G * kernel
// extents outputs, which is its weight's numel() / size(0) too ([C_in, C_out / G, kH, kW]).
std::int64_t own_flops(const Module& m, const Tensor& input, const Tensor& output) {
  const bool transposed = dynamic_cast<const ConvTranspose2d*>(&m) != nullptr;
  if (!transposed && dynamic_cast<const Linear*>(&m) == nullptr && dynamic_cast<const Conv1d*>(&m) == nullptr &&
      dynamic_cast<const Conv2d*>(&m) == nullptr)
    return 0;
  std::int64_t flops = 0;
  for (const auto& [name, parameter] : m.own_parameters()) {
    if (name == "weight" && parameter.dim() >= 2) {
      const std::int64_t fan = parameter.numel() / parameter.size(0);
      flops += 2 * fan * (transposed ? input.numel() : output.numel());
    } else if (name == "bias") {
      flops += output.numel();
    }
  }
  return flops;
}

}  // namespace

Summary summarize(Module& model, const Tensor& example_input) {
  Summary summary;
  // Forward hooks fire when a call ends, so children finish before their parent. Each finished call becomes a
  // subtree of rows in call order; when a module finishes, the subtrees finished just before it by modules
  // below it are its nested calls and go after its own row.
  struct Subtree {
    std::string path;
    std::vector<SummaryRow> rows;
  };
  std::vector<Subtree> finished;
  {
    SummaryScope scope(model);
    std::set<const Module*> hooked;  // a module registered under two paths is hooked once, at its first path
    for (const auto& [path, module] : model.named_modules()) {
      if (!hooked.insert(module).second) continue;
      scope.add(module->register_forward_hook(
          [&finished, path = path](const Module& m, const Tensor& input, const Tensor& output) {
            Subtree subtree{path, {SummaryRow{path, m.type_name(), m.extra_repr(), output.shape(),
                                              count_elements(m.own_parameters(), false),
                                              count_elements(m.own_parameters(), true), own_flops(m, input, output),
                                              output.numel() * static_cast<std::int64_t>(dtype_size(output.dtype())),
                                              m.named_children().empty()}}};
            auto first_nested = finished.end();
            while (first_nested != finished.begin() && is_below(std::prev(first_nested)->path, path)) --first_nested;
            for (auto it = first_nested; it != finished.end(); ++it) {
              subtree.rows.insert(subtree.rows.end(), it->rows.begin(), it->rows.end());
            }
            finished.erase(first_nested, finished.end());
            finished.push_back(std::move(subtree));
          }));
    }
    model.eval();
    NoGradGuard no_grad;
    (void)model(example_input);
  }
  for (Subtree& subtree : finished) {
    summary.rows.insert(summary.rows.end(), subtree.rows.begin(), subtree.rows.end());
  }
  for (const SummaryRow& row : summary.rows) {
    summary.flops += row.flops;
    if (row.leaf) summary.activation_bytes += row.output_bytes;
  }

  std::set<const TensorImpl*> seen;
  for (const auto& [path, parameter] : model.named_parameters()) {
    if (!seen.insert(parameter.impl_ptr().get()).second) continue;
    summary.total_params += parameter.numel();
    (parameter.requires_grad() ? summary.trainable_params : summary.frozen_params) += parameter.numel();
    summary.param_bytes += parameter.numel() * static_cast<std::int64_t>(dtype_size(parameter.dtype()));
  }
  return summary;
}

std::string Summary::str() const {
  constexpr std::size_t kColumns = 5;
  using Line = std::array<std::string, kColumns>;
  const Line header{"Layer", "Type", "Output shape", "Params", "Trainable"};
  constexpr std::array<bool, kColumns> kRightAligned{false, false, false, true, true};
  std::vector<Line> lines;
  for (const SummaryRow& row : rows) {
    lines.push_back({row.path.empty() ? "(model)" : row.path,
                     row.details.empty() ? row.type : row.type + "(" + row.details + ")", row.output_shape.str(),
                     with_thousands(row.params), with_thousands(row.trainable)});
  }
  std::array<std::size_t, kColumns> width{};
  for (std::size_t c = 0; c < kColumns; ++c) {
    width[c] = header[c].size();
    for (const Line& line : lines) width[c] = std::max(width[c], line[c].size());
  }
  std::size_t total_width = 2 * (kColumns - 1);
  for (std::size_t w : width) total_width += w;

  std::string out;
  const auto append_line = [&](const Line& line) {
    std::string text;
    for (std::size_t c = 0; c < kColumns; ++c) {
      if (c > 0) text += "  ";
      const std::string pad(width[c] - line[c].size(), ' ');
      text += kRightAligned[c] ? pad + line[c] : line[c] + pad;
    }
    out += text + "\n";
  };
  append_line(header);
  out += std::string(total_width, '-') + "\n";
  for (const Line& line : lines) append_line(line);
  out += std::string(total_width, '=') + "\n";
  out += fmt::format("Total params: {} ({})\n", with_thousands(total_params), human_bytes(param_bytes));
  out += fmt::format("Trainable params: {}\n", with_thousands(trainable_params));
  out += fmt::format("Frozen params: {}\n", with_thousands(frozen_params));
  return out;
}

}  // namespace vigil::nn
