// vigil summary: the model of a config, layer by layer, for one sample.
#include <vigil/cli/builders.hpp>
#include <vigil/cli/commands.hpp>
#include <vigil/cli/config.hpp>
#include <vigil/nn/summary.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <ostream>

namespace vigil::cli {
namespace {

std::string thousands(std::int64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string human(double value, const char* unit) {
  constexpr std::array<const char*, 5> kPrefixes{"", "K", "M", "G", "T"};
  std::size_t p = 0;
  while (value >= 1000.0 && p + 1 < kPrefixes.size()) {
    value /= 1000.0;
    ++p;
  }
  return fmt::format("{:.2f} {}{}", value, kPrefixes[p], unit);
}

std::string human_bytes(std::int64_t bytes) {
  double value = static_cast<double>(bytes);
  constexpr std::array<const char*, 4> kUnits{"B", "KiB", "MiB", "GiB"};
  std::size_t u = 0;
  while (value >= 1024.0 && u + 1 < kUnits.size()) {
    value /= 1024.0;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.2f} {}", value, kUnits[u]);
}

}  // namespace

void run_summary(const SummaryRequest& request, std::ostream& out) {
  Config config = load_config(request.config, request.overrides);
  const LoadedData data = load_data(config);
  auto model = build_model(config, data);
  Shape one = data.sample_shape;
  one.insert(0, 1);
  const nn::Summary s = nn::summarize(*model, zeros(one));

  using Line = std::array<std::string, 6>;
  const Line header{"Layer", "Type", "Output shape", "Params", "Trainable", "FLOPs"};
  std::vector<Line> lines;
  for (const nn::SummaryRow& row : s.rows)
    lines.push_back({row.path.empty() ? "(model)" : row.path,
                     row.details.empty() ? row.type : row.type + "(" + row.details + ")", row.output_shape.str(),
                     thousands(row.params), thousands(row.trainable), thousands(row.flops)});
  std::array<std::size_t, 6> width{};
  for (std::size_t c = 0; c < width.size(); ++c) {
    width[c] = header[c].size();
    for (const Line& line : lines) width[c] = std::max(width[c], line[c].size());
  }
  std::size_t total = 2 * (width.size() - 1);
  for (const std::size_t w : width) total += w;
  const auto print = [&](const Line& line) {
    for (std::size_t c = 0; c < line.size(); ++c) {
      if (c > 0) out << "  ";
      const std::string pad(width[c] - line[c].size(), ' ');
      out << (c >= 3 ? pad + line[c] : line[c] + pad);
    }
    out << "\n";
  };
  out << fmt::format("model \"{}\" on samples {} with {} outputs ({})\n", config.get_string("model.name"),
                     data.sample_shape.str(), data.num_classes, request.config);
  print(header);
  out << std::string(total, '-') << "\n";
  for (const Line& line : lines) print(line);
  out << std::string(total, '=') << "\n";
  out << fmt::format("Total params: {} ({})\n", thousands(s.total_params), human_bytes(s.param_bytes));
  out << fmt::format("Trainable params: {}\n", thousands(s.trainable_params));
  out << fmt::format("Frozen params: {}\n", thousands(s.frozen_params));
  out << fmt::format("FLOPs per sample (forward, matrix products and convolutions): {} ({})\n", thousands(s.flops),
                     human(static_cast<double>(s.flops), "FLOP"));
  out << fmt::format("Activation memory per sample (the layers' outputs): {}\n", human_bytes(s.activation_bytes));
}

}  // namespace vigil::cli
