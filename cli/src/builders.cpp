// Config -> data, preprocessing, model, loss, optimiser, schedule (see builders.hpp).
#include <vigil/cli/builders.hpp>

#include <vigil/data/augment.hpp>
#include <vigil/data/cifar.hpp>
#include <vigil/data/csv.hpp>
#include <vigil/data/datasets.hpp>
#include <vigil/data/idx.hpp>
#include <vigil/data/image_folder.hpp>
#include <vigil/data/npy.hpp>
#include <vigil/data/preprocess.hpp>
#include <vigil/io/checkpoint.hpp>
#include <vigil/nn/nn.hpp>
#include <vigil/optim/optim.hpp>
#include <vigil/optim/schedule.hpp>
#include <vigil/train/callbacks.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace vigil::cli {
namespace {

const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
const std::vector<std::string> kCifarClasses = {"airplane", "automobile", "bird", "cat", "deer",
                                                "dog",      "frog",       "horse", "ship", "truck"};

// Rethrows a reader's or builder's error as a UsageError about `key`.
template <typename F>
auto about(const Config& config, std::string_view key, const std::string& what, F&& f) {
  try {
    return f();
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    throw config.invalid(key, what.empty() ? std::string(e.what()) : what + ": " + e.what());
  }
}

void require_exists(const Config& config, std::string_view key, const std::string& path) {
  if (!std::filesystem::exists(path))
    throw UsageError(fmt::format("missing data file for \"{}\" in {}: {} does not exist", key, config.origin(key),
                                 path));
}

// The first `limit` examples (all when limit is 0 or not smaller than the size).
data::DatasetPtr first(data::DatasetPtr dataset, std::int64_t limit) {
  if (limit <= 0 || limit >= dataset->size()) return dataset;
  std::vector<std::int64_t> indices(static_cast<std::size_t>(limit));
  for (std::int64_t i = 0; i < limit; ++i) indices[static_cast<std::size_t>(i)] = i;
  return std::make_shared<data::Subset>(std::move(dataset), std::move(indices));
}

// Class labels without decoding images where the dataset knows them.
std::vector<std::int64_t> labels_of(const data::Dataset& dataset) {
  if (const auto* folder = dynamic_cast<const data::ImageFolder*>(&dataset)) {
    std::vector<std::int64_t> out;
    for (std::int64_t i = 0; i < folder->size(); ++i) out.push_back(folder->label(i));
    return out;
  }
  return data::labels(dataset);
}

struct Sets {
  data::DatasetPtr train, test;
  std::vector<std::string> names;  // the data set's own class names, if it has them
};

Sets read_sets(const Config& config, const std::string& test_override) {
  const std::string dataset = config.get_string("data.dataset");
  const std::string path = config.get_string("data.path");
  const std::string test_path = test_override.empty() ? config.get_string("data.test_path") : test_override;
  const std::string test_key = test_override.empty() ? "data.test_path" : "data.path";
  Sets sets;
  require_exists(config, "data.path", path);
  if (dataset == "fashion-mnist" || dataset == "cifar10") {
    const std::string test_dir = test_override.empty() ? path : test_override;
    if (!test_override.empty() && !std::filesystem::exists(test_override))
      throw UsageError(fmt::format("missing data: --data {} does not exist", test_override));
    if (dataset == "fashion-mnist") {
      sets.train = about(config, "data.path", "", [&] { return std::make_shared<data::FashionMnist>(path, true); });
      sets.test = about(config, "data.path", "", [&] { return std::make_shared<data::FashionMnist>(test_dir, false); });
      sets.names = kFashionClasses;
    } else {
      sets.train = about(config, "data.path", "", [&] { return std::make_shared<data::Cifar10>(path, true); });
      sets.test = about(config, "data.path", "", [&] { return std::make_shared<data::Cifar10>(test_dir, false); });
      sets.names = kCifarClasses;
    }
    return sets;
  }
  if (!test_path.empty() && !std::filesystem::exists(test_path))
    throw UsageError(test_override.empty()
                         ? fmt::format("missing data file for \"data.test_path\" in {}: {} does not exist",
                                       config.origin("data.test_path"), test_path)
                         : fmt::format("missing data: --data {} does not exist", test_path));
  if (dataset == "csv") {
    data::CsvOptions options;
    options.label_column = config.get_string("data.label_column");
    const std::string type = config.get_string("data.label_type");
    options.target = type == "name"         ? data::CsvTarget::ClassName
                     : type == "regression" ? data::CsvTarget::Regression
                                            : data::CsvTarget::ClassIndex;
    const auto train = about(config, "data.path", "", [&] { return std::make_shared<data::CsvDataset>(path, options); });
    sets.train = train;
    if (options.target == data::CsvTarget::ClassName) {
      sets.names = train->label_map().names();
      options.label_map = train->label_map();
    }
    if (!test_path.empty())
      sets.test = about(config, test_key, "", [&] { return std::make_shared<data::CsvDataset>(test_path, options); });
  } else if (dataset == "image-folder") {
    data::ImageFolderOptions options;
    options.channels = config.get_int("data.channels");
    options.height = options.width = config.get_int("data.image_size");
    const auto train = about(config, "data.path", "", [&] { return std::make_shared<data::ImageFolder>(path, options); });
    sets.train = train;
    sets.names = train->classes();
    if (!test_path.empty()) {
      const auto test =
          about(config, test_key, "", [&] { return std::make_shared<data::ImageFolder>(test_path, options); });
      if (test->classes() != train->classes())
        throw config.invalid(test_key, fmt::format("the test set's classes ({}) differ from the training set's ({})",
                                                   fmt::join(test->classes(), ", "), fmt::join(train->classes(), ", ")));
      sets.test = test;
    }
  } else {  // npy
    const std::string targets = config.get_string("data.targets_path");
    require_exists(config, "data.targets_path", targets);
    sets.train = about(config, "data.path", "", [&] { return std::make_shared<data::NpyDataset>(path, targets); });
    if (!test_path.empty()) {
      const std::string test_targets = config.get_string("data.test_targets_path");
      require_exists(config, "data.test_targets_path", test_targets);
      sets.test = about(config, test_key, "",
                        [&] { return std::make_shared<data::NpyDataset>(test_path, test_targets); });
    }
  }
  return sets;
}

// Multiplies every input by a constant (preprocess.scale), before fitting or augmenting.
class Scaled final : public data::Dataset {
 public:
  Scaled(data::DatasetPtr base, double scale) : base_(std::move(base)), scale_(scale) {}
  std::int64_t size() const override { return base_->size(); }
  data::Example get(std::int64_t index) const override {
    data::Example e = base_->get(index);
    e.input = mul(e.input, scale_);
    return e;
  }
  std::string describe() const override { return fmt::format("{} x {}", base_->describe(), scale_); }

 private:
  data::DatasetPtr base_;
  double scale_;
};

}  // namespace

LoadedData load_data(const Config& config, const std::string& test_path_override) {
  Sets sets = read_sets(config, test_path_override);
  LoadedData out;
  const data::DatasetPtr all = first(sets.train, config.get_int("data.limit"));
  if (all->size() == 0) throw config.invalid("data.path", fmt::format("{} holds no examples", all->describe()));
  if (sets.test) sets.test = first(sets.test, config.get_int("data.test_limit"));
  const data::Example example = all->get(0);
  out.sample_shape = example.input.shape();
  out.regression = example.target.dtype() != DType::Int64;

  std::vector<std::int64_t> labels;
  if (out.regression) {
    out.num_classes = example.target.numel();
    out.class_names = {"value"};
  } else {
    labels = labels_of(*all);
    const std::int64_t seen = *std::max_element(labels.begin(), labels.end()) + 1;
    out.num_classes = std::max<std::int64_t>(seen, static_cast<std::int64_t>(sets.names.size()));
    const std::int64_t given = config.get_int("model.num_classes");
    if (given > 0) {
      const auto check = [&](const std::vector<std::int64_t>& ls, const data::Dataset& d) {
        for (std::size_t i = 0; i < ls.size(); ++i)
          if (ls[i] >= given)
            throw UsageError(fmt::format("label {} of example {} in {} is outside the {} classes of "
                                         "\"model.num_classes\" ({})",
                                         ls[i], i, d.describe(), given, config.origin("model.num_classes")));
      };
      check(labels, *all);
      if (sets.test) check(labels_of(*sets.test), *sets.test);
      out.num_classes = given;
    }
    const auto& names = config.get_strings("data.classes");
    if (!names.empty()) {
      if (static_cast<std::int64_t>(names.size()) != out.num_classes)
        throw config.invalid("data.classes", fmt::format("{} names for {} classes", names.size(), out.num_classes));
      out.class_names = names;
    } else if (static_cast<std::int64_t>(sets.names.size()) == out.num_classes) {
      out.class_names = sets.names;
    } else {
      for (std::int64_t c = 0; c < out.num_classes; ++c) out.class_names.push_back(std::to_string(c));
    }
  }

  const double fraction = config.get_float("data.validation_fraction");
  const std::int64_t folds = config.get_int("data.folds");
  if (folds > 0) {
    const bool stratify = !out.regression && config.get_bool("data.stratify");
    if (!stratify) labels.assign(static_cast<std::size_t>(all->size()), 0);
    if (folds > all->size())
      throw config.invalid("data.folds", fmt::format("{} folds of {} examples", folds, all->size()));
    const std::vector<data::Split> splits =
        data::stratified_kfold(labels, folds, static_cast<std::uint64_t>(config.get_int("run.seed")));
    const data::Split& split = splits[static_cast<std::size_t>(config.get_int("data.fold"))];
    out.train = std::make_shared<data::Subset>(all, split.train);
    out.validation = std::make_shared<data::Subset>(all, split.validation);
  } else if (fraction > 0.0) {
    // Without stratification (or for regression) every example is one class: a plain seeded random split.
    const bool stratify = !out.regression && config.get_bool("data.stratify");
    if (!stratify) labels.assign(static_cast<std::size_t>(all->size()), 0);
    const data::Split split = data::stratified_split(labels, fraction, static_cast<std::uint64_t>(config.get_int("run.seed")));
    if (split.train.empty() || split.validation.empty())
      throw config.invalid("data.validation_fraction",
                           fmt::format("splits {} examples into {} for training and {} for validation",
                                       all->size(), split.train.size(), split.validation.size()));
    out.train = std::make_shared<data::Subset>(all, split.train);
    out.validation = std::make_shared<data::Subset>(all, split.validation);
  } else {
    out.train = all;
  }
  out.test = sets.test;
  return out;
}

Pipeline make_pipeline(const Config& config, const LoadedData& data, const io::NamedTensors* saved) {
  const double scale = config.get_float("preprocess.scale");
  const auto scaled = [&](const data::DatasetPtr& d) -> data::DatasetPtr {
    if (!d || scale == 1.0) return d;
    return std::make_shared<Scaled>(d, scale);
  };
  const data::DatasetPtr train = scaled(data.train), validation = scaled(data.validation), test = scaled(data.test);

  Pipeline out;
  const std::string method = config.get_string("preprocess.method");
  const bool images = data.sample_shape.size() == 3;
  const data::StatAxis axis = config.get_string("preprocess.axis") == "per-channel" && data.sample_shape.size() >= 2
                                  ? data::StatAxis::PerChannel
                                  : data::StatAxis::PerFeature;
  data::NamedTensors stats;
  if (saved != nullptr)
    for (const auto& [name, tensor] : *saved)
      if (name.starts_with("preprocess/")) stats.emplace_back(name.substr(11), tensor);
  data::ExampleTransform scaler;
  if (method == "standardize") {
    data::Standardizer s;
    if (stats.empty()) s = data::Standardizer::fit(*train, axis);
    else s.load_state(stats);
    scaler = s.transform();
    stats = s.state();
  } else if (method == "min-max") {
    data::MinMaxScaler s;
    if (stats.empty()) s = data::MinMaxScaler::fit(*train, axis);
    else s.load_state(stats);
    scaler = s.transform();
    stats = s.state();
  }
  for (const auto& [name, tensor] : stats) out.state.emplace_back("preprocess/" + name, tensor);

  std::vector<data::ExampleTransform> augment;
  const auto needs_images = [&](const char* key) {
    if (!images)
      throw config.invalid(key, fmt::format("augmentation needs images [C, H, W]; the samples are {}",
                                            data.sample_shape.str()));
  };
  if (config.get_int("augment.crop_padding") > 0) {
    needs_images("augment.crop_padding");
    augment.push_back(data::random_crop(config.get_int("augment.crop_padding")));
  }
  if (config.get_bool("augment.hflip")) {
    needs_images("augment.hflip");
    augment.push_back(data::random_horizontal_flip());
  }
  if (config.get_bool("augment.vflip")) {
    needs_images("augment.vflip");
    augment.push_back(data::random_vertical_flip());
  }
  if (const double r = config.get_float("augment.rotation"); r > 0) {
    needs_images("augment.rotation");
    augment.push_back(data::random_rotation(-r, r));
  }
  if (const double p = config.get_float("augment.erasing"); p > 0) {
    needs_images("augment.erasing");
    augment.push_back(data::random_erasing(
        {.count = 1, .min_size = 1, .max_size = config.get_int("augment.erasing_max_size"), .fill = 0.0f, .p = p}));
  }
  if (const double s = config.get_float("augment.noise_std"); s > 0) augment.push_back(data::gaussian_noise(s));
  if (scaler) augment.push_back(scaler);
  out.eval_transform = scaler;

  data::LoaderOptions options;
  options.batch_size = config.get_int("data.batch_size");
  options.seed = static_cast<std::uint64_t>(config.get_int("run.seed"));
  options.num_workers = config.get_int("data.workers");
  options.example_transform = scaler;
  if (validation) out.validation = std::make_unique<data::DataLoader>(validation, options);
  if (test) out.test = std::make_unique<data::DataLoader>(test, options);
  options.shuffle = true;
  options.drop_last = config.get_bool("data.drop_last");
  options.example_transform = augment.empty() ? nullptr : data::compose(augment);
  if (data.regression && (config.get_float("augment.mixup_alpha") > 0 || config.get_float("augment.cutmix_alpha") > 0))
    throw config.invalid("augment.mixup_alpha", "mixup and cutmix mix class labels; the targets are regression values");
  if (const double a = config.get_float("augment.mixup_alpha"); a > 0) options.batch_transform = data::mixup(a, data.num_classes);
  if (const double a = config.get_float("augment.cutmix_alpha"); a > 0) {
    needs_images("augment.cutmix_alpha");
    options.batch_transform = data::cutmix(a, data.num_classes);
  }
  out.train = std::make_unique<data::DataLoader>(train, options);
  if (out.train->size() == 0)
    throw config.invalid("data.batch_size", fmt::format("leaves no training batch ({} examples, drop_last)",
                                                        train->size()));
  return out;
}

namespace {

std::shared_ptr<nn::Module> activation(const std::string& name) {
  if (name == "leaky_relu") return std::make_shared<nn::LeakyReLU>();
  if (name == "gelu") return std::make_shared<nn::GELU>();
  if (name == "silu") return std::make_shared<nn::SiLU>();
  if (name == "tanh") return std::make_shared<nn::Tanh>();
  if (name == "sigmoid") return std::make_shared<nn::Sigmoid>();
  if (name == "elu") return std::make_shared<nn::ELU>();
  return std::make_shared<nn::ReLU>();
}

std::shared_ptr<nn::Module> make_architecture(const Config& config, const LoadedData& data, Generator& gen) {
  const std::string name = config.get_string("model.name");
  const std::int64_t classes = data.num_classes;
  if (name == "mlp") {
    auto model = std::make_shared<nn::Sequential>();
    model->push_back(std::make_shared<nn::Flatten>());
    std::int64_t in = data.sample_shape.numel();
    const double p = config.get_float("model.dropout");
    for (const std::int64_t width : config.get_ints("model.hidden")) {
      model->push_back(std::make_shared<nn::Linear>(in, width, gen));
      model->push_back(activation(config.get_string("model.activation")));
      if (p > 0) model->push_back(std::make_shared<nn::Dropout>(p, gen));
      in = width;
    }
    model->push_back(std::make_shared<nn::Linear>(in, classes, gen));
    return model;
  }
  if (data.sample_shape.size() != 3)
    throw config.invalid("model.name", fmt::format("\"{}\" takes images [C, H, W]; the samples are {}", name,
                                                   data.sample_shape.str()));
  const std::int64_t channels =
      config.get_int("model.in_channels") > 0 ? config.get_int("model.in_channels") : data.sample_shape[0];
  const std::int64_t h = data.sample_shape[1], w = data.sample_shape[2];
  const std::int64_t width = config.get_int("model.width");
  if (name == "reference_cnn") {
    if (h < 4 || w < 4)
      throw config.invalid("model.name", fmt::format("\"reference_cnn\" pools twice by 2: it needs images of at "
                                                     "least 4x4, the samples are {}",
                                                     data.sample_shape.str()));
    return nn::reference_cnn(channels, h, w, classes, gen, 0.5);
  }
  if (name == "lenet5") {
    if (h != w || (h != 28 && h != 32))
      throw config.invalid("model.name", fmt::format("\"lenet5\" takes 28x28 or 32x32 images, the samples are {}",
                                                     data.sample_shape.str()));
    return std::make_shared<nn::LeNet5>(channels, classes, gen, h);
  }
  if (name == "small_vgg") {
    nn::SmallVGGOptions options;
    if (width > 0) options.width = width;
    if (config.given("model.dropout")) options.dropout = config.get_float("model.dropout");
    return std::make_shared<nn::SmallVGG>(channels, classes, gen, options);
  }
  if (name == "resnet18" || name == "small_resnet") {
    nn::ResNetOptions options;
    options.width = width > 0 ? width : (name == "small_resnet" ? 16 : 64);
    return std::make_shared<nn::ResNet18>(channels, classes, gen, options);
  }
  nn::MobileNetOptions options;
  options.width_multiplier = config.get_float("model.width_multiplier");
  return std::make_shared<nn::MobileNet>(channels, classes, gen, options);
}

}  // namespace

std::shared_ptr<nn::Module> build_model(const Config& config, const LoadedData& data) {
  Generator gen(static_cast<std::uint64_t>(config.get_int("run.seed")));
  const std::string name = config.get_string("model.name");
  auto model = about(config, "model.name", "", [&] { return make_architecture(config, data, gen); });
  // One forward pass on a zero example: a kernel larger than the input, a wrong channel count, a flattened size
  // that does not match surface here, named after the config key, instead of in the middle of training.
  {
    NoGradGuard no_grad;
    model->eval();
    Shape batch = data.sample_shape;
    batch.insert(0, 1);
    about(config, "model.name",
          fmt::format("\"{}\" does not fit the samples {}", name, data.sample_shape.str()),
          [&] { return (*model)(zeros(batch)); });
    model->train();
  }
  const std::string init_from = config.get_string("model.init_from");
  if (!init_from.empty()) {
    if (!std::filesystem::exists(init_from))
      throw UsageError(fmt::format("missing checkpoint for \"model.init_from\" in {}: {} does not exist",
                                   config.origin("model.init_from"), init_from));
    std::vector<std::string> patterns = config.get_strings("model.init_only");
    if (patterns.empty()) patterns.push_back("");
    for (const std::string& only : patterns) {
      const io::LoadReport report = about(config, "model.init_from",
                                          fmt::format("checkpoint {} does not fit the model \"{}\"", init_from, name),
                                          [&] { return io::load_module(init_from, *model, false, only); });
      std::size_t wanted = 0;
      for (const auto& [path, tensor] : model->named_parameters())
        if (only.empty() || nn::path_matches(only, path)) ++wanted;
      for (const auto& [path, tensor] : model->named_persistent_buffers())
        if (only.empty() || nn::path_matches(only, path)) ++wanted;
      if (wanted == 0)
        throw config.invalid("model.init_only", fmt::format("pattern \"{}\" matches no parameter or buffer of the "
                                                            "model \"{}\" (the first is \"{}\")",
                                                            only, name, model->named_parameters().front().first));
      if (report.missing.size() >= wanted)
        throw config.invalid(only.empty() ? "model.init_from" : "model.init_only",
                             fmt::format("checkpoint {} holds none of the model's {}entries: it comes from another "
                                         "model",
                                         init_from, only.empty() ? "" : "\"" + only + "\" "));
    }
  }
  for (const std::string& pattern : config.get_strings("model.freeze"))
    if (about(config, "model.freeze", "", [&] { return model->freeze(pattern); }) == 0)
      throw config.invalid("model.freeze", fmt::format("pattern \"{}\" matches no parameter (the first is \"{}\")",
                                                       pattern, model->named_parameters().front().first));
  return model;
}

train::LossFunction build_loss(const Config& config, const LoadedData& data, nn::Module& model) {
  const std::string name = config.get_string("loss.name");
  const std::int64_t classes = data.num_classes;
  train::LossFunction base;
  if (name == "cross_entropy") {
    if (data.regression) throw config.invalid("loss.name", "cross_entropy needs class labels; the targets are values");
    nn::CrossEntropyOptions options;
    options.label_smoothing = config.get_float("loss.label_smoothing");
    const auto& weights = config.get_floats("loss.class_weights");
    if (!weights.empty()) {
      if (static_cast<std::int64_t>(weights.size()) != classes)
        throw config.invalid("loss.class_weights", fmt::format("{} weights for {} classes", weights.size(), classes));
      std::vector<float> w(weights.begin(), weights.end());
      options.weight = from_vector(w, Shape{classes});
    }
    base = [options](const Tensor& logits, const Tensor& targets) { return nn::cross_entropy(logits, targets, options); };
  } else {
    // Regression targets are used as they are; class labels become one-hot vectors of the outputs' width.
    const auto target_of = [classes](const Tensor& targets) {
      return targets.dtype() == DType::Int64 ? data::one_hot(targets, classes) : targets;
    };
    if (name == "mse")
      base = [target_of](const Tensor& y, const Tensor& t) { return nn::mse_loss(y, target_of(t)); };
    else if (name == "l1")
      base = [target_of](const Tensor& y, const Tensor& t) { return nn::l1_loss(y, target_of(t)); };
    else
      base = [target_of](const Tensor& y, const Tensor& t) { return nn::huber_loss(y, target_of(t)); };
  }
  const double l1 = config.get_float("regularize.l1"), l2 = config.get_float("regularize.l2");
  if (l1 == 0.0 && l2 == 0.0) return base;
  // Penalties shape the training objective only: validation and test losses stay comparable across settings.
  return [base, l1, l2, &model](const Tensor& y, const Tensor& t) {
    Tensor loss = base(y, t);
    if (!model.training()) return loss;
    const std::vector<Tensor> weights = nn::weights_only(model);
    if (l1 > 0) loss = add(loss, nn::l1_penalty(weights, l1));
    if (l2 > 0) loss = add(loss, nn::l2_penalty(weights, l2));
    return loss;
  };
}

std::unique_ptr<optim::Optimizer> build_optimizer(const Config& config, nn::Module& model) {
  const std::string name = config.get_string("optim.name");
  const double lr = config.get_float("optim.lr"), wd = config.get_float("optim.weight_decay");
  const double momentum = config.get_float("optim.momentum"), eps = config.get_float("optim.eps");
  const auto& betas = config.get_floats("optim.betas");
  auto params = optim::named_parameters(model);
  return about(config, "optim.name", "", [&]() -> std::unique_ptr<optim::Optimizer> {
    if (name == "sgd")
      return std::make_unique<optim::SGD>(
          params, optim::SGDOptions{.lr = lr, .momentum = momentum, .nesterov = config.get_bool("optim.nesterov"),
                                    .weight_decay = wd});
    if (name == "adam")
      return std::make_unique<optim::Adam>(
          params, optim::AdamOptions{.lr = lr, .beta1 = betas[0], .beta2 = betas[1], .eps = eps, .weight_decay = wd});
    if (name == "adamw")
      return std::make_unique<optim::AdamW>(
          params, optim::AdamWOptions{.lr = lr, .beta1 = betas[0], .beta2 = betas[1], .eps = eps, .weight_decay = wd});
    if (name == "rmsprop")
      return std::make_unique<optim::RMSprop>(
          params, optim::RMSpropOptions{.lr = lr, .eps = eps, .weight_decay = wd, .momentum = momentum});
    return std::make_unique<optim::Adagrad>(params,
                                            optim::AdagradOptions{.lr = lr, .weight_decay = wd, .eps = eps});
  });
}

namespace {

// Gradient clipping right before each step, the max-norm constraint right after it.
class RegularizeCallback final : public train::Callback {
 public:
  RegularizeCallback(double clip_norm, double clip_value, double max_norm)
      : clip_norm_(clip_norm), clip_value_(clip_value), max_norm_(max_norm) {}
  void on_before_step(train::TrainContext& context) override {
    const auto params = context.optimizer.parameters();
    if (clip_value_ > 0) optim::clip_grad_value(params, clip_value_);
    if (clip_norm_ > 0) optim::clip_grad_norm(params, clip_norm_);
    stepped_ = true;
  }
  void on_batch_end(train::TrainContext& context) override {
    if (stepped_ && max_norm_ > 0) nn::max_norm_(nn::weights_only(context.model), max_norm_);
    stepped_ = false;
  }

 private:
  double clip_norm_, clip_value_, max_norm_;
  bool stepped_ = false;
};

}  // namespace

std::vector<train::CallbackPtr> build_training_callbacks(const Config& config, std::int64_t batches_per_epoch) {
  std::vector<train::CallbackPtr> out;
  const std::string name = config.get_string("schedule.name");
  const double lr = config.get_float("optim.lr");
  const bool per_step = config.get_string("schedule.every") == "step";
  const std::int64_t total = config.get_int("run.epochs") * (per_step ? batches_per_epoch : 1);
  const std::int64_t warmup = config.get_int("schedule.warmup");
  const double min_lr = config.get_float("schedule.min_lr"), gamma = config.get_float("schedule.gamma");
  if (name == "plateau") {
    const std::string monitor = config.get_string("schedule.monitor");
    optim::PlateauOptions options;
    // As train::MonitorMode::Auto: accuracies and scores go up, losses and errors down.
    const bool maximize = std::ranges::any_of(std::vector<std::string>{"accuracy", "f1", "precision", "recall", "r2"},
                                              [&](const std::string& s) { return monitor.find(s) != std::string::npos; });
    options.mode = maximize ? optim::PlateauMode::Max : optim::PlateauMode::Min;
    options.factor = config.get_float("schedule.factor");
    options.patience = config.get_int("schedule.patience");
    options.min_lr = min_lr;
    out.push_back(std::make_shared<train::PlateauCallback>(monitor, lr, options));
  } else if (name != "none") {
    if ((name == "warmup" || name == "warmup_cosine") && warmup == 0)
      throw config.invalid("schedule.warmup", fmt::format("schedule \"{}\" needs warmup > 0", name));
    if (name == "warmup_cosine" && warmup >= total)
      throw config.invalid("schedule.warmup", fmt::format("the warm-up ({}) must be shorter than the run ({} {}s)",
                                                          warmup, total, per_step ? "step" : "epoch"));
    const auto schedule = about(config, "schedule.name", "", [&]() -> std::shared_ptr<const optim::Schedule> {
      if (name == "step") return std::make_shared<optim::StepLR>(lr, config.get_int("schedule.step_size"), gamma);
      if (name == "multistep") return std::make_shared<optim::MultiStepLR>(lr, config.get_ints("schedule.milestones"), gamma);
      if (name == "exponential") return std::make_shared<optim::ExponentialLR>(lr, gamma);
      if (name == "cosine") return std::make_shared<optim::CosineAnnealingLR>(lr, total, min_lr);
      if (name == "warmup") return std::make_shared<optim::LinearWarmup>(lr, 0.01, 1.0, warmup);
      if (name == "warmup_cosine")
        return std::make_shared<optim::SequentialSchedule>(
            std::vector<std::shared_ptr<const optim::Schedule>>{
                std::make_shared<optim::LinearWarmup>(lr, 0.01, 1.0, warmup),
                std::make_shared<optim::CosineAnnealingLR>(lr, total - warmup, min_lr)},
            std::vector<std::int64_t>{warmup});
      return std::make_shared<optim::OneCycleLR>(lr, total,
                                                 optim::OneCycleOptions{.pct_start = config.get_float("schedule.pct_start")});
    });
    out.push_back(std::make_shared<train::ScheduleCallback>(
        schedule, per_step ? train::ScheduleCallback::Every::Step : train::ScheduleCallback::Every::Epoch));
  }
  const double clip_norm = config.get_float("regularize.clip_grad_norm");
  const double clip_value = config.get_float("regularize.clip_grad_value");
  const double max_norm = config.get_float("regularize.max_norm");
  if (clip_norm > 0 || clip_value > 0 || max_norm > 0)
    out.push_back(std::make_shared<RegularizeCallback>(clip_norm, clip_value, max_norm));
  return out;
}

}  // namespace vigil::cli
