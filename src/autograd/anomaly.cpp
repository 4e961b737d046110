// Anomaly mode (see anomaly.hpp): a thread-local pointer to the innermost guard's state.
#include <vigil/autograd/anomaly.hpp>
#include <vigil/autograd/node.hpp>

#include <cmath>
#include <unordered_map>

namespace vigil {

struct AnomalyGuard::State {
  std::optional<Anomaly> first;
  std::uint64_t ops = 0;
  // The index of each node recorded in this scope, so a backward anomaly can name the forward op it belongs to.
  std::unordered_map<const Node*, std::uint64_t> index;
};

namespace {

thread_local AnomalyGuard::State* active = nullptr;

template <class T>
bool finite_values(const Tensor& c) {
  const T* p = c.data<T>();
  const std::int64_t n = c.numel();
  // Sum of x - x is 0 for finite x and NaN for NaN/Inf: a branch-free pass the compiler vectorises.
  T acc = T(0);
  for (std::int64_t i = 0; i < n; ++i) acc += p[i] - p[i];
  return acc == T(0);
}

}  // namespace

AnomalyGuard::AnomalyGuard() : state_(std::make_unique<State>()), previous_(active) { active = state_.get(); }

AnomalyGuard::~AnomalyGuard() { active = previous_; }

bool AnomalyGuard::is_enabled() { return active != nullptr; }

const std::optional<Anomaly>& AnomalyGuard::first() const { return state_->first; }

std::uint64_t AnomalyGuard::ops_recorded() const { return state_->ops; }

bool all_finite(const Tensor& t) {
  if (!t.defined()) return true;
  switch (t.dtype()) {
    case DType::Float32: return finite_values<float>(raw::contiguous(t));
    case DType::Float64: return finite_values<double>(raw::contiguous(t));
    case DType::BFloat16: return all_finite(raw::to_dtype(t, DType::Float32));
    default: return true;
  }
}

namespace detail {

void anomaly_check_forward(const char* op, const Tensor& out, std::span<const Tensor* const> inputs, const Node* node) {
  AnomalyGuard::State* state = active;
  if (state == nullptr) return;
  const std::uint64_t index = ++state->ops;
  state->index[node] = index;
  if (state->first || all_finite(out)) return;
  Anomaly anomaly;
  anomaly.phase = Anomaly::Phase::forward;
  anomaly.op = op;
  anomaly.op_index = index;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!all_finite(*inputs[i])) {
      anomaly.input = static_cast<std::int64_t>(i);
      break;
    }
  }
  state->first = std::move(anomaly);
}

void anomaly_check_backward(const Node& node, const Tensor& grad_output, std::span<const Tensor> grad_inputs) {
  AnomalyGuard::State* state = active;
  if (state == nullptr || state->first) return;
  for (std::size_t i = 0; i < grad_inputs.size(); ++i) {
    if (all_finite(grad_inputs[i])) continue;
    Anomaly anomaly;
    anomaly.phase = Anomaly::Phase::backward;
    anomaly.op = node.name();
    const auto it = state->index.find(&node);
    anomaly.op_index = it == state->index.end() ? 0 : it->second;
    anomaly.input = static_cast<std::int64_t>(i);
    anomaly.grad_output_finite = all_finite(grad_output);
    state->first = std::move(anomaly);
    return;
  }
}

}  // namespace detail
}  // namespace vigil
