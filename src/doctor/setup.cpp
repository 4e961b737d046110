#include "vigil/doctor/setup.hpp"

#include <cmath>

#include "vigil/autograd/grad_mode.hpp"
#include "vigil/tensor/error.hpp"

namespace vigil::doctor {

namespace {

// True when every row of a [N, C] float tensor sums to 1 (within float rounding): soft labels.
bool rows_sum_to_one(const Tensor& targets) {
  const Tensor c = raw::contiguous(raw::to_dtype(targets, DType::Float64));
  const double* p = c.data<double>();
  const std::int64_t rows = c.shape()[0], cols = c.shape()[1];
  for (std::int64_t r = 0; r < rows; ++r) {
    double sum = 0.0;
    for (std::int64_t k = 0; k < cols; ++k) sum += p[r * cols + k];
    if (std::abs(sum - 1.0) > 1e-3) return false;
  }
  return true;
}

}  // namespace

Task infer_task(const Setup& setup) {
  auto epoch = setup.train.epoch(0);
  auto it = epoch.begin();
  if (it == epoch.end()) throw Error("doctor: the training loader yields no batch");
  const data::Batch& batch = *it;
  Task task;
  task.input_shape = batch.inputs.shape();
  const bool was_training = setup.model.training();
  setup.model.eval();
  {
    NoGradGuard no_grad;
    task.output_shape = setup.model(batch.inputs).shape();
  }
  if (was_training) setup.model.train();
  const Tensor& targets = batch.targets;
  const bool integer_targets = targets.dtype() == DType::Int64 || targets.dtype() == DType::Int32;
  if (integer_targets) {
    task.classification = true;
    task.num_classes = task.output_shape.size() >= 2 ? task.output_shape[1] : 1;
  } else if (targets.dim() == 2 && targets.shape() == task.output_shape && targets.shape()[1] > 1 &&
             rows_sum_to_one(targets)) {
    task.classification = true;
    task.soft_labels = true;
    task.num_classes = targets.shape()[1];
  }
  return task;
}

StateSnapshot::StateSnapshot(nn::Module& model, optim::Optimizer& optimizer)
    : model_(model), optimizer_(optimizer), optimizer_state_(optimizer.state_dict()), training_(model.training()) {
  for (auto& [path, p] : model.named_parameters()) {
    tensors_.emplace_back(p, raw::clone(p));
    const Tensor g = p.grad();
    grads_.emplace_back(p, g.defined() ? std::optional<Tensor>(raw::clone(g)) : std::nullopt);
  }
  for (auto& [path, b] : model.named_buffers()) tensors_.emplace_back(b, raw::clone(b));
  for (auto& [path, g] : model.named_generators()) generators_.emplace_back(g, *g);
}

StateSnapshot::~StateSnapshot() {
  try {
    restore();
  } catch (...) {  // a destructor must not throw; restore() only copies into tensors of matching shape
  }
}

void StateSnapshot::restore() {
  NoGradGuard no_grad;
  for (auto& [live, saved] : tensors_) raw::copy_(live, saved);
  for (auto& [p, g] : grads_) {
    Tensor live = p;
    live.set_grad(g ? raw::clone(*g) : Tensor());
  }
  for (auto& [live, saved] : generators_) *live = saved;
  optimizer_.load_state_dict(optimizer_state_);
  if (training_) model_.train(); else model_.eval();
}

}  // namespace vigil::doctor
