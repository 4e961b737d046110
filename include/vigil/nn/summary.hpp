// Summary: a model's layers, output shapes and parameter counts as a table, like Keras' model.summary().
//
// summarize() runs one forward pass of an example input through the model and records, for every module call,
// the module's path, type, output shape and own parameter counts, then the parameter totals of the whole tree:
//
//   Layer    Type            Output shape  Params  Trainable
//   --------------------------------------------------------
//   (model)  Sequential      [2, 3]             0          0
//   0        Linear(4 -> 5)  [2, 5]            25          0
//   1        ReLU            [2, 5]             0          0
//   2        Linear(5 -> 3)  [2, 3]            18         18
//   ========================================================
//   Total params: 43 (172 B)
//   Trainable params: 18
//   Frozen params: 25
//
// (Sequential(Linear(4, 5), ReLU(), Linear(5, 3)) with its first layer frozen, on a [2, 4] input.)
#pragma once

#include <vigil/nn/module.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::nn {

// One call of one module during the example forward pass.
struct SummaryRow {
  std::string path;     // dotted path in the model; "" for the model itself
  std::string type;     // Module::type_name()
  std::string details;  // Module::extra_repr(), e.g. "784 -> 512"; may be empty
  Shape output_shape;
  std::int64_t params = 0;     // elements of the module's own parameters (not its children's)
  std::int64_t trainable = 0;  // of those, elements of parameters that require a gradient
  // Floating-point operations of this module's own matrix product or convolution for the whole example input,
  // 2 per multiply-add, bias additions included (Linear, Conv1d, Conv2d, ConvTranspose2d; 0 for other modules,
  // whose elementwise work is small beside them, and for containers, whose children have their own rows).
  std::int64_t flops = 0;
  std::int64_t output_bytes = 0;  // the output's storage size
  bool leaf = false;              // the module has no children: its output is an activation the forward pass stores
};

struct Summary {
  // One row per module call, in the order the calls began: a module comes before the modules its forward
  // calls (nesting is read from the paths). A module called twice has two rows; one never called has none.
  std::vector<SummaryRow> rows;
  // Totals over the tree's distinct parameter tensors (a tensor shared by two paths counts once), whether or not
  // the forward pass used them: total = trainable + frozen, in elements; bytes = their storage size.
  std::int64_t total_params = 0;
  std::int64_t trainable_params = 0;
  std::int64_t frozen_params = 0;
  std::int64_t param_bytes = 0;
  // Over the rows: the FLOPs, and the bytes of the leaf modules' outputs (the activations a training step keeps
  // for backward, roughly). Both are for the example input as given: pass a batch of one for per-sample figures.
  std::int64_t flops = 0;
  std::int64_t activation_bytes = 0;

  // The table above: columns Layer (path; "(model)" for the model itself), Type (with details in parentheses),
  // Output shape, Params, Trainable; counts with thousands separators; then the totals.
  std::string str() const;
};

// Runs model(example_input) once under NoGradGuard in eval mode, with a forward hook on every module of the tree,
// and returns what it saw. Every module's mode and the hooks are restored afterwards, also when forward throws.
// Requires: every module's forward returns a defined tensor.
Summary summarize(Module& model, const Tensor& example_input);

}  // namespace vigil::nn
