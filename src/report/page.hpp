// The page shell shared by report.html and lr_find.html: inlined uPlot, report.js and the styles, the chart
// specs as JSON, and <body data-status> for the browser test (see report.hpp).
#pragma once

#include "charts.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace vigil::report {

// `text` with & < > " ' replaced by their entities.
std::string escape_html(std::string_view text);
// The place report.js draws `chart` into: <figure id="chart-ID">.
std::string figure(const Chart& chart);
// A whole self-contained page: `header` and `main` are HTML, each of `charts` needs its figure() in them.
std::string html_page(const std::string& title, const std::string& header, const std::string& main,
                      const std::vector<Chart>& charts);

}  // namespace vigil::report
