// vigil_doctor_suite: runs the doctor on every case of the suite and scores it.
//
//   vigil_doctor_suite [--fast] [--only NAME] [--json FILE] [--seed S] [--verbose] [--no-overhead] [--list]
//
// One line per case: name, category, expected check ids, the top two findings (warnings and errors in rank
// order; infos are not diagnoses), and the verdict. Then the scores:
//   detection          broken cases whose expected finding ranks first or second     target >= 90%
//   any-rank detection broken cases whose expected finding is reported at all
//   top-1 accuracy     broken cases whose first finding is an expected one
//   false positives    healthy cases with any warning or error                        target <= 10%
//   overhead           monitored fit time / the same fit without the monitor, summed over the cases; mean
//                      pre-flight seconds
// The exit code is 1 when a target is missed (2 for bad arguments or a crash). --verbose prints every report.
#include "runner.hpp"
#include "suite.hpp"

#include <vigil/data/atomic_file.hpp>

#include <cstdio>
#include <exception>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <string>

using namespace vigil;
using namespace vigil::doctor_suite;

namespace {

struct Args {
  bool fast = false;
  bool verbose = false;
  bool list = false;
  bool overhead = true;
  std::string only;
  std::string json;
  std::uint64_t seed = 0;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw Error("vigil_doctor_suite: " + arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--fast") a.fast = true;
    else if (arg == "--verbose") a.verbose = true;
    else if (arg == "--list") a.list = true;
    else if (arg == "--no-overhead") a.overhead = false;
    else if (arg == "--only") a.only = value();
    else if (arg == "--json") a.json = value();
    else if (arg == "--seed") a.seed = std::stoull(value());
    else throw Error("vigil_doctor_suite: unknown option " + arg +
                     " (known: --fast --only NAME --json FILE --seed S --verbose --no-overhead --list)");
  }
  return a;
}

std::string joined(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : separator) + s;
  return out;
}

std::string top_two(const Outcome& o) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < o.alarms.size() && i < 2; ++i) names.push_back(o.alarms[i].check);
  return names.empty() ? "-" : joined(names, ", ");
}

double ratio(std::int64_t a, std::int64_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b); }

}  // namespace

int main(int argc, char** argv) try {
  const Args args = parse(argc, argv);
  std::vector<Case> cases;
  for (Case& c : all_cases()) {
    if (!args.only.empty() && c.name != args.only) continue;
    if (args.fast && args.only.empty() && !c.fast) continue;
    cases.push_back(std::move(c));
  }
  if (cases.empty()) throw Error("vigil_doctor_suite: no case named " + args.only);
  if (args.list) {
    for (const Case& c : cases)
      std::printf("%-34s %-14s %s\n", c.name.c_str(), to_string(c.category).c_str(), c.description.c_str());
    return 0;
  }

  std::int64_t broken = 0, healthy = 0, top2 = 0, any_rank = 0, top1 = 0, false_alarms = 0;
  double preflight = 0, monitored = 0, plain = 0;
  nlohmann::json results = nlohmann::json::array();
  for (const Case& c : cases) {
    const Outcome o = run_case(c, {.seed = args.seed, .measure_overhead = args.overhead});
    const std::string v = verdict(c, o);
    std::printf("%-34s %-14s expected: %-40s top: %-50s %s\n", c.name.c_str(), to_string(c.category).c_str(),
                c.broken() ? joined(c.expected, "|").c_str() : "(none)", top_two(o).c_str(), v.c_str());
    if (args.verbose) {
      std::printf("%s", o.report_text.c_str());
      if (!o.fit_error.empty()) std::printf("   fit threw: %s\n", o.fit_error.c_str());
      std::printf("   pre-flight %.2f s, monitored fit %.2f s, plain fit %.2f s\n\n", o.preflight_seconds,
                  o.monitored_fit_seconds, o.plain_fit_seconds);
    }
    std::fflush(stdout);
    if (c.broken()) {
      ++broken;
      top2 += o.expected_rank >= 1 && o.expected_rank <= 2;
      any_rank += o.expected_rank >= 1;
      top1 += o.expected_rank == 1;
    } else {
      ++healthy;
      false_alarms += !o.alarms.empty();
    }
    preflight += o.preflight_seconds;
    monitored += o.monitored_fit_seconds;
    plain += o.plain_fit_seconds;
    results.push_back({{"name", c.name},
                       {"category", to_string(c.category)},
                       {"description", c.description},
                       {"expected", c.expected},
                       {"verdict", v},
                       {"expected_rank", o.expected_rank},
                       {"fit_error", o.fit_error},
                       {"preflight_seconds", o.preflight_seconds},
                       {"monitored_fit_seconds", o.monitored_fit_seconds},
                       {"plain_fit_seconds", o.plain_fit_seconds},
                       {"report", nlohmann::json::parse(o.report_json)}});
  }

  const double detection = ratio(top2, broken), fp_rate = ratio(false_alarms, healthy);
  const double overhead = args.overhead && plain > 0 ? monitored / plain - 1.0 : 0.0;
  const double mean_preflight = preflight / static_cast<double>(cases.size());
  const bool passed = (broken == 0 || detection >= 0.9) && fp_rate <= 0.1;
  std::printf("\ncases: %lld broken, %lld healthy\n", static_cast<long long>(broken), static_cast<long long>(healthy));
  std::printf("detection (expected finding ranked 1st or 2nd): %lld/%lld = %.1f%% (target >= 90%%)\n",
              static_cast<long long>(top2), static_cast<long long>(broken), 100 * detection);
  std::printf("any-rank detection: %lld/%lld = %.1f%%\n", static_cast<long long>(any_rank),
              static_cast<long long>(broken), 100 * ratio(any_rank, broken));
  std::printf("top-ranked finding accuracy: %lld/%lld = %.1f%%\n", static_cast<long long>(top1),
              static_cast<long long>(broken), 100 * ratio(top1, broken));
  std::printf("false positives (healthy with any warning or error): %lld/%lld = %.1f%% (target <= 10%%)\n",
              static_cast<long long>(false_alarms), static_cast<long long>(healthy), 100 * fp_rate);
  if (args.overhead)
    std::printf("monitor overhead: monitored fits %.2f s vs plain fits %.2f s = %+.1f%%\n", monitored, plain,
                100 * overhead);
  std::printf("pre-flight: %.2f s in all, %.2f s per case\n", preflight, mean_preflight);
  std::printf("%s\n", passed ? "PASS" : "FAIL: a target is missed");

  if (!args.json.empty()) {
    const nlohmann::json summary = {{"broken", broken},
                                    {"healthy", healthy},
                                    {"detection_top2", detection},
                                    {"detection_any_rank", ratio(any_rank, broken)},
                                    {"top1_accuracy", ratio(top1, broken)},
                                    {"false_positive_rate", fp_rate},
                                    {"monitored_fit_seconds", monitored},
                                    {"plain_fit_seconds", plain},
                                    {"monitor_overhead", overhead},
                                    {"mean_preflight_seconds", mean_preflight},
                                    {"passed", passed}};
    data::write_file_atomically(args.json, nlohmann::json{{"summary", summary}, {"cases", results}}.dump(2) + "\n");
  }
  return passed ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 2;
}
