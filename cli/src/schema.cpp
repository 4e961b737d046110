// The schema table: every config key with its type, default, constraint and help.
#include <vigil/cli/config.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace vigil::cli {
namespace {

using Ints = std::vector<std::int64_t>;
using Floats = std::vector<double>;
using Strings = std::vector<std::string>;

constexpr double kInf = std::numeric_limits<double>::infinity();

KeySpec flag(std::string key, bool value, std::string help) { return {std::move(key), Type::Bool, value, std::move(help)}; }

// An integer in [min, max].
KeySpec integer(std::string key, std::int64_t value, double min, double max, std::string help) {
  KeySpec spec{std::move(key), Type::Int, value, std::move(help)};
  spec.min = min;
  if (max != kInf) spec.max = max;
  return spec;
}

// A number with bounds; `open` marks which bounds are exclusive ("(]": min exclusive).
KeySpec number(std::string key, double value, double min, double max, std::string help,
               std::string_view open = "[]") {
  KeySpec spec{std::move(key), Type::Float, value, std::move(help)};
  if (min != -kInf) spec.min = min;
  if (max != kInf) spec.max = max;
  spec.min_open = open[0] == '(';
  spec.max_open = open[1] == ')';
  return spec;
}

KeySpec text(std::string key, std::string value, std::string help, Strings choices = {}) {
  return {std::move(key), Type::String, std::move(value), std::move(help), std::move(choices)};
}

std::vector<KeySpec> make_schema() {
  return {
      // ---- run ----
      text("run.name", "run", "the run directory is <runs_dir>/<name>-<YYYYmmdd-HHMMSS>"),
      integer("run.seed", 0, 0, kInf, "seeds the weights, the split, the shuffling, augmentation and dropout"),
      integer("run.epochs", 10, 1, kInf, "epochs to train"),
      integer("run.threads", 0, 0, 1024, "OpenMP threads (0: OpenMP's default); a resumed run must use the same"),
      text("run.runs_dir", "runs", "where run directories are created"),
      {"run.metrics", Type::StringList, Strings{},
       "metrics logged on train and validation data: accuracy, topK_accuracy, macro_f1, macro_precision, "
       "macro_recall, mae, rmse, r2 (empty: accuracy for classes, mae and r2 for regression)"},
      integer("run.log_every_steps", 50, 0, kInf, "a step line in metrics.jsonl every this many steps (0: never)"),
      // ---- data ----
      text("data.dataset", "fashion-mnist", "the data set's format",
           {"fashion-mnist", "csv", "image-folder", "npy", "cifar10"}),
      text("data.path", "",
           "fashion-mnist, cifar10: the directory of the files (fashion-mnist: /usr/share/datasets/fashion-mnist "
           "when empty); csv: the training file; image-folder: the root of the class directories; npy: the "
           "inputs file"),
      text("data.targets_path", "", "npy: the targets file (int64 labels [N], or floats for regression)"),
      text("data.test_path", "",
           "the test set, in data.path's format (csv and npy: a file, image-folder: a root); fashion-mnist and "
           "cifar10 have theirs in data.path; empty: none"),
      text("data.test_targets_path", "", "npy: the test targets file"),
      text("data.label_column", "", "csv: the label column's header name (empty: the last column)"),
      text("data.label_type", "index", "csv: what the label cells hold", {"index", "name", "regression"}),
      {"data.classes", Type::StringList, Strings{},
       "class names for reports (empty: the data set's own, or the class indices)"},
      integer("data.image_size", 32, 1, 4096, "image-folder: images are resized to this height and width"),
      integer("data.channels", 3, 1, 3, "image-folder: 1 (gray) or 3 (RGB)"),
      number("data.validation_fraction", 0.1, 0.0, 1.0,
             "share of the training data held out for validation (0: no validation)", "[)"),
      flag("data.stratify", true, "keep every class's share in the validation split (classification only)"),
      integer("data.folds", 0, 0, kInf,
              "k-fold cross-validation (vigil search --folds): validate on fold data.fold of this many (stratified "
              "like the split), train on the rest; replaces validation_fraction (0: off)"),
      integer("data.fold", 0, 0, kInf, "the validation fold when data.folds > 0: 0 .. data.folds - 1"),
      integer("data.limit", 0, 0, kInf, "use only the first this many training examples (0: all)"),
      integer("data.test_limit", 0, 0, kInf, "use only the first this many test examples (0: all)"),
      integer("data.batch_size", 64, 1, kInf, "examples per batch"),
      integer("data.workers", 0, 0, 64, "loader threads (the batches are the same for any count)"),
      flag("data.drop_last", false, "drop a last training batch smaller than batch_size"),
      // ---- preprocess ----
      number("preprocess.scale", 1.0, 0.0, kInf,
             "multiply the inputs by this before anything else (255: raw 0-255 pixels)", "()"),
      text("preprocess.method", "standardize", "fitted on the training split only, stored in checkpoints",
           {"standardize", "min-max", "none"}),
      text("preprocess.axis", "per-channel", "one statistic per channel (images) or per feature",
           {"per-channel", "per-feature"}),
      // ---- augment ----
      flag("augment.hflip", false, "random horizontal flips (p 0.5)"),
      flag("augment.vflip", false, "random vertical flips (p 0.5)"),
      integer("augment.crop_padding", 0, 0, 64, "random crop after zero padding by this many pixels (0: off)"),
      number("augment.rotation", 0.0, 0.0, 180.0, "random rotation in [-r, r] degrees (0: off)"),
      number("augment.erasing", 0.0, 0.0, 1.0, "probability of erasing one random rectangle (0: off)"),
      integer("augment.erasing_max_size", 8, 1, 4096, "the erased rectangle's largest side, in pixels"),
      number("augment.noise_std", 0.0, 0.0, kInf, "Gaussian noise added to the inputs (0: off)"),
      number("augment.mixup_alpha", 0.0, 0.0, kInf, "mixup with Beta(alpha, alpha) (0: off)"),
      number("augment.cutmix_alpha", 0.0, 0.0, kInf, "cutmix with Beta(alpha, alpha) (0: off)"),
      // ---- model ----
      text("model.name", "mlp", "the architecture",
           {"mlp", "reference_cnn", "lenet5", "small_vgg", "resnet18", "small_resnet", "mobilenet"}),
      integer("model.in_channels", 0, 0, 4096, "input channels (0: from the data)"),
      integer("model.num_classes", 0, 0, kInf, "outputs (0: from the data)"),
      {"model.hidden", Type::IntList, Ints{256, 128}, "mlp: the hidden layers' widths", {}, 1.0},
      text("model.activation", "relu", "mlp: the hidden layers' activation",
           {"relu", "leaky_relu", "gelu", "silu", "tanh", "sigmoid", "elu"}),
      number("model.dropout", 0.0, 0.0, 1.0, "mlp: dropout after each hidden layer; small_vgg: before its last Linear",
             "[)"),
      integer("model.width", 0, 0, 4096,
              "small_vgg, resnet18, small_resnet: channels of the first stage (0: the model's own: 32, 64, 16)"),
      number("model.width_multiplier", 1.0, 0.0, 4.0, "mobilenet: the channel multiplier alpha", "(]"),
      text("model.init_from", "", "a checkpoint whose weights initialise the model (transfer learning)"),
      {"model.init_only", Type::StringList, Strings{},
       "load only the entries matching these path patterns (\"features\", \"0.*\"); empty: every entry whose "
       "name matches"},
      {"model.freeze", Type::StringList, Strings{}, "path patterns of parameters to freeze (\"features.*\")"},
      // ---- loss ----
      text("loss.name", "cross_entropy", "mse and l1 train on one-hot targets for classification",
           {"cross_entropy", "mse", "l1", "huber"}),
      number("loss.label_smoothing", 0.0, 0.0, 1.0, "cross_entropy: label smoothing", "[)"),
      {"loss.class_weights", Type::FloatList, Floats{}, "cross_entropy: one weight per class (empty: all 1)", {},
       0.0},
      // ---- optim ----
      text("optim.name", "adam", "the optimiser", {"sgd", "adam", "adamw", "rmsprop", "adagrad"}),
      number("optim.lr", 1e-3, 0.0, kInf, "the (base) learning rate", "(]"),
      number("optim.weight_decay", 0.0, 0.0, kInf, "weight decay (coupled L2; decoupled for adamw)"),
      number("optim.momentum", 0.0, 0.0, 1.0, "sgd, rmsprop: momentum", "[)"),
      flag("optim.nesterov", false, "sgd: Nesterov momentum (needs momentum > 0)"),
      {"optim.betas", Type::FloatList, Floats{0.9, 0.999}, "adam, adamw: (beta1, beta2), each in [0, 1)", {}, 0.0,
       false, 1.0, true},
      number("optim.eps", 1e-8, 0.0, kInf, "adam, adamw, rmsprop, adagrad: the denominator's epsilon"),
      integer("optim.accumulation_steps", 1, 1, 1024, "batches whose gradients add up into one step"),
      // ---- schedule ----
      text("schedule.name", "none", "the learning-rate schedule",
           {"none", "step", "multistep", "exponential", "cosine", "warmup", "warmup_cosine", "onecycle",
            "plateau"}),
      text("schedule.every", "step", "whether the schedule counts optimiser steps or epochs (onecycle: step)",
           {"step", "epoch"}),
      integer("schedule.step_size", 1, 1, kInf, "step: decay every this many steps or epochs"),
      {"schedule.milestones", Type::IntList, Ints{}, "multistep: the steps or epochs where the rate decays", {},
       1.0},
      number("schedule.gamma", 0.1, 0.0, kInf, "step, multistep, exponential: the decay factor", "(]"),
      integer("schedule.warmup", 0, 0, kInf, "warmup, warmup_cosine: steps or epochs of linear warm-up"),
      number("schedule.min_lr", 0.0, 0.0, kInf, "cosine, warmup_cosine: the final rate; plateau: the floor"),
      number("schedule.pct_start", 0.3, 0.0, 1.0, "onecycle: share of the steps spent rising", "()"),
      number("schedule.factor", 0.1, 0.0, 1.0, "plateau: the rate is multiplied by this", "()"),
      integer("schedule.patience", 5, 0, kInf, "plateau: epochs without improvement before reducing"),
      text("schedule.monitor", "val_loss", "plateau: the log entry watched"),
      // ---- regularize ----
      number("regularize.l1", 0.0, 0.0, kInf, "L1 penalty on weights (not biases or norm scales)"),
      number("regularize.l2", 0.0, 0.0, kInf, "L2 penalty lambda * sum w^2 on weights"),
      number("regularize.max_norm", 0.0, 0.0, kInf, "max-norm constraint on each unit's incoming weights (0: off)"),
      number("regularize.clip_grad_norm", 0.0, 0.0, kInf, "clip the gradients' global L2 norm (0: off)"),
      number("regularize.clip_grad_value", 0.0, 0.0, kInf, "clamp every gradient element to [-v, v] (0: off)"),
      // ---- callbacks ----
      flag("callbacks.early_stopping", false, "stop when callbacks.monitor stops improving"),
      integer("callbacks.patience", 5, 0, kInf, "early stopping: epochs without improvement tolerated"),
      number("callbacks.min_delta", 0.0, 0.0, kInf, "early stopping: the smallest change that counts"),
      text("callbacks.monitor", "val_loss",
           "the log entry early stopping and the best checkpoint watch (loss, val_loss, val_accuracy, ...)"),
      flag("callbacks.checkpoint_best", true, "keep checkpoints/best.safetensors (by callbacks.monitor)"),
      flag("callbacks.checkpoint_last", true, "keep checkpoints/last.safetensors (what resume continues from)"),
      flag("callbacks.restore_best", true, "evaluate the best checkpoint's weights after training"),
      flag("callbacks.terminate_on_nan", true, "stop at the first batch whose loss is NaN or infinite"),
      // ---- doctor ----
      flag("doctor.enabled", true, "run the training doctor alongside training"),
      {"doctor.silence", Type::StringList, Strings{}, "finding codes the doctor keeps quiet about"},
      integer("doctor.every", 100, 1, kInf, "the doctor's monitors sample every this many steps"),
      integer("doctor.steps", 300, 1, kInf,
              "vigil doctor: optimiser steps of its short monitored run (at most run.epochs epochs); the monitor "
              "samples at least 30 of them"),
      number("doctor.lr_min", 1e-7, 0.0, kInf, "vigil lr-find: the smallest learning rate tried", "(]"),
      number("doctor.lr_max", 10.0, 0.0, kInf, "vigil lr-find: the largest learning rate tried", "(]"),
      integer("doctor.lr_steps", 100, 2, kInf,
              "vigil lr-find: batches of the sweep, each at a higher rate (it stops early once the loss diverges)"),
  };
}


std::string format_number(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", x);
  // TOML tells floats from integers by a decimal point or an exponent.
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

// Levenshtein distance by one rolling row: insertions, deletions and substitutions cost 1.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

const char* type_name(Type type) {
  switch (type) {
    case Type::Bool: return "a boolean";
    case Type::Int: return "an integer";
    case Type::Float: return "a number";
    case Type::String: return "a string";
    case Type::IntList: return "a list of integers";
    case Type::FloatList: return "a list of numbers";
    case Type::StringList: return "a list of strings";
  }
  return "a value";
}

const std::vector<KeySpec>& schema() {
  static const std::vector<KeySpec> table = make_schema();
  return table;
}

const std::vector<std::string>& sections() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const KeySpec& spec : schema()) {
      const std::string section = spec.key.substr(0, spec.key.find('.'));
      if (std::find(out.begin(), out.end(), section) == out.end()) out.push_back(section);
    }
    return out;
  }();
  return names;
}

const KeySpec* find_key(std::string_view key) {
  for (const KeySpec& spec : schema())
    if (spec.key == key) return &spec;
  return nullptr;
}

std::string nearest_key(std::string_view key) {
  std::vector<std::string> candidates;
  if (key.find('.') == std::string_view::npos) {
    candidates = sections();
  } else {
    for (const KeySpec& spec : schema()) candidates.push_back(spec.key);
  }
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const std::string& candidate : candidates) {
    const std::size_t d = edit_distance(key, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::string describe_constraint(const KeySpec& spec) {
  if (!spec.choices.empty()) return "one of " + fmt::format("{}", fmt::join(spec.choices, ", "));
  const auto bound = [](double x) { return fmt::format("{}", x); };
  if (spec.min && spec.max)
    return fmt::format("in {}{}, {}{}", spec.min_open ? "(" : "[", bound(*spec.min), bound(*spec.max),
                       spec.max_open ? ")" : "]");
  if (spec.min) return fmt::format("{} {}", spec.min_open ? ">" : ">=", bound(*spec.min));
  if (spec.max) return fmt::format("{} {}", spec.max_open ? "<" : "<=", bound(*spec.max));
  return "";
}

std::string format_value(const Value& value) {
  struct Formatter {
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double x) const { return format_number(x); }
    std::string operator()(const std::string& s) const { return quote(s); }
    std::string operator()(const std::vector<std::int64_t>& v) const { return fmt::format("[{}]", fmt::join(v, ", ")); }
    std::string operator()(const std::vector<double>& v) const {
      std::vector<std::string> parts;
      for (const double x : v) parts.push_back(format_number(x));
      return fmt::format("[{}]", fmt::join(parts, ", "));
    }
    std::string operator()(const std::vector<std::string>& v) const {
      std::vector<std::string> parts;
      for (const std::string& s : v) parts.push_back(quote(s));
      return fmt::format("[{}]", fmt::join(parts, ", "));
    }
  };
  return std::visit(Formatter{}, value);
}

}  // namespace vigil::cli
