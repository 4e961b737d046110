// The library-only side of bench/cli_overhead.sh: trains a vigil config by calling the library directly, with
// nothing the `vigil` command adds (no run directory, logs, checkpoints, progress, doctor or report), then
// evaluates the final model on the test set as `vigil train` does. The objects come from the CLI's builders, so
// that both sides train the same model on the same batches.
//   cli_overhead CONFIG.toml [key=value ...]      prints "seconds <wall time of the whole program's work>"
#include <vigil/cli/builders.hpp>
#include <vigil/cli/config.hpp>
#include <vigil/train/callbacks.hpp>

#include <fmt/format.h>
#include <omp.h>

#include <chrono>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  using namespace vigil;
  if (argc < 2) {
    fmt::print(stderr, "usage: {} CONFIG.toml [key=value ...]\n", argv[0]);
    return 2;
  }
  const auto started = std::chrono::steady_clock::now();
  const cli::Config config = cli::load_config(argv[1], std::vector<std::string>(argv + 2, argv + argc));
  if (config.get_int("run.threads") > 0) omp_set_num_threads(static_cast<int>(config.get_int("run.threads")));
  const cli::LoadedData data = cli::load_data(config);
  const cli::Pipeline pipeline = cli::make_pipeline(config, data);
  auto model = cli::build_model(config, data);
  const train::LossFunction loss = cli::build_loss(config, data, *model);
  auto optimizer = cli::build_optimizer(config, *model);
  train::FitOptions options;
  options.epochs = config.get_int("run.epochs");
  options.accumulation_steps = config.get_int("optim.accumulation_steps");
  options.metrics = {"accuracy"};
  options.callbacks = cli::build_training_callbacks(config, pipeline.train->size());
  train::fit(*model, loss, *optimizer, *pipeline.train, pipeline.validation.get(), options);
  const data::DataLoader* final_loader = pipeline.test ? pipeline.test.get() : pipeline.validation.get();
  train::Logs final_logs;
  if (final_loader != nullptr) final_logs = train::evaluate(*model, loss, *final_loader, options.metrics);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print("final {}\nseconds {:.3f}\n", train::format_logs(final_logs), seconds);
  return 0;
}
