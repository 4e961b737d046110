// Sequential: a chain of modules.
#include <vigil/nn/sequential.hpp>

namespace vigil::nn {

Sequential::Sequential(std::vector<std::shared_ptr<Module>> modules) {
  for (auto& module : modules) push_back(std::move(module));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& layer : layers_) y = (*layer)(y);
  return y;
}

Module& Sequential::operator[](std::size_t index) const {
  VIGIL_CHECK(index < layers_.size(), IndexError, "Sequential: index {} is out of range for {} modules", index,
              layers_.size());
  return *layers_[index];
}

}  // namespace vigil::nn
