// The files inlined into every report.html, read at configure time (cmake/VigilReportAssets.cmake).
#pragma once

#include <string_view>

namespace vigil::report::assets {

extern const std::string_view uplot_js;    // uPlot's minified IIFE build (defines window.uPlot)
extern const std::string_view uplot_css;   // uPlot's stylesheet
extern const std::string_view report_js;   // src/report/report.js: draws the charts, sets body[data-status]
extern const std::string_view report_css;  // src/report/report.css: the page's layout, screen and print

}  // namespace vigil::report::assets
