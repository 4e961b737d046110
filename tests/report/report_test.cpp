// report.html from small hand-written run directories: every section is present, missing files say "not
// recorded", malformed files name the file and line, and text from the run cannot break out of the page.
#include <vigil/report/report.hpp>

#include <vigil/doctor/finding.hpp>
#include <vigil/tensor/error.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace vigil::report {
namespace {

namespace fs = std::filesystem;

class RunDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vigil-report-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) const { std::ofstream(dir_ / name) << text; }

  // The message of the Error that render_report throws (fails the test when it throws none).
  std::string error_message() const {
    try {
      render_report(dir_);
    } catch (const Error& e) {
      return e.what();
    }
    ADD_FAILURE() << "render_report did not throw";
    return "";
  }

  void write_full_run() const {
    write("config.toml", "[optim]\nlr = 0.01\n");
    write("metrics.jsonl",
          "{\"event\":\"step\",\"epoch\":0,\"step\":2,\"loss\":2.1,\"lr\":0.01}\n"
          "{\"event\":\"epoch\",\"epoch\":0,\"step\":4,\"loss\":1.5,\"val_loss\":1.4,\"accuracy\":0.5,"
          "\"val_accuracy\":0.55,\"lr\":0.01,\"seconds\":1.0}\n"
          "{\"event\":\"epoch\",\"epoch\":1,\"step\":8,\"loss\":1.1,\"val_loss\":1.2,\"accuracy\":0.6,"
          "\"val_accuracy\":0.52,\"lr\":0.01,\"seconds\":1.0}\n");
    write("layers.jsonl",
          "{\"step\":2,\"layer\":\"0.weight\",\"grad_norm\":0.5,\"weight_norm\":3,\"update_ratio\":0.001,"
          "\"activation_mean\":0,\"activation_std\":0,\"dead_fraction\":0,\"saturated_fraction\":0}\n"
          "{\"step\":2,\"layer\":\"1\",\"grad_norm\":0,\"weight_norm\":0,\"update_ratio\":0,"
          "\"activation_mean\":0.4,\"activation_std\":0.7,\"dead_fraction\":0.1,\"saturated_fraction\":0}\n");
    write("confusion.json", "{\"classes\":[\"cat\",\"dog\"],\"matrix\":[[8,2],[1,9]]}\n");
    doctor::Report doctor;
    doctor::Finding finding;
    finding.check = "optim.lr_high";
    finding.cause = doctor::Cause::optimisation;
    finding.where = "0.weight";
    finding.value = 0.05;
    finding.threshold = 0.01;
    finding.explanation = "updates are large";
    finding.suggestion = "lower the rate";
    doctor.add(finding);
    write("doctor.json", doctor.json());
    write("env.json", "{\"vigil_version\":\"0.1.0\",\"threads\":2,\"seed\":7,\"started\":\"2025-01-02 03:04\"}\n");
    write("trials.jsonl",
          "{\"trial\":0,\"params\":{\"optim.lr\":0.001},\"metric\":0.8,\"status\":\"done\"}\n"
          "{\"trial\":1,\"params\":{\"optim.lr\":0.1},\"metric\":0.9,\"metric_std\":0.01,\"status\":\"done\"}\n"
          "{\"trial\":2,\"params\":{\"optim.lr\":1.0},\"metric\":null,\"status\":\"failed\"}\n");
  }

  fs::path dir_;
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

TEST_F(RunDir, EverySectionAppearsWithItsContent) {
  write_full_run();
  const std::string html = render_report(dir_);
  for (const char* id : {"doctor", "curves", "layers", "confusion", "search", "environment", "config"})
    EXPECT_TRUE(contains(html, std::string("<section id=\"") + id + "\">")) << id;
  EXPECT_FALSE(contains(html, "Not recorded"));
  EXPECT_TRUE(contains(html, "Training report: " + dir_.filename().string()));
  EXPECT_TRUE(contains(html, "Verdict: 1 warning"));
  EXPECT_TRUE(contains(html, "started 2025-01-02 03:04"));
  for (const char* chart : {"chart-epoch-loss", "chart-epoch-accuracy", "chart-step-loss", "chart-step-lr",
                            "chart-layer-grad-norm", "chart-layer-update-ratio", "chart-layer-activation-std",
                            "chart-layer-dead-fraction", "chart-trials-0"})
    EXPECT_TRUE(contains(html, chart)) << chart;
  EXPECT_TRUE(contains(html, "best epoch 2"));   // the least val_loss
  EXPECT_TRUE(contains(html, "best epoch 1\""));  // the largest val_accuracy (mark_label in the chart spec)
  EXPECT_TRUE(contains(html, "optim.lr_high"));
  EXPECT_TRUE(contains(html, "lower the rate"));
  EXPECT_TRUE(contains(html, "0.9 ± 0.01"));
  EXPECT_TRUE(contains(html, "uPlot"));  // inlined, no network
  EXPECT_FALSE(contains(html, "src=\"http"));
  EXPECT_TRUE(contains(html, "<body data-status=\"loading\">"));
}

TEST_F(RunDir, MissingFilesSayNotRecorded) {
  const std::string html = render_report(dir_);
  for (const char* file : {"metrics.jsonl", "layers.jsonl", "confusion.json", "doctor.json", "env.json",
                           "trials.jsonl", "config.toml"})
    EXPECT_TRUE(contains(html, std::string("Not recorded: the run directory has no <code>") + file)) << file;
  for (const char* id : {"doctor", "curves", "layers", "confusion", "search", "environment", "config"})
    EXPECT_TRUE(contains(html, std::string("<section id=\"") + id + "\">")) << id;
  EXPECT_TRUE(contains(html, "verdict not recorded"));
  EXPECT_TRUE(contains(html, "id=\"vigil-charts\">[]</script>"));
}

TEST_F(RunDir, ConfigAndNamesCannotBreakOutOfThePage) {
  write_full_run();
  write("config.toml", "name = \"</script><script>alert(1)</script>\"\n");
  write("confusion.json", "{\"classes\":[\"<b>a</b>\",\"</script>\"],\"matrix\":[[1,0],[0,1]]}");
  write("layers.jsonl", "{\"step\":1,\"layer\":\"</script><!--\",\"grad_norm\":1,\"weight_norm\":1,\"update_ratio\":1}\n");
  const std::string html = render_report(dir_);
  EXPECT_TRUE(contains(html, "name = &quot;&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&quot;"));
  EXPECT_TRUE(contains(html, "<th>&lt;b&gt;a&lt;/b&gt;</th>"));
  EXPECT_FALSE(contains(html, "alert(1)</script>"));
  EXPECT_FALSE(contains(html, "<!--"));
  // The layer name reaches the chart JSON with "<" escaped.
  EXPECT_TRUE(contains(html, "\\u003c/script>\\u003c!--"));
  // Only the page's own three script elements (chart JSON, uPlot, report.js) open and close.
  EXPECT_EQ(occurrences(html, "</script>"), 3u);
  EXPECT_EQ(occurrences(html, "<script"), 3u);
}

TEST_F(RunDir, MalformedJsonLinesNameTheFileAndLine) {
  write("metrics.jsonl", "{\"event\":\"epoch\",\"epoch\":0,\"step\":1,\"loss\":1}\n\n{\"event\":\"epoch\",\"epoch\":1,");
  std::string message = error_message();
  EXPECT_TRUE(contains(message, "metrics.jsonl line 3")) << message;
  EXPECT_TRUE(contains(message, "not valid JSON")) << message;

  write("metrics.jsonl", "{\"event\":\"epoch\",\"step\":1,\"loss\":1}\n");
  message = error_message();
  EXPECT_TRUE(contains(message, "metrics.jsonl line 1: \"epoch\" is missing")) << message;

  write("metrics.jsonl", "{\"event\":\"epoch\",\"epoch\":0,\"step\":1,\"loss\":\"low\"}\n");
  message = error_message();
  EXPECT_TRUE(contains(message, "\"loss\" must be a number or null")) << message;
}

TEST_F(RunDir, MalformedLayersAndTrialsNameTheFileAndLine) {
  write("layers.jsonl", "{\"step\":1,\"layer\":\"a\",\"grad_norm\":1}\n[1, 2]\n");
  std::string message = error_message();
  EXPECT_TRUE(contains(message, "layers.jsonl line 2: expected a JSON object")) << message;

  fs::remove(dir_ / "layers.jsonl");
  write("trials.jsonl", "{\"trial\":0,\"params\":{},\"metric\":1,\"status\":\"done\"}\n{\"trial\":1,\"params\":3,\"status\":\"done\"}\n");
  message = error_message();
  EXPECT_TRUE(contains(message, "trials.jsonl line 2: \"params\" must be an object")) << message;
}

TEST_F(RunDir, MalformedJsonFilesNameTheFile) {
  write("confusion.json", "{\"classes\":[\"a\",\"b\"],\n\"matrix\":[[1,2],[3]]}");
  std::string message = error_message();
  EXPECT_TRUE(contains(message, "confusion.json: matrix row 1 (b) must hold 2 counts")) << message;

  write("confusion.json", "{\"classes\":[\"a\"],\n\"matrix\":[[1]],,}");
  message = error_message();
  EXPECT_TRUE(contains(message, "confusion.json: not valid JSON")) << message;
  EXPECT_TRUE(contains(message, "line 2")) << message;

  fs::remove(dir_ / "confusion.json");
  write("doctor.json", "{\"findings\":[{\"check\":\"x\",\"severity\":\"fatal\",\"cause\":\"data\",\"where\":\"\","
                       "\"explanation\":\"\",\"suggestion\":\"\"}],\"errors\":0,\"warnings\":0,\"infos\":0}");
  message = error_message();
  EXPECT_TRUE(contains(message, "doctor.json: finding 0: severity \"fatal\"")) << message;
}

TEST_F(RunDir, NotADirectoryThrows) {
  EXPECT_THROW(render_report(dir_ / "absent"), Error);
}

TEST_F(RunDir, WriteReportReplacesReportHtml) {
  write_full_run();
  write("report.html", "old");
  write_report(dir_);
  std::ifstream in(dir_ / "report.html");
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  for (const auto& entry : fs::directory_iterator(dir_))
    EXPECT_FALSE(contains(entry.path().filename().string(), ".tmp.")) << entry.path();
}

}  // namespace
}  // namespace vigil::report
