#include "vigil/doctor/finding.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace vigil::doctor {
namespace {

Finding make(std::string check, Cause cause, Severity severity, double excess = 0.0) {
  Finding f;
  f.check = std::move(check);
  f.cause = cause;
  f.severity = severity;
  f.excess = excess;
  f.explanation = "because";
  f.suggestion = "fix it";
  return f;
}

TEST(Report, RanksByCauseThenSeverityThenExcess) {
  Report report;
  report.add(make("optim.lr", Cause::optimisation, Severity::error));
  report.add(make("data.scale", Cause::data, Severity::warning, 1.0));
  report.add(make("data.labels", Cause::data, Severity::error));
  report.add(make("data.scale2", Cause::data, Severity::warning, 5.0));
  report.add(make("data.nan", Cause::non_finite_data, Severity::info));
  std::vector<std::string> order;
  for (const Finding& f : report.ranked()) order.push_back(f.check);
  EXPECT_EQ(order, (std::vector<std::string>{"data.nan", "data.labels", "data.scale2", "data.scale", "optim.lr"}));
}

TEST(Report, SilencesExactIdsAndPrefixes) {
  Report report({"data."});
  report.add(make("data.scale", Cause::data, Severity::warning));
  report.add(make("model.lint", Cause::model, Severity::warning));
  report.silence("model.lint");
  report.add(make("model.other", Cause::model, Severity::error));
  EXPECT_FALSE(report.has("data.scale"));
  EXPECT_FALSE(report.has("model.lint"));
  EXPECT_TRUE(report.has("model.other"));
  EXPECT_EQ(report.ranked().size(), 1u);
  EXPECT_TRUE(report.has_errors());
}

TEST(Report, JsonCarriesEveryFieldAndNonFiniteValuesAsStrings) {
  Report report;
  Finding f = make("train.non_finite_loss", Cause::optimisation, Severity::error);
  f.where = "fc1";
  f.value = std::numeric_limits<double>::quiet_NaN();
  f.threshold = 1.0;
  report.add(f);
  const auto j = nlohmann::json::parse(report.json());
  ASSERT_EQ(j["findings"].size(), 1u);
  EXPECT_EQ(j["findings"][0]["check"], "train.non_finite_loss");
  EXPECT_EQ(j["findings"][0]["severity"], "error");
  EXPECT_EQ(j["findings"][0]["where"], "fc1");
  EXPECT_EQ(j["findings"][0]["value"], "nan");
  EXPECT_EQ(j["findings"][0]["threshold"], 1.0);
  EXPECT_EQ(j["errors"], 1);
}

TEST(Report, TextNamesEachFindingAndEndsWithAVerdict) {
  Report healthy;
  EXPECT_NE(healthy.text().find("healthy"), std::string::npos);
  Report report;
  Finding f = make("data.scale", Cause::data, Severity::warning);
  f.value = 255.0;
  f.threshold = 10.0;
  report.add(f);
  const std::string text = report.text();
  EXPECT_NE(text.find("1. [warning] data.scale"), std::string::npos);
  EXPECT_NE(text.find("measured 255 (threshold 10)"), std::string::npos);
  EXPECT_NE(text.find("Try: fix it"), std::string::npos);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

}  // namespace
}  // namespace vigil::doctor
