// Runs one case of the suite the way a user would run the doctor: pre-flight on the fresh setup, a short fit with
// the doctor's monitor, the curve analysis; then the same setup rebuilt and fitted without the monitor, for the
// monitor's time overhead.
#pragma once

#include "suite.hpp"

#include <vigil/doctor/finding.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::doctor_suite {

struct Outcome {
  std::vector<doctor::Finding> alarms;  // the warnings and errors, in rank order (infos left out)
  std::int64_t infos = 0;
  // 1-based rank among `alarms` of the first finding whose check is expected; 0 when none is.
  std::int64_t expected_rank = 0;
  std::string fit_error;  // what fit() threw, if it threw (the doctor's findings still count)
  std::string report_text;
  std::string report_json;
  double preflight_seconds = 0;
  double monitored_fit_seconds = 0;
  double plain_fit_seconds = 0;
};

struct RunOptions {
  std::uint64_t seed = 0;
  bool measure_overhead = true;  // also fit without the monitor (doubles the training time)
};

Outcome run_case(const Case& c, const RunOptions& options);

// How an outcome reads for its case: "detected", "detected (rank 3)", "missed", "clean" or "false alarm".
std::string verdict(const Case& c, const Outcome& outcome);

}  // namespace vigil::doctor_suite
