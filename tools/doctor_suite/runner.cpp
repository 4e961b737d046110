#include "runner.hpp"

#include <vigil/doctor/doctor.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <fmt/format.h>

namespace vigil::doctor_suite {

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

doctor::Setup setup_of(const Built& b) {
  return {*b.model, b.loss, *b.optimizer, *b.train, b.validation.get(), b.regularizer};
}

// Trains `b` as its case says: fit() with its callbacks (plus `extra`), or its own loop with `hooks`.
train::History train_built(Built& b, std::vector<train::CallbackPtr> extra, const LoopHooks& hooks) {
  if (b.loop) return b.loop(b, hooks);
  std::vector<train::CallbackPtr> callbacks = b.callbacks;
  callbacks.insert(callbacks.end(), extra.begin(), extra.end());
  return train::fit(*b.model, b.loss, *b.optimizer, *b.train, b.validation.get(),
                    {.epochs = b.epochs, .metrics = b.metrics, .callbacks = callbacks});
}

}  // namespace

Outcome run_case(const Case& c, const RunOptions& options) {
  Outcome out;
  Built b = c.build(options.seed);
  doctor::Options doctor_options;
  doctor_options.seed = options.seed;
  doctor::Doctor doc(doctor_options);
  const doctor::Setup setup = setup_of(b);
  doc.preflight(setup);
  out.preflight_seconds = doc.preflight_seconds();

  train::History history;
  const auto start = std::chrono::steady_clock::now();
  const std::shared_ptr<doctor::Monitor> monitor = doc.monitor(setup);
  const LoopHooks hooks{[&](std::int64_t step) { monitor->after_backward(step); },
                        [&](std::int64_t step, double loss) { monitor->after_step(step, loss); }};
  try {
    history = train_built(b, {monitor}, hooks);
    if (b.loop) monitor->finish();
  } catch (const std::exception& e) {
    out.fit_error = e.what();
  }
  out.monitored_fit_seconds = seconds_since(start);
  if (!history.epochs.empty()) doc.analyze(history);

  if (options.measure_overhead) {
    Built plain = c.build(options.seed);
    const auto plain_start = std::chrono::steady_clock::now();
    try {
      train_built(plain, {}, {});
    } catch (const std::exception&) {  // the same error as the monitored run's, already recorded
    }
    out.plain_fit_seconds = seconds_since(plain_start);
  }

  for (const doctor::Finding& f : doc.report().ranked()) {
    if (f.severity == doctor::Severity::info) {
      ++out.infos;
      continue;
    }
    out.alarms.push_back(f);
    if (out.expected_rank == 0 && std::find(c.expected.begin(), c.expected.end(), f.check) != c.expected.end())
      out.expected_rank = static_cast<std::int64_t>(out.alarms.size());
  }
  out.report_text = doc.report().text();
  out.report_json = doc.report().json();
  return out;
}

std::string verdict(const Case& c, const Outcome& outcome) {
  if (!c.broken()) return outcome.alarms.empty() ? "clean" : "false alarm";
  if (outcome.expected_rank == 0) return "missed";
  if (outcome.expected_rank <= 2) return "detected";
  return fmt::format("detected (rank {})", outcome.expected_rank);
}

}  // namespace vigil::doctor_suite
