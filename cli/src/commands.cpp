// The command registry: each built-in command's options (CLI11) and the request it fills.
#include <vigil/cli/commands.hpp>
#include <vigil/cli/search.hpp>

#include <iostream>

namespace vigil::cli {
namespace {

Output output_of(bool quiet, bool json) { return json ? Output::Json : quiet ? Output::Quiet : Output::Progress; }

Command train_command() {
  return {"train", "Train a model from a TOML config; writes a run directory",
          [](CLI::App& app, const std::string& command_line) {
            auto request = std::make_shared<TrainRequest>();
            request->command_line = command_line;
            auto flags = std::make_shared<std::pair<bool, bool>>(false, false);
            app.add_option("config", request->config, "the run configuration (TOML)")->required()->check(CLI::ExistingFile);
            app.add_option("--set", request->overrides,
                           "override a config key, typed by the schema: --set optim.lr=0.01 (repeatable)")
                ->type_name("KEY=VALUE")
                ->allow_extra_args(false)
                ->expected(1)
                ->take_all();
            app.add_option("--name", request->name, "the run's name (default: run.name)");
            app.add_option("--runs-dir", request->runs_dir, "where the run directory goes (default: run.runs_dir)");
            app.add_flag("--quiet", flags->first, "print only the final summary (default: off)");
            app.add_flag("--json", flags->second, "print JSON lines events instead of progress (default: off)");
            return std::function<int()>([request, flags] {
              request->output = output_of(flags->first, flags->second);
              const TrainResult result = run_train(*request, std::cout);
              return result.interrupted ? 130 : 0;
            });
          }};
}

Command resume_command() {
  return {"resume", "Continue an interrupted run exactly where it stopped", [](CLI::App& app, const std::string&) {
            auto request = std::make_shared<ResumeRequest>();
            auto flags = std::make_shared<std::pair<bool, bool>>(false, false);
            app.add_option("run_dir", request->run_dir, "the run directory (runs/<name>-<time>)")->required();
            app.add_flag("--quiet", flags->first, "print only the final summary (default: off)");
            app.add_flag("--json", flags->second, "print JSON lines events instead of progress (default: off)");
            return std::function<int()>([request, flags] {
              request->output = output_of(flags->first, flags->second);
              return run_resume(*request, std::cout).interrupted ? 130 : 0;
            });
          }};
}

Command eval_command() {
  return {"eval", "Evaluate a run's checkpoint: accuracy, per-class precision/recall/F1, confusion, calibration",
          [](CLI::App& app, const std::string&) {
            auto request = std::make_shared<EvalRequest>();
            app.add_option("target", request->target,
                           "a run directory (its best checkpoint, else last) or a checkpoint in one")
                ->required();
            app.add_option("--data", request->data,
                           "evaluate on this test set instead (fashion-mnist, cifar10: a directory; csv, npy, "
                           "image-folder: the test file or folder) (default: the run's test set, else its "
                           "validation split)");
            app.add_option("--mc-dropout", request->mc_dropout,
                           "N stochastic passes with dropout on: predictive uncertainty (default: 0, off)")
                ->check(CLI::NonNegativeNumber);
            app.add_flag("--json", request->json, "print one JSON object (default: off)");
            return std::function<int()>([request] {
              run_eval(*request, std::cout);
              return 0;
            });
          }};
}

Command summary_command() {
  return {"summary", "Show a config's model: layers, output shapes, parameters, FLOPs and activation memory",
          [](CLI::App& app, const std::string&) {
            auto request = std::make_shared<SummaryRequest>();
            app.add_option("config", request->config, "the run configuration (TOML)")->required()->check(CLI::ExistingFile);
            app.add_option("--set", request->overrides, "override a config key: --set model.name=lenet5 (repeatable)")
                ->type_name("KEY=VALUE")
                ->expected(1)
                ->take_all();
            return std::function<int()>([request] {
              run_summary(*request, std::cout);
              return 0;
            });
          }};
}

// The options every command that starts from a config shares: the config, --set, --name, --runs-dir.
template <class Request>
void add_config_options(CLI::App& app, Request& request) {
  app.add_option("config", request.config, "the run configuration (TOML)")->required()->check(CLI::ExistingFile);
  app.add_option("--set", request.overrides, "override a config key, typed by the schema: --set optim.lr=0.01 (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false)
      ->expected(1)
      ->take_all();
  app.add_option("--name", request.name, "the run's name (default: run.name)");
  app.add_option("--runs-dir", request.runs_dir, "where the run directory goes (default: run.runs_dir)");
}

Command doctor_command() {
  return {"doctor",
          "Diagnose a config: pre-flight checks and a short monitored run (doctor.steps); ranked findings; exit "
          "status 1 when a finding is an error or the model cannot fit one batch",
          [](CLI::App& app, const std::string& command_line) {
            auto request = std::make_shared<DoctorRequest>();
            request->command_line = command_line;
            auto flags = std::make_shared<std::pair<bool, bool>>(false, false);
            add_config_options(app, *request);
            app.add_flag("--quiet", flags->first, "no progress bar, only the findings (default: off)");
            app.add_flag("--json", flags->second, "print JSON lines events instead of text (default: off)");
            return std::function<int()>([request, flags] {
              request->output = output_of(flags->first, flags->second);
              return run_doctor(*request, std::cout).failed ? 1 : 0;
            });
          }};
}

Command lr_find_command() {
  return {"lr-find",
          "The learning-rate range test: the loss over a sweep of rates (doctor.lr_min to doctor.lr_max), the "
          "suggested rate and its plot",
          [](CLI::App& app, const std::string& command_line) {
            auto request = std::make_shared<LrFindRequest>();
            request->command_line = command_line;
            add_config_options(app, *request);
            app.add_flag("--json", request->json, "print one JSON object instead of the text plot (default: off)");
            return std::function<int()>([request] {
              run_lr_find(*request, std::cout);
              return 0;
            });
          }};
}

}  // namespace

std::vector<Command> builtin_commands() {
  return {train_command(),  resume_command(),   eval_command(),  summary_command(),
          doctor_command(), lr_find_command(), search_command()};
}

}  // namespace vigil::cli
