// The commands through the library: training into a run directory, exact resume after an interrupt (mid-epoch
// and at an epoch's end), eval and summary, and the errors a config can still cause once data and models exist.
#include <vigil/cli/commands.hpp>
#include <vigil/cli/config.hpp>
#include <vigil/cli/run_dir.hpp>
#include <vigil/data/npy.hpp>
#include <vigil/io/safetensors.hpp>
#include <vigil/train/callbacks.hpp>

#include <gtest/gtest.h>

#include "usage_error.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace vigil::cli {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() : path(fs::temp_directory_path() / ("vigil-cli-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
  fs::path path;
};

std::string data_file(const std::string& name) {
  return (fs::path(VIGIL_SOURCE_DIR) / "configs" / "data" / name).string();
}

// 120 training rows (20% validation: 96 train, 6 batches of 16), 30 test rows, 3 named classes. Dropout, a
// per-step cosine schedule and early stopping make the run depend on generators and callback state.
std::string csv_config(const std::string& runs_dir, const std::string& extra = "") {
  return "[run]\nname = \"t\"\nepochs = 2\nlog_every_steps = 1\nruns_dir = \"" + runs_dir +
         "\"\n[data]\ndataset = \"csv\"\npath = \"" + data_file("shapes_train.csv") + "\"\ntest_path = \"" +
         data_file("shapes_test.csv") +
         "\"\nlabel_column = \"shape\"\nlabel_type = \"name\"\nvalidation_fraction = 0.2\nbatch_size = 16\n"
         "[preprocess]\naxis = \"per-feature\"\n[model]\nhidden = [16]\ndropout = 0.2\n[optim]\nlr = 0.01\n"
         "[schedule]\nname = \"cosine\"\n[callbacks]\nearly_stopping = true\n" +
         extra;
}

std::string write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

// Calls request_interrupt() after the optimizer step `step`, as a Ctrl-C would during it.
class InterruptAt : public train::Callback {
 public:
  explicit InterruptAt(std::int64_t step) : step_(step) {}
  void on_batch_end(train::TrainContext& context) override {
    if (context.step == step_) request_interrupt();
  }

 private:
  std::int64_t step_;
};

// The model's tensors of a checkpoint (no optimizer/, rng/ or extra/ entries), by name.
std::map<std::string, std::vector<float>> weights(const std::string& checkpoint) {
  std::map<std::string, std::vector<float>> out;
  for (const auto& [name, tensor] : io::load_safetensors(checkpoint).tensors)
    if (name.find('/') == std::string::npos && tensor.dtype() == DType::Float32) out[name] = tensor.to_vector();
  return out;
}

std::string last_line(const std::string& path, const std::string& containing) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (line.find(containing) != std::string::npos) last = line;
  return last;
}

TEST(Train, WritesACompleteRunDirectory) {
  TempDir dir;
  const std::string config = write(dir.file("cfg.toml"), csv_config(dir.file("runs")));
  std::ostringstream out;
  const TrainResult result = run_train({.config = config, .output = Output::Quiet, .command_line = "vigil train"}, out);
  EXPECT_FALSE(result.interrupted);
  EXPECT_EQ(result.epochs_done, 2);
  EXPECT_EQ(result.final_set, "test");
  EXPECT_EQ(fs::path(result.run_dir).parent_path(), dir.path / "runs");
  EXPECT_EQ(fs::path(result.run_dir).filename().string().rfind("t-", 0), 0u);
  for (const char* file : {"config.toml", "env.json", "metrics.jsonl", "confusion.json", "checkpoints/last.safetensors",
                           "checkpoints/best.safetensors"})
    EXPECT_TRUE(fs::exists(fs::path(result.run_dir) / file)) << file;
  bool events = false;
  for (const auto& entry : fs::directory_iterator(result.run_dir))
    events = events || entry.path().filename().string().starts_with("events.out.tfevents.");
  EXPECT_TRUE(events);
  // The resolved config reproduces the run's settings with every default filled in.
  const Config resolved = load_config(config_path(result.run_dir));
  EXPECT_EQ(resolved.get_ints("model.hidden"), (std::vector<std::int64_t>{16}));
  EXPECT_EQ(resolved.get_string("optim.name"), "adam");
  std::ifstream confusion(fs::path(result.run_dir) / "confusion.json");
  const std::string text((std::istreambuf_iterator<char>(confusion)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.rfind("{\"classes\":[\"circle\",\"square\",\"triangle\"],\"matrix\":[[", 0), 0u) << text;
  EXPECT_FALSE(last_line(fs::path(result.run_dir) / "metrics.jsonl", "\"event\":\"step\"").empty());
  EXPECT_NE(out.str().find("run directory"), std::string::npos);
}

void expect_resume_matches_straight_run(std::int64_t interrupt_step) {
  TempDir dir;
  const std::string config = write(dir.file("cfg.toml"), csv_config(dir.file("runs")));
  std::ostringstream out;
  const TrainResult straight = run_train({.config = config, .name = "straight", .output = Output::Quiet}, out);
  const TrainResult stopped = run_train({.config = config, .name = "stopped", .output = Output::Quiet,
                                         .extra_callbacks = {std::make_shared<InterruptAt>(interrupt_step)}},
                                        out);
  ASSERT_TRUE(stopped.interrupted);
  EXPECT_NE(out.str().find("vigil resume " + stopped.run_dir), std::string::npos);
  const TrainResult resumed = run_resume({.run_dir = stopped.run_dir, .output = Output::Quiet}, out);
  EXPECT_FALSE(resumed.interrupted);
  EXPECT_EQ(resumed.epochs_done, 2);
  EXPECT_EQ(weights(checkpoint_path(resumed.run_dir, "last")), weights(checkpoint_path(straight.run_dir, "last")));
  EXPECT_EQ(weights(checkpoint_path(resumed.run_dir, "best")), weights(checkpoint_path(straight.run_dir, "best")));
  EXPECT_EQ(resumed.final_logs, straight.final_logs);
  EXPECT_EQ(resumed.last_epoch.at("val_loss"), straight.last_epoch.at("val_loss"));
  EXPECT_EQ(resumed.last_epoch.at("val_accuracy"), straight.last_epoch.at("val_accuracy"));
  // One epoch line per epoch, none for the interrupted part.
  std::ifstream metrics(fs::path(resumed.run_dir) / "metrics.jsonl");
  std::string line;
  int epochs = 0;
  while (std::getline(metrics, line)) epochs += line.find("\"event\":\"epoch\"") != std::string::npos;
  EXPECT_EQ(epochs, 2);
}

TEST(Resume, WithinAnEpochIsBitExact) { expect_resume_matches_straight_run(3); }

TEST(Resume, AtAnEpochsEndIsBitExact) { expect_resume_matches_straight_run(6); }

TEST(Resume, RefusesWhatIsNotARunDirectory) {
  TempDir dir;
  std::ostringstream out;
  EXPECT_EQ(error_of([&] { run_resume({.run_dir = dir.file("absent")}, out); }),
            dir.file("absent") + " is not a run directory (no such directory)");
  EXPECT_EQ(error_of([&] { run_resume({.run_dir = dir.path.string()}, out); }),
            dir.path.string() + " is not a run directory: it has no config.toml (vigil train creates run directories "
                                "under run.runs_dir)");
}

TEST(Eval, ReportsAccuracyPerClassFiguresConfusionAndCalibration) {
  TempDir dir;
  const std::string config = write(dir.file("cfg.toml"), csv_config(dir.file("runs")));
  std::ostringstream out;
  const TrainResult run = run_train({.config = config, .output = Output::Quiet}, out);
  std::ostringstream report;
  const EvalResult r = run_eval({.target = run.run_dir}, report);
  EXPECT_EQ(r.checkpoint, checkpoint_path(run.run_dir, "best"));
  EXPECT_EQ(r.set, "test");
  EXPECT_EQ(r.samples, 30);
  ASSERT_EQ(r.classes.size(), 3u);
  EXPECT_EQ(r.classes[1].name, "square");
  std::int64_t total = 0;
  for (const auto& row : r.confusion)
    for (const std::int64_t n : row) total += n;
  EXPECT_EQ(total, 30);
  EXPECT_DOUBLE_EQ(r.accuracy, run.final_logs.at("accuracy"));
  EXPECT_NE(report.str().find("expected calibration error"), std::string::npos);
  // --data: another test set in the run's format (here the 120 training rows).
  EXPECT_EQ(run_eval({.target = run.run_dir, .data = data_file("shapes_train.csv")}, report).samples, 120);
  EXPECT_EQ(error_of([&] { run_eval({.target = run.run_dir, .data = dir.file("absent.csv")}, report); }),
            "missing data: --data " + dir.file("absent.csv") + " does not exist");
  // A checkpoint path works as well; MC dropout reports uncertainty.
  const EvalResult mc = run_eval({.target = checkpoint_path(run.run_dir, "last"), .mc_dropout = 4, .json = true}, report);
  EXPECT_GT(mc.mean_entropy, 0.0);
  EXPECT_GE(mc.mean_mutual_information, 0.0);
}

TEST(Eval, ACheckpointOfAnotherModelIsAClearError) {
  TempDir dir;
  const std::string config = write(dir.file("cfg.toml"), csv_config(dir.file("runs")));
  std::ostringstream out;
  const TrainResult run = run_train({.config = config, .output = Output::Quiet}, out);
  // The same run directory, its config now asking for a wider hidden layer.
  std::string text = csv_config(dir.file("runs"));
  text.replace(text.find("hidden = [16]"), 13, "hidden = [32]");
  write(config_path(run.run_dir), text);
  const std::string message = error_of([&] { run_eval({.target = run.run_dir}, out); });
  EXPECT_EQ(message.rfind("checkpoint " + checkpoint_path(run.run_dir, "best") + " does not match the model of " +
                              config_path(run.run_dir) + ": ",
                          0),
            0u)
      << message;
  EXPECT_EQ(error_of([&] { run_eval({.target = dir.file("cfg.toml")}, out); }),
            "checkpoint " + dir.file("cfg.toml") +
                " is not inside a run directory (RUN_DIR/checkpoints/*.safetensors next to RUN_DIR/config.toml)");
}

TEST(Eval, ExpectedCalibrationError) {
  // Two samples at confidence 0.9 (one right), two at 0.6 (both right): bins (0.8667, 0.9333] and (0.5333, 0.6]:
  // ECE = 2/4 |0.5 - 0.9| + 2/4 |1 - 0.6| = 0.4.
  const Tensor probs = from_vector(std::vector<float>{0.9f, 0.1f, 0.1f, 0.9f, 0.6f, 0.4f, 0.4f, 0.6f}, Shape{4, 2});
  EXPECT_NEAR(expected_calibration_error(probs, {0, 0, 0, 1}), 0.4, 1e-6);
  EXPECT_NEAR(expected_calibration_error(probs, {0, 1, 0, 1}), 0.5 * 0.1 + 0.5 * 0.4, 1e-6);
}

TEST(Summary, ShowsParametersFlopsAndActivationMemory) {
  TempDir dir;
  const std::string config = write(dir.file("cfg.toml"), csv_config(dir.file("runs"), "[regularize]\nl2 = 0.001\n"));
  std::ostringstream out;
  run_summary({.config = config, .overrides = {"model.freeze=[\"1\"]"}}, out);
  const std::string text = out.str();
  // Linear 4 -> 16 (80 params, frozen), Linear 16 -> 3 (51): 2 * 4 * 16 + 16 + 2 * 16 * 3 + 3 = 243 FLOPs.
  EXPECT_NE(text.find("Trainable params: 51"), std::string::npos) << text;
  EXPECT_NE(text.find("Frozen params: 80"), std::string::npos) << text;
  EXPECT_NE(text.find("FLOPs per sample (forward, matrix products and convolutions): 243"), std::string::npos) << text;
  EXPECT_NE(text.find("Activation memory per sample"), std::string::npos) << text;
}

TEST(Transfer, InitFromLoadsTheChosenEntriesAndRefusesAnotherModel) {
  TempDir dir;
  const std::string config = write(dir.file("cfg.toml"), csv_config(dir.file("runs")));
  std::ostringstream out;
  const TrainResult source = run_train({.config = config, .output = Output::Quiet}, out);
  const std::string best = checkpoint_path(source.run_dir, "best");
  std::ostringstream summary;
  run_summary({.config = config,
               .overrides = {"model.init_from=" + best, "model.init_only=[\"1\"]", "model.freeze=[\"1\"]"}},
              summary);
  EXPECT_NE(summary.str().find("Frozen params: 80"), std::string::npos) << summary.str();
  const std::string other = error_of([&] {
    run_summary({.config = config, .overrides = {"model.init_from=" + best, "model.hidden=[8]"}}, out);
  });
  EXPECT_EQ(other.rfind("invalid value for \"model.init_from\" in --set model.init_from=" + best + ": checkpoint " +
                            best + " does not fit the model \"mlp\": ",
                        0),
            0u)
      << other;
  EXPECT_EQ(error_of([&] {
              run_summary({.config = config, .overrides = {"model.init_from=" + best, "model.init_only=[\"head\"]"}},
                          out);
            }),
            "invalid value for \"model.init_only\" in --set model.init_only=[\"head\"]: pattern \"head\" matches no "
            "parameter or buffer of the model \"mlp\" (the first is \"1.weight\")");
}

TEST(BuildErrors, MissingDataFile) {
  TempDir dir;
  std::string text = csv_config(dir.file("runs"));
  text.replace(text.find(data_file("shapes_train.csv")), data_file("shapes_train.csv").size(), "/nonexistent/train.csv");
  const std::string config = write(dir.file("cfg.toml"), text);
  std::ostringstream out;
  EXPECT_EQ(error_of([&] { run_summary({.config = config}, out); }),
            "missing data file for \"data.path\" in " + config + " line 8: /nonexistent/train.csv does not exist");
}

TEST(BuildErrors, LabelOutsideTheClasses) {
  TempDir dir;
  const std::string config = write(dir.file("cfg.toml"), csv_config(dir.file("runs")));
  std::ostringstream out;
  const std::string message = error_of([&] { run_summary({.config = config, .overrides = {"model.num_classes=2"}}, out); });
  EXPECT_NE(message.find("is outside the 2 classes of \"model.num_classes\" (--set model.num_classes=2)"),
            std::string::npos)
      << message;
}

TEST(BuildErrors, ModelThatDoesNotFitTheInput) {
  TempDir dir;
  // 2x2 one-channel images.
  std::vector<std::int64_t> labels(20);
  for (std::size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<std::int64_t>(i % 2);
  data::write_npy(dir.file("x.npy"), zeros(Shape{20, 1, 2, 2}));
  data::write_npy(dir.file("y.npy"), from_vector_i64(labels, Shape{20}));
  const std::string config =
      write(dir.file("cfg.toml"), "[data]\ndataset = \"npy\"\npath = \"" + dir.file("x.npy") + "\"\ntargets_path = \"" +
                                      dir.file("y.npy") + "\"\n[model]\nname = \"reference_cnn\"\n");
  std::ostringstream out;
  EXPECT_EQ(error_of([&] { run_summary({.config = config}, out); }),
            "invalid value for \"model.name\" in " + config +
                " line 6: \"reference_cnn\" pools twice by 2: it needs images of at least 4x4, the samples are [1, 2, 2]");
  EXPECT_EQ(error_of([&] { run_summary({.config = config, .overrides = {"model.name=lenet5"}}, out); }),
            "invalid value for \"model.name\" in --set model.name=lenet5: \"lenet5\" takes 28x28 or 32x32 images, the "
            "samples are [1, 2, 2]");
  const std::string vgg = error_of([&] { run_summary({.config = config, .overrides = {"model.name=small_vgg"}}, out); });
  EXPECT_EQ(vgg.rfind("invalid value for \"model.name\" in --set model.name=small_vgg: \"small_vgg\" does not fit the "
                      "samples [1, 2, 2]: ",
                      0),
            0u)
      << vgg;
  EXPECT_EQ(error_of([&] { run_summary({.config = config, .overrides = {"model.name=mlp", "model.freeze=[\"head.*\"]"}}, out); })
                .rfind("invalid value for \"model.freeze\"", 0),
            0u);
}

}  // namespace
}  // namespace vigil::cli
