// save_module / load_module: a module's state as named safetensors entries.
#include <vigil/io/checkpoint.hpp>

#include <fmt/ranges.h>

#include <map>

namespace vigil::io {
namespace {

// The tensors that make up a module's state, by dotted path: parameters, then persistent buffers (running
// statistics and the like), as PyTorch's state_dict.
NamedTensors module_state(const nn::Module& module) {
  NamedTensors state = module.named_parameters();
  for (auto& entry : module.named_persistent_buffers()) state.push_back(std::move(entry));
  return state;
}

}  // namespace

void save_module(const std::string& path, const nn::Module& module, const Metadata& metadata) {
  save_safetensors(path, module_state(module), metadata);
}

LoadReport load_module(const std::string& path, nn::Module& module, bool strict, std::string_view only) {
  return load_module_state(load_safetensors(path).tensors, module, path, strict, only);
}

LoadReport load_module_state(const NamedTensors& tensors, nn::Module& module, const std::string& path, bool strict,
                             std::string_view only) {
  std::map<std::string, const Tensor*> stored;
  for (const auto& [name, tensor] : tensors)
    if (only.empty() || nn::path_matches(only, name)) stored.emplace(name, &tensor);

  const NamedTensors state = module_state(module);
  LoadReport report;
  std::vector<std::pair<Tensor, const Tensor*>> copies;
  for (const auto& [name, target] : state) {
    if (!only.empty() && !nn::path_matches(only, name)) continue;
    const auto it = stored.find(name);
    if (it == stored.end()) {
      report.missing.push_back(name);
      continue;
    }
    const Tensor& source = *it->second;
    VIGIL_CHECK(source.shape() == target.shape(), ShapeError,
                "load_module: {}: '{}' has shape {} in the file but {} in the module", path, name,
                source.shape().str(), target.shape().str());
    VIGIL_CHECK(source.dtype() == target.dtype(), DTypeError,
                "load_module: {}: '{}' is {} in the file but {} in the module", path, name,
                dtype_name(source.dtype()), dtype_name(target.dtype()));
    copies.emplace_back(target, &source);
    stored.erase(it);
  }
  for (const auto& [name, tensor] : tensors) {
    if (stored.contains(name)) report.unexpected.push_back(name);
  }
  if (strict && (!report.missing.empty() || !report.unexpected.empty())) {
    throw Error(fmt::format("load_module: {}: keys do not match the module: missing [{}], unexpected [{}]", path,
                            fmt::join(report.missing, ", "), fmt::join(report.unexpected, ", ")));
  }
  // Raw copies into the parameters' storage: loading weights is not an operation to differentiate.
  for (const auto& [target, source] : copies) raw::copy_(target, *source);
  return report;
}

}  // namespace vigil::io
