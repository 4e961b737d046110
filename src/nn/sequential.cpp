// Sequential: a chain of modules.
#include <vigil/nn/sequential.hpp>

#include <vigil/nn/activation.hpp>
#include <vigil/nn/batch_norm.hpp>
#include <vigil/nn/pooling.hpp>

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

// True when `layer` is a plain 2x2, stride-2 MaxPool2d without hooks and x's planes are at least 2x2 (a smaller
// plane takes the unfused path, whose max pooling reports it).
bool fusable_max_pool(const std::shared_ptr<Module>& layer, const Tensor& x) {
  const Module& m = *layer;
  return typeid(m) == typeid(MaxPool2d) && !layer->has_hooks() &&
         static_cast<const MaxPool2d&>(m).is_2x2_stride_2() && x.dim() == 4 && x.shape()[2] >= 2 &&
         x.shape()[3] >= 2;
}

}  // namespace

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    BatchNorm* bn = i + 1 < layers_.size() ? fusable_batch_norm(layers_[i], layers_[i + 1]) : nullptr;
    if (bn && !bn->has_hooks() && i + 2 < layers_.size() && fusable_max_pool(layers_[i + 2], y)) {
      y = bn->forward_relu_max_pool2x2(y);
      i += 2;
    } else if (bn) {
      y = batch_norm_relu(*bn, y);
      ++i;
    } else {
      y = (*layers_[i])(y);
    }
  }
  return y;
}

Module& Sequential::operator[](std::size_t index) const {
  VIGIL_CHECK(index < layers_.size(), IndexError, "Sequential: index {} is out of range for {} modules", index,
              layers_.size());
  return *layers_[index];
}

}  // namespace vigil::nn
