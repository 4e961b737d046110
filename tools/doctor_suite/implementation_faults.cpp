// Implementation faults: bugs in the user's own code (a custom layer, a reshape, a training loop) that raise no
// error and let training run.
#include "suite.hpp"

#include <vigil/autograd/function.hpp>
#include <vigil/kernels/elementwise.hpp>

#include <cmath>

namespace vigil::doctor_suite {

namespace {

// Swish, y = x sigmoid(x), written by hand with a backward that forgets the product rule's second term:
// dy/dx = s + x s (1 - s), but this returns s alone.
Tensor wrong_swish(const Tensor& x) {
  const Tensor s = kernels::map_unary(x, [](auto v) { return decltype(v)(1) / (decltype(v)(1) + std::exp(-v)); }, "swish");
  Tensor out = kernels::map_binary(x, s, [](auto a, auto b) { return a * b; }, "swish");
  record<1>("swish", out, {&x}, [s = saved(s)](const Tensor& g, GradInputs& dx) {
    dx[0] = kernels::map_binary(g, s, [](auto gv, auto sv) { return gv * sv; }, "swish backward");
  });
  return out;
}

class HandWrittenSwish : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override { return wrong_swish(x); }
  std::string type_name() const override { return "HandWrittenSwish"; }
};

// Meant to flatten [N, C, H, W] to [N, C*H*W], written as "channels first, then reshape": the transpose puts
// channels in front, so each output row holds pieces of several samples.
class ChannelsFirstFlatten : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override {
    const std::int64_t n = x.size(0);
    return reshape(contiguous(transpose(x, 0, 1)), Shape{n, x.numel() / n});
  }
  std::string type_name() const override { return "ChannelsFirstFlatten"; }
};

// A log-compression layer for count features, y = log(x), placed after a Linear whose outputs are half negative:
// NaN from the first forward pass on.
class LogCompress : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override { return log(x); }
  std::string type_name() const override { return "LogCompress"; }
};

// The user's own loop: optionally without zero_grad, optionally never switching the model to training mode
// (it was put in eval mode for a baseline evaluation first).
train::History hand_loop(Built& b, const LoopHooks& hooks, bool zero_grad) {
  train::History history;
  std::int64_t step = 0;
  for (std::int64_t epoch = 0; epoch < b.epochs; ++epoch) {
    double sum = 0, count = 0;
    for (const data::Batch& batch : b.train->epoch(epoch)) {
      if (zero_grad) b.optimizer->zero_grad();
      const Tensor loss = b.loss((*b.model)(batch.inputs), batch.targets);
      backward(loss);
      if (hooks.after_backward) hooks.after_backward(step);
      b.optimizer->step();
      const double value = loss.item();
      if (hooks.after_step) hooks.after_step(step, value);
      ++step;
      sum += value * static_cast<double>(batch.size());
      count += static_cast<double>(batch.size());
    }
    train::Logs logs{{"epoch", static_cast<double>(epoch)}, {"loss", sum / count}};
    if (b.validation) logs["val_loss"] = train::evaluate(*b.model, b.loss, *b.validation).at("loss");
    history.epochs.push_back(logs);
  }
  return history;
}

Built fashion_with(std::shared_ptr<nn::Module> model, std::uint64_t seed) {
  return classifier(std::move(model), fashion_train(1024), fashion_validation(), 1e-3, seed);
}

Case wrong_backward() {
  return {"impl_wrong_backward", Category::implementation,
          "a hand-written Swish layer whose backward drops a term of the product rule",
          {"probe.gradcheck"}, true, [](std::uint64_t seed) {
            Generator gen(seed);
            auto model = std::make_shared<nn::Sequential>();
            model->push_back(std::make_shared<nn::Flatten>());
            model->push_back(std::make_shared<nn::Linear>(784, 128, gen));
            model->push_back(std::make_shared<HandWrittenSwish>());
            model->push_back(std::make_shared<nn::Linear>(128, 10, gen));
            return fashion_with(model, seed);
          }};
}

Case batch_mixing() {
  return {"impl_batch_mixing", Category::implementation,
          "a CNN's flatten written as transpose(0, 1) then reshape: every row mixes features of several samples",
          {"probe.batch_independence"}, true, [](std::uint64_t seed) {
            Generator gen(seed);
            auto model = std::make_shared<nn::Sequential>();
            model->push_back(std::make_shared<nn::Conv2d>(1, 4, Size2{3, 3}, gen, Conv2dOptions{.padding = 1}));
            model->push_back(std::make_shared<nn::ReLU>());
            model->push_back(std::make_shared<nn::MaxPool2d>(Size2{2, 2}));
            model->push_back(std::make_shared<ChannelsFirstFlatten>());
            model->push_back(std::make_shared<nn::Linear>(4 * 14 * 14, 10, gen));
            return fashion_with(model, seed);
          }};
}

Case nan_layer() {
  return {"impl_nan_layer", Category::implementation,
          "a custom log-compression layer applied to pre-activations, half of which are negative: NaN outputs",
          {"train.non_finite_loss", "probe.loss_at_init"}, false,
          [](std::uint64_t seed) {
            Generator gen(seed);
            auto model = std::make_shared<nn::Sequential>();
            model->push_back(std::make_shared<nn::Flatten>());
            model->push_back(std::make_shared<nn::Linear>(784, 128, gen));
            model->push_back(std::make_shared<LogCompress>());
            model->push_back(std::make_shared<nn::Linear>(128, 10, gen));
            return fashion_with(model, seed);
          }};
}

Case eval_mode_training() {
  return {"impl_eval_mode_training", Category::implementation,
          "a hand-written loop evaluates a baseline first (model.eval()) and never calls model.train(): batch norm "
          "uses its initial running statistics and dropout is off for the whole run",
          {"train.wrong_mode"}, false, [](std::uint64_t seed) {
            Generator gen(seed);
            auto model = std::make_shared<nn::Sequential>();
            model->push_back(std::make_shared<nn::Flatten>());
            model->push_back(std::make_shared<nn::Linear>(784, 256, gen));
            model->push_back(std::make_shared<nn::BatchNorm1d>(256));
            model->push_back(std::make_shared<nn::ReLU>());
            model->push_back(std::make_shared<nn::Dropout>(0.5, gen));
            model->push_back(std::make_shared<nn::Linear>(256, 10, gen));
            Built b = fashion_with(model, seed);
            b.loop = [](Built& built, const LoopHooks& hooks) {
              built.model->eval();
              train::evaluate(*built.model, built.loss, *built.validation);
              return hand_loop(built, hooks, true);
            };
            return b;
          }};
}

Case gradients_not_zeroed() {
  return {"impl_gradients_not_zeroed", Category::implementation,
          "a hand-written loop never calls zero_grad(): every step applies the sum of all past gradients",
          {"train.gradients_not_zeroed"}, false,
          [](std::uint64_t seed) {
            Generator gen(seed);
            Built b = fashion_with(mlp({784, 128, 10}, gen, true), seed);
            b.loop = [](Built& built, const LoopHooks& hooks) { return hand_loop(built, hooks, false); };
            return b;
          }};
}

}  // namespace

std::vector<Case> implementation_cases() {
  return {wrong_backward(), batch_mixing(), nan_layer(), eval_mode_training(), gradients_not_zeroed()};
}

}  // namespace vigil::doctor_suite
