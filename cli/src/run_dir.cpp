// Run directories (see run_dir.hpp).
#include <vigil/cli/run_dir.hpp>

#include <vigil/cli/config.hpp>
#include <vigil/data/atomic_file.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <ctime>
#include <filesystem>
#include <fstream>

namespace vigil::cli {
namespace {

std::string now(const char* format) {
  const std::time_t t = std::time(nullptr);
  std::tm local{};
  localtime_r(&t, &local);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, format, &local);
  return buffer;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("model name")) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) break;
    const auto first = line.find_first_not_of(' ', colon + 1);
    return first == std::string::npos ? std::string() : line.substr(first);
  }
  return "unknown";
}

}  // namespace

std::string create_run_dir(const std::string& runs_dir, const std::string& name) {
  const std::string base = (std::filesystem::path(runs_dir) / (name + "-" + now("%Y%m%d-%H%M%S"))).string();
  std::string dir = base;
  std::error_code ec;
  std::filesystem::create_directories(runs_dir, ec);
  if (ec) throw UsageError(fmt::format("cannot create the runs directory {}: {}", runs_dir, ec.message()));
  for (int k = 2; !std::filesystem::create_directory(dir, ec); ++k) {
    if (ec) throw UsageError(fmt::format("cannot create the run directory {}: {}", dir, ec.message()));
    dir = fmt::format("{}-{}", base, k);
  }
  std::filesystem::create_directories(std::filesystem::path(dir) / "checkpoints");
  return dir;
}

void require_run_dir(const std::string& path) {
  if (!std::filesystem::is_directory(path))
    throw UsageError(fmt::format("{} is not a run directory (no such directory)", path));
  if (!std::filesystem::exists(config_path(path)))
    throw UsageError(fmt::format("{} is not a run directory: it has no config.toml (vigil train creates run "
                                 "directories under run.runs_dir)",
                                 path));
}

std::string config_path(const std::string& run_dir) { return (std::filesystem::path(run_dir) / "config.toml").string(); }

std::string checkpoint_path(const std::string& run_dir, const std::string& which) {
  return (std::filesystem::path(run_dir) / "checkpoints" / (which + ".safetensors")).string();
}

void write_file(const std::string& path, const std::string& text) {
  data::AtomicFileWriter writer(path);
  writer.write(text);
  writer.commit();
}

void write_env_json(const std::string& run_dir, std::int64_t threads, std::int64_t seed, const std::string& command) {
  const nlohmann::ordered_json env = {{"vigil_version", VIGIL_VERSION}, {"git_commit", VIGIL_GIT_COMMIT},
                                      {"cpu", cpu_model()},             {"threads", threads},
                                      {"seed", seed},                   {"started", now("%Y-%m-%dT%H:%M:%S%z")},
                                      {"command", command}};
  write_file((std::filesystem::path(run_dir) / "env.json").string(), env.dump(2) + "\n");
}

void write_confusion_json(const std::string& path, const std::vector<std::string>& classes,
                          const train::ConfusionMatrix& matrix) {
  nlohmann::ordered_json out;
  out["classes"] = classes;
  nlohmann::json rows = nlohmann::json::array();
  for (std::int64_t t = 0; t < matrix.num_classes(); ++t) {
    nlohmann::json row = nlohmann::json::array();
    for (std::int64_t p = 0; p < matrix.num_classes(); ++p) row.push_back(matrix.count(t, p));
    rows.push_back(row);
  }
  out["matrix"] = rows;
  write_file(path, out.dump() + "\n");
}

}  // namespace vigil::cli
