// Training checkpoints (see checkpoint.hpp for the file's names and metadata).
#include <vigil/train/checkpoint.hpp>

#include <vigil/io/checkpoint.hpp>
#include <vigil/tensor/error.hpp>

#include <fmt/format.h>

#include <bit>
#include <charconv>
#include <filesystem>
#include <map>

namespace vigil::train {
namespace {

constexpr const char* kFormat = "vigil-checkpoint";
constexpr const char* kFormatVersion = "1";

std::string join(const std::vector<double>& values) {
  std::string out;
  for (double v : values) {
    if (!out.empty()) out += ',';
    out += fmt::format("{}", v);
  }
  return out;
}

std::vector<double> split_numbers(const std::string& text, const std::string& path, const std::string& key) {
  std::vector<double> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    double value = 0.0;
    const auto [ptr, ec] = std::from_chars(text.data() + start, text.data() + end, value);
    VIGIL_CHECK(ec == std::errc() && ptr == text.data() + end, Error,
                "{}: metadata \"{}\" = \"{}\" is not a comma-separated list of numbers", path, key, text);
    out.push_back(value);
    start = end + 1;
  }
  return out;
}

std::int64_t integer_entry(const io::Metadata& metadata, const std::string& key, const std::string& path) {
  const auto it = metadata.find(key);
  VIGIL_CHECK(it != metadata.end(), Error, "{}: checkpoint metadata lacks \"{}\"", path, key);
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), value);
  VIGIL_CHECK(ec == std::errc() && ptr == it->second.data() + it->second.size() && value >= 0, Error,
              "{}: metadata \"{}\" = \"{}\" is not a non-negative integer", path, key, it->second);
  return value;
}

// Generator::State <-> int64 [6]: s[0..3] bit for bit, has_spare_normal, spare_normal's bits.
Tensor generator_tensor(const Generator& generator) {
  const Generator::State s = generator.state();
  std::vector<std::int64_t> words;
  for (std::uint64_t w : s.s) words.push_back(std::bit_cast<std::int64_t>(w));
  words.push_back(s.has_spare_normal ? 1 : 0);
  words.push_back(std::bit_cast<std::int32_t>(s.spare_normal));
  return from_vector_i64(words, Shape{6});
}

Generator::State generator_state(const Tensor& t, const std::string& path, const std::string& name) {
  VIGIL_CHECK(t.dtype() == DType::Int64 && t.shape() == Shape{6}, Error,
              "{}: '{}' must be an int64 [6] generator state, got {} {}", path, name, dtype_name(t.dtype()),
              t.shape().str());
  const std::int64_t* w = t.data<std::int64_t>();
  VIGIL_CHECK(w[4] == 0 || w[4] == 1, Error, "{}: '{}' has a spare-normal flag of {}, expected 0 or 1", path, name,
              w[4]);
  Generator::State s;
  for (int i = 0; i < 4; ++i) s.s[i] = std::bit_cast<std::uint64_t>(w[i]);
  s.has_spare_normal = w[4] == 1;
  s.spare_normal = std::bit_cast<float>(static_cast<std::int32_t>(w[5]));
  return s;
}

bool has_prefix(const std::string& name, std::string_view prefix) { return name.starts_with(prefix); }

}  // namespace

void save_checkpoint(const std::string& path, nn::Module& model, const optim::Optimizer* optimizer,
                     const std::vector<CallbackPtr>& callbacks, const CheckpointState& state) {
  io::NamedTensors tensors = model.named_parameters();
  for (auto& entry : model.named_persistent_buffers()) tensors.push_back(std::move(entry));
  io::Metadata metadata = state.metadata;
  auto set_metadata = [&](const std::string& key, std::string value) {
    VIGIL_CHECK(!state.metadata.contains(key), Error, "save_checkpoint: {}: the caller's metadata key \"{}\" is vigil's",
                path, key);
    metadata[key] = std::move(value);
  };
  set_metadata("format", kFormat);
  set_metadata("format_version", kFormatVersion);
  set_metadata("epoch", std::to_string(state.epoch));
  set_metadata("step", std::to_string(state.step));
  if (optimizer != nullptr) {
    const optim::StateDict dict = optimizer->state_dict();
    set_metadata("optimizer", dict.optimizer);
    set_metadata("lr", join(dict.lr));
    set_metadata("weight_decay", join(dict.weight_decay));
    for (const auto& [param, param_state] : dict.params) {
      tensors.emplace_back("optimizer/" + param + "/step", from_vector_i64(std::vector{param_state.step}, Shape{}));
      for (const auto& [buffer, value] : param_state.buffers)
        tensors.emplace_back("optimizer/" + param + "/" + buffer, value);
    }
  }
  for (const auto& [name, generator] : model.named_generators())
    tensors.emplace_back("rng/" + name, generator_tensor(*generator));
  for (const auto& [name, tensor] : state.extra) tensors.emplace_back("extra/" + name, tensor);
  for (const auto& callback : callbacks)
    if (!callback->name().empty())
      for (const auto& [key, value] : callback->state())
        set_metadata("callback/" + callback->name() + "/" + key, fmt::format("{}", value));
  io::save_safetensors(path, tensors, metadata);
}

CheckpointState load_checkpoint(const std::string& path, nn::Module& model, optim::Optimizer* optimizer,
                                const std::vector<CallbackPtr>& callbacks) {
  io::SafetensorsFile file = io::load_safetensors(path);
  const io::Metadata& meta = file.metadata;
  const auto format = meta.find("format");
  VIGIL_CHECK(format != meta.end() && format->second == kFormat, Error,
              "{}: not a vigil checkpoint (metadata \"format\" is {}, expected \"{}\"); a weights-only file loads "
              "with io::load_module",
              path, format == meta.end() ? "absent" : "\"" + format->second + "\"", kFormat);
  const auto version = meta.find("format_version");
  VIGIL_CHECK(version != meta.end() && version->second == kFormatVersion, Error,
              "{}: checkpoint format version {} is not the supported {}", path,
              version == meta.end() ? "(absent)" : version->second, kFormatVersion);

  CheckpointState state;
  state.epoch = integer_entry(meta, "epoch", path);
  state.step = integer_entry(meta, "step", path);

  io::NamedTensors weights;
  std::map<std::string, Tensor> generators;
  optim::StateDict dict;
  for (auto& [name, tensor] : file.tensors) {
    if (has_prefix(name, "rng/")) {
      generators.emplace(name.substr(4), tensor);
    } else if (has_prefix(name, "extra/")) {
      state.extra.emplace_back(name.substr(6), tensor);
    } else if (has_prefix(name, "optimizer/")) {
      const std::size_t slash = name.rfind('/');
      const std::string param = name.substr(10, slash - 10), buffer = name.substr(slash + 1);
      VIGIL_CHECK(slash > 10, Error, "{}: malformed optimizer entry '{}'", path, name);
      optim::ParamState& ps = dict.params[param];
      if (buffer == "step") {
        VIGIL_CHECK(tensor.dtype() == DType::Int64 && tensor.numel() == 1, Error,
                    "{}: '{}' must be an int64 scalar", path, name);
        ps.step = tensor.data<std::int64_t>()[0];
      } else {
        ps.buffers.emplace(buffer, tensor);
      }
    } else {
      weights.emplace_back(name, tensor);
    }
  }

  // Validate everything the model needs before changing it: generators first, then the weights (which
  // load_module_state checks completely before copying).
  const auto model_generators = model.named_generators();
  std::vector<std::pair<Generator*, Generator::State>> generator_states;
  for (const auto& [name, generator] : model_generators) {
    const auto it = generators.find(name);
    VIGIL_CHECK(it != generators.end(), Error, "{}: the model's generator '{}' is not in the checkpoint", path, name);
    generator_states.emplace_back(generator, generator_state(it->second, path, "rng/" + name));
    generators.erase(it);
  }
  VIGIL_CHECK(generators.empty(), Error, "{}: the checkpoint has generator 'rng/{}', which the model lacks", path,
              generators.empty() ? "" : generators.begin()->first);
  io::load_module_state(weights, model, path, /*strict=*/true);
  for (const auto& [generator, s] : generator_states) generator->set_state(s);

  if (optimizer != nullptr) {
    const auto name = meta.find("optimizer");
    VIGIL_CHECK(name != meta.end(), Error, "{}: the checkpoint holds no optimizer state", path);
    dict.optimizer = name->second;
    dict.lr = split_numbers(meta.at("lr"), path, "lr");
    dict.weight_decay = split_numbers(meta.at("weight_decay"), path, "weight_decay");
    optimizer->load_state_dict(dict);
  }
  for (const auto& callback : callbacks) {
    if (callback->name().empty()) continue;
    const std::string prefix = "callback/" + callback->name() + "/";
    std::map<std::string, double> values;
    for (const auto& [key, value] : meta)
      if (key.starts_with(prefix)) values[key.substr(prefix.size())] = split_numbers(value, path, key).at(0);
    if (!values.empty()) callback->load_state(values);
  }
  for (const auto& [key, value] : meta)
    if (!key.starts_with("callback/") &&
        !(key == "format" || key == "format_version" || key == "epoch" || key == "step" || key == "optimizer" ||
          key == "lr" || key == "weight_decay"))
      state.metadata[key] = value;
  return state;
}

// ---- ModelCheckpoint ----

ModelCheckpoint::ModelCheckpoint(Options options, std::vector<CallbackPtr> callbacks_to_save)
    : options_(std::move(options)),
      callbacks_(std::move(callbacks_to_save)),
      tracker_(options_.monitor, options_.mode, 0.0) {
  VIGIL_CHECK(!options_.dir.empty(), Error, "ModelCheckpoint: dir is empty");
  VIGIL_CHECK(options_.every_epochs >= 0, Error, "ModelCheckpoint: every_epochs must be >= 0, got {}",
              options_.every_epochs);
  std::error_code error;
  std::filesystem::create_directories(options_.dir, error);
  VIGIL_CHECK(!error, Error, "ModelCheckpoint: cannot create {}: {}", options_.dir, error.message());
}

void ModelCheckpoint::on_epoch_end(TrainContext& context) {
  const bool best = options_.save_best && tracker_.update(context.epoch_logs);
  CheckpointState state{context.epoch + 1, context.step, options_.extra, {}};
  // This callback's own state (the best value) goes in too, so a resumed run keeps comparing against it.
  for (const auto& [key, value] : this->state()) state.metadata["callback/" + name() + "/" + key] = fmt::format("{}", value);
  auto save = [&](const std::string& file) {
    save_checkpoint(options_.dir + "/" + file, context.model, &context.optimizer, callbacks_, state);
  };
  if (best) save("best.safetensors");
  if (options_.save_last) save("last.safetensors");
  if (options_.every_epochs > 0 && (context.epoch + 1) % options_.every_epochs == 0)
    save(fmt::format("epoch-{}.safetensors", context.epoch + 1));
}

std::map<std::string, double> ModelCheckpoint::state() const {
  return tracker_.best() ? std::map<std::string, double>{{"best", *tracker_.best()}} : std::map<std::string, double>{};
}

void ModelCheckpoint::load_state(const std::map<std::string, double>& state) {
  const auto it = state.find("best");
  tracker_.set_best(it == state.end() ? std::nullopt : std::optional<double>(it->second));
}

}  // namespace vigil::train
