// Optimizer: the base of every first-order optimiser (SGD, Adagrad, Adadelta, RMSprop, Adam, AdamW).
//
// Parameters come as named lists: NamedParameter {path, tensor}, where the path is the dotted name a module tree
// gives a parameter ("0.weight", "encoder.fc1.bias"). The optimiser never sees the module tree, only these lists,
// and the same paths key its per-parameter state, so a checkpoint's optimiser state lines up with the weights by
// name rather than by position.
//
// A training step reads:
//     opt.zero_grad();                 // every parameter's grad -> undefined
//     backward(loss);                  // fills p.grad()
//     clip_grad_norm(opt.parameters(), 1.0);   // optional, see clip.hpp
//     opt.step();                      // p <- update(p, p.grad(), state(p)) in place
//
// Parameters whose grad is undefined at step() are skipped: neither they nor their state (step count, moments)
// change, as in PyTorch. Updates run under NoGradGuard, in place, in one fused pass over each parameter's memory.
//
// Weight decay comes in two kinds (WeightDecay), chosen per optimiser; every optimiser takes both.
//   CoupledL2:  g <- g + wd * p before the optimiser's rule: the gradient of the L2 penalty (wd/2)*|p|^2.
//   Decoupled:  p <- p * (1 - lr * wd) before the rule, which then sees the bare gradient (Loshchilov & Hutter,
//               "Decoupled Weight Decay Regularization", 2019).
// For plain SGD the two are the same update (p - lr*(g + wd*p) = p*(1 - lr*wd) - lr*g). For adaptive methods
// (Adagrad, Adadelta, RMSprop, Adam) they are not: the coupled term wd*p passes through the adaptive rescaling
// g / sqrt(v), so a weight whose gradients are large (large v) is decayed less and one with small gradients is
// decayed more, and the decay also inflates v. Decoupled decay shrinks every weight at the same rate lr*wd,
// whatever its gradient history, which is what "weight decay" is meant to do; this is why AdamW generalises
// better than Adam + L2. Defaults follow PyTorch: CoupledL2 for SGD, Adagrad, Adadelta, RMSprop and Adam;
// Decoupled for AdamW.
//
// Parameter groups (ParamGroup) give some parameters their own learning rate and weight decay, e.g. a small lr
// for a pretrained backbone and a larger one for a new head when fine-tuning. A group's unset values take the
// optimiser's. A learning-rate schedule calls set_lr() before each step.
//
// State: every parameter has a ParamState from construction on (its buffers allocated and initialised, step 0;
// PyTorch allocates them at the first step instead, with the same values). state_dict() snapshots (copies) every
// parameter's state keyed by path, together with each group's lr and weight decay; load_state_dict() checks it
// against this optimiser (name, groups, every path, every buffer's shape and dtype) and throws vigil::Error naming
// what does not fit before changing anything.
//
// Dtypes: float32 and float64 parameters; a gradient must have its parameter's shape and dtype. Scalars (lr,
// betas, ...) are doubles, rounded to the parameter's dtype where they enter the elementwise update, as PyTorch.
#pragma once

#include <vigil/nn/module.hpp>
#include <vigil/tensor/tensor.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vigil::optim {

// A parameter and its dotted path in the model ("0.weight"). The tensor is a handle: updates reach the model.
struct NamedParameter {
  std::string path;
  Tensor tensor;
};

// Every parameter of a module tree, with its dotted path: what optimisers take.
std::vector<NamedParameter> named_parameters(const nn::Module& module);

// Parameters sharing hyper-parameters. Unset lr / weight_decay take the optimiser's.
struct ParamGroup {
  std::vector<NamedParameter> params;
  std::optional<double> lr;
  std::optional<double> weight_decay;
};

enum class WeightDecay {
  CoupledL2,  // g <- g + wd * p (an L2 penalty's gradient; rescaled by adaptive denominators)
  Decoupled,  // p <- p * (1 - lr * wd) (the same relative shrink for every weight)
};
// "coupled_l2" / "decoupled"
const char* weight_decay_name(WeightDecay kind);

// One parameter's optimiser state.
struct ParamState {
  std::int64_t step = 0;                  // updates applied to this parameter so far
  std::map<std::string, Tensor> buffers;  // e.g. "exp_avg", "exp_avg_sq"; each of the parameter's shape and dtype
};

// Everything an optimiser needs to resume: what state_dict() returns and load_state_dict() takes.
struct StateDict {
  std::string optimizer;                     // the optimiser's name ("Adam"), checked on load
  std::vector<double> lr;                    // per group
  std::vector<double> weight_decay;          // per group
  std::map<std::string, ParamState> params;  // keyed by parameter path: one entry per parameter
};

class Optimizer {
 public:
  // For the optimisers deriving from this class (see the protected constructor and update()).
  // A per-parameter buffer the optimiser keeps, and the value it starts at.
  struct BufferSpec {
    std::string name;
    double initial = 0.0;
  };
  // What one update of one parameter needs from its group, after the weight-decay kind is resolved.
  struct StepScalars {
    double lr;
    double coupled_wd;    // add coupled_wd * p to the gradient (0 when the kind is Decoupled)
    double decay_factor;  // multiply p by this first: 1 - lr * wd when Decoupled, else 1
  };

  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW".
  const std::string& name() const { return name_; }

  // One update of every parameter that has a gradient. Throws ShapeError / DTypeError naming the path when a
  // gradient's shape or dtype differs from its parameter's.
  void step();
  // Sets every parameter's grad to undefined (PyTorch's set_to_none).
  void zero_grad();

  std::size_t num_groups() const { return groups_.size(); }
  double lr(std::size_t group = 0) const;
  // Sets the learning rate of every group (what a schedule does), or of one group. Requires lr >= 0.
  void set_lr(double lr);
  void set_lr(std::size_t group, double lr);
  double weight_decay(std::size_t group = 0) const;
  WeightDecay weight_decay_kind() const { return weight_decay_kind_; }
  // The parameters of one group, or of all groups in order.
  const std::vector<NamedParameter>& params(std::size_t group) const;
  std::vector<NamedParameter> parameters() const;

  // The state of the parameter at `path`; throws Error naming the path if there is none.
  const ParamState& state(const std::string& path) const;

  // A deep copy of the state: later steps do not change it.
  StateDict state_dict() const;
  // Replaces the state with a copy of `state`, and each group's lr and weight decay with the saved ones. Throws Error (ShapeError for a shape) naming the parameter path and
  // buffer when `state` is for another optimiser or group count, lacks a path or a buffer this optimiser keeps,
  // has one it does not know, or a buffer's shape or dtype differs from the parameter's. Nothing changes then.
  void load_state_dict(const StateDict& state);

 protected:
  // Validates the groups (non-empty paths, unique paths and tensors, floating dtypes, lr and weight decay >= 0)
  // and creates each parameter's buffers from `buffers`, with step 0.
  Optimizer(std::string name, std::vector<ParamGroup> groups, double lr, double weight_decay, WeightDecay kind,
            std::vector<BufferSpec> buffers);

  // Updates p in place from g. p and g are contiguous, of one shape and dtype; state.step already counts this
  // update; state.buffers holds the BufferSpec buffers, contiguous.
  virtual void update(const Tensor& p, const Tensor& g, ParamState& state, const StepScalars& s) = 0;

 private:
  struct Group {
    std::vector<NamedParameter> params;
    std::vector<ParamState*> states;  // params[i]'s entry in state_ (map nodes do not move)
    double lr;
    double weight_decay;
  };

  std::string name_;
  WeightDecay weight_decay_kind_;
  std::vector<BufferSpec> buffer_specs_;
  std::vector<Group> groups_;
  std::map<std::string, ParamState> state_;
};

// Throws Error "<optimizer>: <what> must be <rule>, got <value>" unless ok; used to validate hyper-parameters.
void check_hyper(bool ok, const std::string& optimizer, const char* what, const char* rule, double value);

}  // namespace vigil::optim
