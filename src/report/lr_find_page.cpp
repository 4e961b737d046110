// lr_find.html: the learning-rate range test's curve on a page of its own, drawn like report.html's charts.
#include <vigil/report/report.hpp>

#include "page.hpp"

#include <vigil/data/atomic_file.hpp>

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace vigil::report {

std::string render_lr_find_page(const doctor::LrRangeResult& sweep, const std::string& name) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  // Log y: a diverging loss spans orders of magnitude; non-finite and non-positive losses are gaps.
  const auto positive = [&](const std::vector<double>& v) {
    std::vector<double> out;
    for (const double x : v) out.push_back(std::isfinite(x) && x > 0 ? x : kNaN);
    return out;
  };
  Chart chart{.id = "lr-find",
              .title = "Learning-rate range test",
              .x_label = "learning rate",
              .y_label = "training loss",
              .x = sweep.lrs,
              .series = {{"loss", positive(sweep.losses)}, {"smoothed", positive(sweep.smoothed)}},
              .log_x = true,
              .log_y = true};
  if (sweep.suggested_lr > 0) {
    chart.mark_x = sweep.suggested_lr;
    chart.mark_label = fmt::format("suggested {:.3g}", sweep.suggested_lr);
  }
  const std::string header = fmt::format(
      "<header>\n<h1>Learning-rate range test: {}</h1>\n<p class=\"verdict verdict-{}\">{}</p>\n</header>\n",
      escape_html(name), sweep.suggested_lr > 0 ? "ok" : "warning",
      escape_html(sweep.suggested_lr > 0 ? fmt::format("Suggested learning rate: {:.3g}", sweep.suggested_lr)
                                         : std::string("No suggestion")));
  std::string main = fmt::format(
      "<section id=\"lr-find\">\n<p>{} batches, each trained at a higher rate (from {:.3g} to {:.3g}); the "
      "smoothed curve is a bias-corrected moving average of the raw batch losses. {}</p>\n<div class=\"charts\">\n"
      "{}</div>\n</section>\n",
      sweep.lrs.size(), sweep.lrs.empty() ? 0.0 : sweep.lrs.front(), sweep.lrs.empty() ? 0.0 : sweep.lrs.back(),
      escape_html(sweep.reason), figure(chart));
  return html_page("vigil lr-find: " + name, header, main, {chart});
}

void write_lr_find_page(const std::filesystem::path& path, const doctor::LrRangeResult& sweep,
                        const std::string& name) {
  data::write_file_atomically(path.string(), render_lr_find_page(sweep, name));
}

}  // namespace vigil::report
