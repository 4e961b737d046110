// report.html: the page's HTML (tables, text, the places for charts) and its inlined script and styles.
// Tables are rendered here so that the page reads in print and without JavaScript; report.js only draws the
// charts whose specs charts.cpp builds, from the JSON in <script id="vigil-charts">.
#include <vigil/report/report.hpp>

#include "assets.hpp"
#include "charts.hpp"
#include "page.hpp"
#include "run_files.hpp"

#include <vigil/data/atomic_file.hpp>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace vigil::report {

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

using nlohmann::json;

// JSON inside <script>: a "<" only occurs in JSON strings, where \u003c means the same, so "</script>" or "<!--"
// in a value cannot end or comment out the element.
std::string script_json(const json& value) {
  const std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '<') out += "\\u003c";
    else out += c;
  }
  return out;
}

// 4 significant digits; whole numbers in full ("10000", not "1e+04").
std::string number(double v) {
  if (std::isnan(v)) return "–";
  if (v == std::round(v) && std::abs(v) < 1e15) return fmt::format("{:.0f}", v);
  return fmt::format("{:.4g}", v);
}

// A JSON value as table text: strings unquoted, fractional numbers to 4 significant digits, anything else as JSON.
std::string json_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_float()) return number(value.get<double>());
  return value.dump();
}

std::string not_recorded(const char* file) {
  return fmt::format("<p class=\"not-recorded\">Not recorded: the run directory has no <code>{}</code>.</p>\n", file);
}

std::string section(const char* id, const char* title, const std::string& body) {
  return fmt::format("<section id=\"{}\">\n<h2>{}</h2>\n{}</section>\n", id, title, body);
}

// ---- The header: run name, date, verdict, headline figures ----

struct Verdict {
  std::string css;   // "error", "warning", "ok", "unknown"
  std::string text;
};

Verdict verdict_of(const RunFiles& run) {
  if (!run.doctor) return {"unknown", "verdict not recorded (no doctor.json)"};
  const auto errors = (*run.doctor)["errors"].get<std::int64_t>();
  const auto warnings = (*run.doctor)["warnings"].get<std::int64_t>();
  const auto plural = [](std::int64_t n, const char* word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); };
  if (errors > 0)
    return {"error", fmt::format("{}, {}: start with finding 1", plural(errors, "error"), plural(warnings, "warning"))};
  if (warnings > 0) return {"warning", fmt::format("{}: see the findings", plural(warnings, "warning"))};
  return {"ok", "healthy: the doctor found no problem"};
}

std::string now_utc() {
  return fmt::format("{:%Y-%m-%d %H:%M} UTC", fmt::gmtime(std::time(nullptr)));
}

std::string header(const RunFiles& run) {
  std::string out = fmt::format("<header>\n<h1>Training report: {}</h1>\n<p class=\"meta\">", escape_html(run.name));
  if (run.env && run.env->contains("started"))
    out += fmt::format("started {} &middot; ", escape_html(json_text((*run.env)["started"])));
  out += fmt::format("report written {}</p>\n", now_utc());
  const Verdict verdict = verdict_of(run);
  out += fmt::format("<p class=\"verdict verdict-{}\">Verdict: {}</p>\n", verdict.css, escape_html(verdict.text));
  // Headline figures: the last epoch, and the best epoch by validation loss.
  if (run.metrics) {
    std::vector<std::string> facts;
    const MetricsLine* last = nullptr;
    for (const MetricsLine& line : *run.metrics)
      if (line.event == "epoch" && (!last || line.epoch >= last->epoch)) last = &line;
    if (last) {
      facts.push_back(fmt::format("{} epochs, {} steps", last->epoch + 1, last->step));
      for (const auto& [key, value] : last->values)
        if (key != "lr" && key != "seconds") facts.push_back(fmt::format("final {} {}", key, number(value)));
    }
    if (const auto best = best_epoch(*run.metrics, "loss")) facts.push_back(fmt::format("best epoch {} (least val_loss)", *best + 1));
    if (!facts.empty()) {
      out += "<p class=\"facts\">";
      for (std::size_t i = 0; i < facts.size(); ++i) out += (i ? " &middot; " : "") + escape_html(facts[i]);
      out += "</p>\n";
    }
  }
  out += "<nav>";
  for (const auto& [id, title] : {std::pair{"doctor", "Doctor"}, {"curves", "Curves"}, {"layers", "Layers"},
                                  {"confusion", "Confusion matrix"}, {"search", "Search"}, {"environment", "Environment"},
                                  {"config", "Configuration"}})
    out += fmt::format("<a href=\"#{}\">{}</a> ", id, title);
  out += "</nav>\n</header>\n";
  return out;
}

// ---- Sections ----

std::string doctor_section(const RunFiles& run) {
  if (!run.doctor) return section("doctor", "Doctor", not_recorded("doctor.json"));
  const json& findings = (*run.doctor)["findings"];
  if (findings.empty()) return section("doctor", "Doctor", "<p>No findings: every check passed.</p>\n");
  std::string body = "<ol class=\"findings\">\n";
  for (const json& f : findings) {
    const std::string severity = f["severity"].get<std::string>();
    body += fmt::format("<li class=\"finding severity-{}\">\n<p class=\"finding-head\"><span class=\"badge\">{}</span> "
                        "<code>{}</code>",
                        severity, severity, escape_html(f["check"].get<std::string>()));
    if (const std::string where = f["where"].get<std::string>(); !where.empty())
      body += fmt::format(" at <code>{}</code>", escape_html(where));
    body += fmt::format(" <span class=\"cause\">cause: {}</span></p>\n", escape_html(f["cause"].get<std::string>()));
    body += fmt::format("<p>{}</p>\n", escape_html(f["explanation"].get<std::string>()));
    if (f.contains("value") && !f["value"].is_null()) {
      body += fmt::format("<p class=\"evidence\">measured {}", escape_html(json_text(f["value"])));
      if (f.contains("threshold") && !f["threshold"].is_null())
        body += fmt::format(" (threshold {})", escape_html(json_text(f["threshold"])));
      body += "</p>\n";
    }
    body += fmt::format("<p class=\"suggestion\">Try: {}</p>\n</li>\n", escape_html(f["suggestion"].get<std::string>()));
  }
  body += "</ol>\n";
  return section("doctor", "Doctor", body);
}

std::string curves_section(const RunFiles& run, std::vector<Chart>& charts) {
  if (!run.metrics) return section("curves", "Training curves", not_recorded("metrics.jsonl"));
  std::string body = "<p>Per epoch, training against validation (dashed line: the best validation epoch); the batch "
                     "loss and the learning rate over optimizer steps.</p>\n<div class=\"charts\">\n";
  for (Chart& chart : epoch_charts(*run.metrics)) {
    body += figure(chart);
    charts.push_back(std::move(chart));
  }
  std::vector<Chart> steps = step_charts(*run.metrics);
  if (std::ranges::none_of(steps, [](const Chart& c) { return c.id == "step-lr"; }))
    body += "<p class=\"not-recorded\">Learning rate: not recorded.</p>\n";
  for (Chart& chart : steps) {
    body += figure(chart);
    charts.push_back(std::move(chart));
  }
  return section("curves", "Training curves", body + "</div>\n");
}

std::string layers_section(const RunFiles& run, std::vector<Chart>& charts) {
  if (!run.layers) return section("layers", "Layer statistics", not_recorded("layers.jsonl"));
  std::vector<std::string> notes;
  std::string body = "<p>Sampled by the doctor's monitor: gradient norms and update/weight ratios per parameter "
                     "(log scale; healthy ratios sit near 1e-3), activation spread and dead units per module.</p>\n"
                     "<div class=\"charts\">\n";
  for (Chart& chart : layer_charts(*run.layers, notes)) {
    body += figure(chart);
    charts.push_back(std::move(chart));
  }
  body += "</div>\n";
  for (const std::string& note : notes) body += fmt::format("<p class=\"not-recorded\">{}</p>\n", escape_html(note));
  return section("layers", "Layer statistics", body);
}

std::string confusion_section(const RunFiles& run) {
  if (!run.confusion) return section("confusion", "Confusion matrix", not_recorded("confusion.json"));
  const Confusion& c = *run.confusion;
  const std::size_t n = c.classes.size();
  std::vector<std::int64_t> row_total(n, 0), column_total(n, 0);
  std::int64_t total = 0, correct = 0;
  for (std::size_t t = 0; t < n; ++t)
    for (std::size_t p = 0; p < n; ++p) {
      row_total[t] += c.matrix[t][p];
      column_total[p] += c.matrix[t][p];
      total += c.matrix[t][p];
      if (t == p) correct += c.matrix[t][p];
    }
  const auto ratio = [](std::int64_t a, std::int64_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b); };
  std::string body = fmt::format("<p>Rows: true class; columns: predicted class. {} samples, accuracy {}. A cell's "
                                 "shade is its share of the row; recall per row, precision per column.</p>\n",
                                 total, number(ratio(correct, total)));
  body += "<table class=\"confusion\">\n<thead><tr><th>true \\ predicted</th>";
  for (const std::string& name : c.classes) body += fmt::format("<th>{}</th>", escape_html(name));
  body += "<th>recall</th></tr></thead>\n<tbody>\n";
  for (std::size_t t = 0; t < n; ++t) {
    body += fmt::format("<tr><th>{}</th>", escape_html(c.classes[t]));
    for (std::size_t p = 0; p < n; ++p) {
      const double share = ratio(c.matrix[t][p], row_total[t]);
      // Blue for the diagonal (right), red off it (wrong); white text on the darker half.
      const char* hue = t == p ? "33, 102, 172" : "178, 24, 43";
      body += fmt::format("<td style=\"background: rgba({}, {:.3f});{}\">{}</td>", hue, share,
                          share > 0.5 ? " color: #fff" : "", c.matrix[t][p]);
    }
    body += fmt::format("<td class=\"score\">{}</td></tr>\n", number(ratio(c.matrix[t][t], row_total[t])));
  }
  body += "</tbody>\n<tfoot><tr><th>precision</th>";
  for (std::size_t p = 0; p < n; ++p) body += fmt::format("<td class=\"score\">{}</td>", number(ratio(c.matrix[p][p], column_total[p])));
  body += "<td></td></tr></tfoot>\n</table>\n";
  return section("confusion", "Confusion matrix", body);
}

std::string search_section(const RunFiles& run, std::vector<Chart>& charts) {
  if (!run.trials) return section("search", "Hyperparameter search", not_recorded("trials.jsonl") + "<p>(Only `vigil search` runs have trials.)</p>\n");
  const std::vector<Trial>& trials = *run.trials;
  const bool maximise = trials.empty() || trials.front().mode == "max";
  const std::string metric = trials.empty() || trials.front().metric_name.empty() ? "metric" : trials.front().metric_name;
  // Best first; trials without a metric (failed, pruned) last, in trial order.
  std::vector<const Trial*> sorted;
  for (const Trial& trial : trials) sorted.push_back(&trial);
  std::ranges::stable_sort(sorted, [&](const Trial* a, const Trial* b) {
    const bool has_a = a->metric && !std::isnan(*a->metric), has_b = b->metric && !std::isnan(*b->metric);
    if (has_a != has_b) return has_a;
    if (!has_a) return a->trial < b->trial;
    return maximise ? *a->metric > *b->metric : *a->metric < *b->metric;
  });
  std::vector<std::string> params;
  for (const Trial& trial : trials)
    for (const auto& [name, value] : trial.params.items())
      if (std::ranges::find(params, name) == params.end()) params.push_back(name);

  std::string body = fmt::format("<p>{} trials, best first ({} is better).</p>\n<div class=\"charts\">\n", trials.size(),
                                 maximise ? "larger" : "smaller");
  for (Chart& chart : trial_charts(trials)) {
    body += figure(chart);
    charts.push_back(std::move(chart));
  }
  body += fmt::format("</div>\n<table class=\"trials\">\n<thead><tr><th>rank</th><th>trial</th><th>status</th><th>{}</th>",
                      escape_html(metric));
  for (const std::string& name : params) body += fmt::format("<th>{}</th>", escape_html(name));
  body += "</tr></thead>\n<tbody>\n";
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const Trial& t = *sorted[i];
    std::string score = t.metric ? number(*t.metric) : "–";
    if (t.metric && t.metric_std) score += fmt::format(" ± {}", number(*t.metric_std));
    body += fmt::format("<tr{}><td>{}</td><td>{}</td><td>{}</td><td class=\"score\">{}</td>", i == 0 && t.metric ? " class=\"best\"" : "",
                        i + 1, t.trial, escape_html(t.status), score);
    for (const std::string& name : params) {
      const auto it = t.params.find(name);
      body += fmt::format("<td>{}</td>", it == t.params.end() ? "" : escape_html(json_text(*it)));
    }
    body += "</tr>\n";
  }
  body += "</tbody>\n</table>\n";
  return section("search", "Hyperparameter search", body);
}

std::string environment_section(const RunFiles& run) {
  if (!run.env) return section("environment", "Environment", not_recorded("env.json"));
  std::string body = "<table class=\"env\">\n";
  for (const auto& [key, value] : run.env->items())
    body += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", escape_html(key), escape_html(json_text(value)));
  return section("environment", "Environment", body + "</table>\n");
}

std::string config_section(const RunFiles& run) {
  if (!run.config) return section("config", "Configuration", not_recorded("config.toml"));
  return section("config", "Configuration",
                 fmt::format("<pre class=\"config\">{}</pre>\n", escape_html(*run.config)));
}

}  // namespace

std::string figure(const Chart& chart) {
  return fmt::format("<figure class=\"chart\" id=\"chart-{}\" aria-label=\"{}\"></figure>\n", escape_html(chart.id),
                     escape_html(chart.title));
}

std::string html_page(const std::string& title, const std::string& header, const std::string& main,
                      const std::vector<Chart>& charts) {
  json specs = json::array();
  for (const Chart& chart : charts) specs.push_back(to_json(chart));
  // data-status: "loading" until report.js has drawn every chart ("ok") or failed ("error: ...").
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"generator\" content=\"vigil report\">\n<title>{}</title>\n"
      "<style>\n{}\n</style>\n<style>\n{}\n</style>\n</head>\n<body data-status=\"loading\">\n{}<main>\n{}</main>\n"
      "<script type=\"application/json\" id=\"vigil-charts\">{}</script>\n"
      "<script>\n{}\n</script>\n<script>\n{}\n</script>\n</body>\n</html>\n",
      escape_html(title), assets::uplot_css, assets::report_css, header, main, script_json(specs), assets::uplot_js,
      assets::report_js);
}

std::string render_report(const std::filesystem::path& run_dir) {
  const RunFiles run = read_run(run_dir);
  std::vector<Chart> charts;
  std::string sections = doctor_section(run);
  sections += curves_section(run, charts);
  sections += layers_section(run, charts);
  sections += confusion_section(run);
  sections += search_section(run, charts);
  sections += environment_section(run);
  sections += config_section(run);
  return html_page("vigil report: " + run.name, header(run), sections, charts);
}

void write_report(const std::filesystem::path& run_dir) {
  const std::string html = render_report(run_dir);
  data::write_file_atomically((run_dir / "report.html").string(), html);
}

}  // namespace vigil::report
