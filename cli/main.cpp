// vigil: the command-line program. Argument parsing only; the commands live in vigil_cli_lib.
#include <vigil/cli/commands.hpp>
#include <vigil/cli/config.hpp>

#include <CLI/CLI.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
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
