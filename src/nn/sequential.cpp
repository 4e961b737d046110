// Sequential: a chain of modules.
#include <vigil/nn/sequential.hpp>

#include <vigil/nn/activation.hpp>
#include <vigil/nn/batch_norm.hpp>

#include <typeinfo>

namespace vigil::nn {

Sequential::Sequential(std::vector<std::shared_ptr<Module>> modules) {
  for (auto& module : modules) push_back(std::move(module));
}

namespace {

// The batch norm at `layer` when it is followed by a plain ReLU without hooks: the pair then runs as one fused op.
// Exact types only: a subclass may override forward.
BatchNorm* fusable_batch_norm(const std::shared_ptr<Module>& layer, const std::shared_ptr<Module>& next) {
  const Module& m = *layer;
  const bool is_batch_norm = typeid(m) == typeid(BatchNorm1d) || typeid(m) == typeid(BatchNorm2d);
  const Module& n = *next;
  if (!is_batch_norm || typeid(n) != typeid(ReLU) || next->has_hooks()) return nullptr;
  return static_cast<BatchNorm*>(layer.get());
}

}  // namespace

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    if (i + 1 < layers_.size()) {
      if (BatchNorm* bn = fusable_batch_norm(layers_[i], layers_[i + 1])) {
        y = batch_norm_relu(*bn, y);
        ++i;
        continue;
      }
    }
    y = (*layers_[i])(y);
  }
  return y;
}

Module& Sequential::operator[](std::size_t index) const {
  VIGIL_CHECK(index < layers_.size(), IndexError, "Sequential: index {} is out of range for {} modules", index,
              layers_.size());
  return *layers_[index];
}

}  // namespace vigil::nn
