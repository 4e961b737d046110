// `vigil search`: its options (CLI11) and the SearchRequest they fill (the search itself is search.cpp).
#include <vigil/cli/search.hpp>

#include <iostream>

namespace vigil::cli {

Command search_command() {
  return {"search", "Random or grid search over config keys, optionally k-fold cross-validated; resumable",
          [](CLI::App& app, const std::string& command_line) {
            auto request = std::make_shared<SearchRequest>();
            request->command_line = command_line;
            CLI::Option* config =
                app.add_option("config", request->config, "the base run configuration (TOML)")->check(CLI::ExistingFile);
            CLI::Option* space =
                app.add_option("--space", request->space,
                               "the search space (TOML): [optim.lr] dist = \"log_uniform\" low = 1e-4 high = 1e-1; "
                               "dist uniform / int_uniform, or values = [...]; num = N for a grid range")
                    ->check(CLI::ExistingFile);
            app.add_option("--method", request->method, "random or grid (default: random)")
                ->check(CLI::IsMember({"random", "grid"}));
            app.add_option("--trials", request->trials,
                           "trials to run (default: random 10, grid its whole product; fewer than the grid is an "
                           "error; with --resume: a larger count)")
                ->check(CLI::PositiveNumber);
            app.add_option("--folds", request->folds,
                           "stratified k-fold cross-validation with K >= 2 folds: metric mean and std per trial "
                           "(default: 0, the config's validation split)")
                ->check(CLI::NonNegativeNumber);
            app.add_option("--metric", request->metric,
                           "the epoch log to rank by (default: val_<first of run.metrics>, else val_accuracy; "
                           "val_loss for regression)");
            app.add_option("--mode", request->mode, "max or min is better (default: min for loss/mae/mse/error names)")
                ->check(CLI::IsMember({"max", "min"}));
            app.add_option("--seed", request->seed, "the random search's sampling seed (default: 0)")
                ->check(CLI::NonNegativeNumber);
            app.add_option("--set", request->overrides, "override a base config key: --set run.epochs=2 (repeatable)")
                ->type_name("KEY=VALUE")
                ->expected(1)
                ->take_all();
            app.add_option("--name", request->name,
                           "the search's name: <runs-dir>/<name>-search-<time> (default: run.name)");
            app.add_option("--runs-dir", request->runs_dir, "where the search directory goes (default: run.runs_dir)");
            CLI::Option* resume = app.add_option("--resume", request->resume,
                                                 "continue the search in this directory; finished trials are skipped");
            resume->excludes(config)->excludes(space);
            app.add_flag("--quiet", request->quiet, "print only the results table (default: off)");
            return std::function<int()>([request] { return run_search(*request, std::cout).interrupted ? 130 : 0; });
          }};
}

}  // namespace vigil::cli
