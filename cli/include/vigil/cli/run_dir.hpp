// Run directories: runs/<name>-<YYYYmmdd-HHMMSS>/ and the files in them.
//
//   config.toml                    the resolved config (every key, defaults filled in)
//   env.json                       vigil_version, git_commit, cpu, threads, seed, started, command
//   metrics.jsonl                  epoch lines and a step line every run.log_every_steps steps
//   events.out.tfevents.*          TensorBoard scalars and histograms
//   checkpoints/last.safetensors   what `vigil resume` continues from (also after Ctrl-C, mid-epoch)
//   checkpoints/best.safetensors   the best epoch by callbacks.monitor
//   confusion.json                 {"classes": [...], "matrix": [[...]]} on the test (else validation) set
// Every file is written atomically (a temporary file renamed over the target), so a crash or Ctrl-C never
// leaves one half-written.
#pragma once

#include <vigil/train/metrics.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::cli {

// Creates <runs_dir>/<name>-<YYYYmmdd-HHMMSS> (local time; "-2", "-3", ... appended when it exists) with its
// checkpoints/ folder, and returns its path. UsageError when it cannot be created.
std::string create_run_dir(const std::string& runs_dir, const std::string& name);

// Checks that `path` is a run directory (a folder holding config.toml); UsageError naming it otherwise.
void require_run_dir(const std::string& path);

std::string config_path(const std::string& run_dir);
std::string checkpoint_path(const std::string& run_dir, const std::string& which);  // "last", "best"

// Writes `text` to `path` atomically.
void write_file(const std::string& path, const std::string& text);

// env.json: the version, the commit vigil was configured from ("unknown" outside a git checkout), the CPU
// (/proc/cpuinfo's model name), the thread count, the seed, the start time (ISO 8601, local) and the command.
void write_env_json(const std::string& run_dir, std::int64_t threads, std::int64_t seed, const std::string& command);

// confusion.json: {"classes": [names], "matrix": [[counts]]}, rows true classes, columns predictions.
void write_confusion_json(const std::string& path, const std::vector<std::string>& classes,
                          const train::ConfusionMatrix& matrix);

}  // namespace vigil::cli
