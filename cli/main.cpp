// vigil: the command-line program. Argument parsing only; the commands live in vigil_cli_lib.
#include <vigil/cli/commands.hpp>
#include <vigil/cli/config.hpp>

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <string>

#include <unistd.h>

namespace {

// libgomp's idle threads spin GOMP_SPINCOUNT pause loops (300000 by default: milliseconds) before they sleep. When
// another process holds one of two cores, vigil's threads then wait out a whole spin at every barrier (an epoch of
// the MLP on 2 threads fell from about 115k to under 5k samples/s beside a compiler). 10000 spins still bridge
// the gaps between a CNN step's parallel regions (measured on 2 threads: 28.4-28.9 ms per step from 10000 to
// 300000 spins, 38.2 ms at 1000, where threads fall asleep and pay a futex wake-up per region) while keeping a
// busy machine usable (examples/openmp_spin.hpp has the measurements). libgomp reads the variable once, when it is
// loaded, so vigil sets it and runs itself again before OpenMP starts; a user's own OMP_WAIT_POLICY or
// GOMP_SPINCOUNT is left alone, and if the re-exec fails vigil runs on with the default.
void exec_with_short_openmp_spin(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) return;
  if (setenv("GOMP_SPINCOUNT", "10000", 0) != 0) return;
  execv("/proc/self/exe", argv);
}

}  // namespace

int main(int argc, char** argv) {
  exec_with_short_openmp_spin(argv);
  CLI::App app{"vigil: train, evaluate and inspect deep-learning models on the CPU"};
  app.require_subcommand(1);
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i > 0 ? " " : "") + std::string(argv[i]);
  std::function<int()> action;
  for (const vigil::cli::Command& command : vigil::cli::builtin_commands()) {
    CLI::App* sub = app.add_subcommand(command.name, command.description);
    auto run = command.define(*sub, command_line);
    sub->callback([&action, run] { action = run; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return action();
  } catch (const vigil::cli::UsageError& e) {
    std::cerr << "vigil: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "vigil: error: " << e.what() << "\n";
    return 1;
  }
}
