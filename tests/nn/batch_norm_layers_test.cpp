// BatchNorm1d / BatchNorm2d: the layers against PyTorch goldens (with the running statistics after the step),
// parameters and buffers under torch's names, the mode switch, num_batches_tracked, the errors, and
// fold_batch_norm checked numerically after a Linear and after a 1x1 convolution.
#include "support/golden.hpp"
#include "tensor/expect_error.hpp"

#include <vigil/nn/nn.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace vigil::testing {
namespace {

std::unique_ptr<nn::BatchNorm> make_layer(int rank, std::int64_t c, double eps, double momentum, bool affine) {
  if (rank == 4) return std::make_unique<nn::BatchNorm2d>(c, eps, momentum, affine);
  return std::make_unique<nn::BatchNorm1d>(c, eps, momentum, affine);
}

TEST(BatchNormLayers, MatchPyTorchIncludingRunningStatistics) {
  int checked = 0;
  for (const auto& c : load_golden("pool")) {
    if (c.params.at("op") != "batch_norm") continue;
    ++checked;
    SCOPED_TRACE(c.name);
    const nlohmann::json& p = c.params;
    const bool affine = p.at("affine").get<bool>();
    const Tensor& x = c.inputs[0];
    auto layer = make_layer(x.dim(), x.shape()[1], p.at("eps"), p.at("momentum"), affine);
    raw::copy_(layer->running_mean(), tensor_from_json(p.at("running_mean")));
    raw::copy_(layer->running_var(), tensor_from_json(p.at("running_var")));
    if (affine) {
      raw::copy_(layer->weight(), c.inputs[1]);
      raw::copy_(layer->bias(), c.inputs[2]);
    }
    layer->train(p.at("training").get<bool>());
    const Tensor xin = x.detach().set_requires_grad(true);
    const Tensor y = (*layer)(xin);
    EXPECT_TRUE(tensors_close(y, c.output, 1e-4, 1e-5));
    backward(y, c.grad_output);
    EXPECT_TRUE(tensors_close(xin.grad(), c.grads[0], 1e-4, 1e-5));
    if (affine) {
      EXPECT_TRUE(tensors_close(layer->weight().grad(), c.grads[1], 1e-4, 1e-5));
      EXPECT_TRUE(tensors_close(layer->bias().grad(), c.grads[2], 1e-4, 1e-5));
    }
    EXPECT_TRUE(tensors_close(layer->running_mean(), tensor_from_json(p.at("running_mean_after")), 1e-5, 1e-6));
    EXPECT_TRUE(tensors_close(layer->running_var(), tensor_from_json(p.at("running_var_after")), 1e-5, 1e-6));
    EXPECT_EQ(layer->num_batches_tracked(), layer->training() ? 1 : 0);
  }
  EXPECT_EQ(checked, 8);
}

TEST(BatchNormLayers, HaveTorchsParametersAndBuffers) {
  nn::BatchNorm2d bn(4);
  std::vector<std::string> params, buffers;
  for (const auto& [path, t] : bn.named_parameters()) params.push_back(path);
  for (const auto& [path, t] : bn.named_persistent_buffers()) buffers.push_back(path);
  EXPECT_EQ(params, (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(buffers, (std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"}));
  EXPECT_EQ(bn.running_mean().to_vector(), std::vector<float>(4, 0.0f));
  EXPECT_EQ(bn.running_var().to_vector(), std::vector<float>(4, 1.0f));
  EXPECT_EQ(bn.type_name(), "BatchNorm2d");
  EXPECT_EQ(bn.extra_repr(), "4, eps=1e-05, momentum=0.1");
  EXPECT_EQ(nn::BatchNorm1d(3, 1e-3, 0.2, false).extra_repr(), "3, eps=0.001, momentum=0.2, affine=false");
  EXPECT_TRUE(nn::BatchNorm1d(3, 1e-5, 0.1, false).parameters().empty());
}

TEST(BatchNormLayers, TrainingUpdatesTheBuffersAndEvalUsesThem) {
  Generator gen(1);
  nn::BatchNorm1d bn(3);
  const Tensor x = randn({16, 3, 5}, gen) * 3.0 + 2.0;
  (void)bn(x);
  (void)bn(x);
  EXPECT_EQ(bn.num_batches_tracked(), 2);
  // After two identical steps from (0, 1): running = 0.19 * batch (+ 0.81 * 1 for the variance).
  const Tensor batch_mean = mean(x, {0, 2});
  const Tensor batch_var = var(x, {0, 2});  // unbiased
  EXPECT_TRUE(tensors_close(bn.running_mean(), batch_mean * 0.19, 1e-5, 1e-6));
  EXPECT_TRUE(tensors_close(bn.running_var(), batch_var * 0.19 + 0.81, 1e-5, 1e-6));
  bn.eval();
  const Tensor before = raw::clone(bn.running_mean());
  const Tensor y = bn(x);
  EXPECT_EQ(bn.num_batches_tracked(), 2);
  EXPECT_TRUE(tensors_close(bn.running_mean(), before, 0, 0));
  EXPECT_TRUE(tensors_close(y, batch_norm(x, bn.running_mean(), bn.running_var(), bn.weight(), bn.bias(), false), 0, 0));
}

TEST(BatchNormLayers, ErrorsNameTheLayerAndTheShapes) {
  nn::BatchNorm2d bn2(3);
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)bn2(zeros({2, 4, 5, 5})); },
                                      {"BatchNorm2d", "[2, 4, 5, 5]", "running statistics", "3"}));
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)bn2(zeros({2, 3, 5})); }, {"BatchNorm2d", "rank 4", "[2, 3, 5]"}));
  nn::BatchNorm1d bn1(3);
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)bn1(zeros({2, 3, 4, 4})); }, {"BatchNorm1d", "2 or 3"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { nn::BatchNorm1d(0); }, {"BatchNorm1d", "num_features"}));
}

// A trained-looking BN (non-trivial statistics and affine parameters) in eval mode.
void randomise(nn::BatchNorm& bn, Generator& gen) {
  const std::int64_t c = bn.num_features();
  raw::copy_(bn.running_mean(), randn({c}, gen));
  raw::copy_(bn.running_var(), rand({c}, gen) + 0.5);
  raw::copy_(bn.weight(), rand({c}, gen) + 0.5);
  raw::copy_(bn.bias(), randn({c}, gen));
  bn.eval();
}

// Sequential runs BatchNorm -> ReLU as one fused op unless a hook watches either layer: both paths give the same
// output, gradients and running statistics, and a hook on the batch norm sees its own (signed) output.
TEST(BatchNormLayers, SequentialFusesBatchNormReluOnlyWithoutHooks) {
  Generator gen(5);
  const Tensor x0 = randn({6, 3, 4, 4}, gen), dy = randn({6, 3, 4, 4}, gen);
  auto run = [&](bool hook) {
    nn::Sequential model({std::make_shared<nn::BatchNorm2d>(3), std::make_shared<nn::ReLU>()});
    double smallest_seen = 0;
    if (hook) {
      model[0].register_forward_hook([&](const nn::Module&, const Tensor&, const Tensor& y) {
        smallest_seen = raw::contiguous(y).data<float>()[0];
        for (std::int64_t i = 0; i < y.numel(); ++i) smallest_seen = std::min<double>(smallest_seen, y.data<float>()[i]);
      });
    }
    const Tensor x = raw::clone(x0).set_requires_grad(true);
    const Tensor y = model(x);
    backward(y, dy);
    const auto params = model.named_parameters();
    const auto buffers = model.named_buffers();
    return std::make_pair(std::vector<Tensor>{y.detach(), x.grad(), params[0].second.grad(), params[1].second.grad(),
                                              buffers[0].second, buffers[1].second},
                          smallest_seen);
  };
  const auto [fused, unused] = run(false);
  const auto [plain, smallest] = run(true);
  EXPECT_LT(smallest, 0.0);  // the hook saw the batch norm's output, before the ReLU
  for (std::size_t i = 0; i < fused.size(); ++i) EXPECT_TRUE(tensors_close(fused[i], plain[i], 0, 0)) << i;
}

// BatchNorm2d -> ReLU -> MaxPool2d(2) runs as one fused op unless a hook watches one of the three: both paths give
// the same output, gradients and running statistics in both modes, on even and odd planes; a hook on the ReLU sees
// its full-size output; other windows do not fuse the pooling.
TEST(BatchNormLayers, SequentialFusesBatchNormReluMaxPoolOnlyWithoutHooks) {
  Generator gen(6);
  for (const Shape& shape : {Shape{5, 3, 8, 6}, Shape{4, 3, 7, 9}}) {
    for (bool training : {true, false}) {
      SCOPED_TRACE(fmt::format("{} {}", shape.str(), training ? "training" : "eval"));
      const Tensor x0 = randn(shape, gen);
      const Tensor dy = randn({shape[0], 3, shape[2] / 2, shape[3] / 2}, gen);
      auto run = [&](bool hook) {
        auto bn = std::make_shared<nn::BatchNorm2d>(3);
        randomise(*bn, gen);
        if (training) bn->train();
        nn::Sequential model({bn, std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(Size2{2, 2})});
        Shape seen;
        if (hook) {
          model[1].register_forward_hook([&](const nn::Module&, const Tensor&, const Tensor& y) { seen = y.shape(); });
        }
        const Tensor x = raw::clone(x0).set_requires_grad(true);
        const Tensor y = model(x);
        const std::string op = y.grad_fn()->name();
        backward(y, dy);
        const auto params = model.named_parameters();
        const auto buffers = model.named_buffers();
        return std::make_tuple(std::vector<Tensor>{y.detach(), x.grad(), params[0].second.grad(),
                                                   params[1].second.grad(), buffers[0].second, buffers[1].second},
                               seen, op);
      };
      Generator replay = gen;
      const auto [fused, unused, fused_op] = run(false);
      gen = replay;  // the same random batch norm state for both runs
      const auto [plain, seen, plain_op] = run(true);
      EXPECT_EQ(fused_op, "batch_norm_relu_max_pool2x2");
      EXPECT_EQ(plain_op, "max_pool2d");
      EXPECT_EQ(seen, shape);  // the hook saw the ReLU's own, full-size output
      for (std::size_t i = 0; i < fused.size(); ++i) EXPECT_TRUE(tensors_close(fused[i], plain[i], 0, 0)) << i;
    }
  }
  nn::Sequential three_by_three({std::make_shared<nn::BatchNorm2d>(3), std::make_shared<nn::ReLU>(),
                                 std::make_shared<nn::MaxPool2d>(Size2{3, 3})});
  EXPECT_STREQ(three_by_three(randn({2, 3, 6, 6}, gen).set_requires_grad(true)).grad_fn()->name(), "max_pool2d");
}

TEST(FoldBatchNorm, LinearThenBatchNormEqualsTheFoldedLinear) {
  Generator gen(2);
  nn::Linear fc(6, 4, gen);
  nn::BatchNorm1d bn(4);
  randomise(bn, gen);
  const Tensor x = randn({5, 6}, gen);
  const nn::FoldedParameters f = nn::fold_batch_norm(fc.weight(), fc.bias(), bn);
  EXPECT_FALSE(f.weight.requires_grad());
  EXPECT_TRUE(tensors_close(nn::linear(x, f.weight, f.bias), bn(fc(x)), 1e-5, 1e-5));
  // Without a bias the folded bias is -mean s + beta.
  const nn::FoldedParameters g = nn::fold_batch_norm(fc.weight(), Tensor(), bn);
  EXPECT_TRUE(tensors_close(nn::linear(x, g.weight, g.bias), bn(nn::linear(x, fc.weight(), Tensor())), 1e-5, 1e-5));
}

// A 1x1 convolution is a Linear over the channels of every pixel: [N, I, H, W] -> [N, O, H, W].
Tensor conv1x1(const Tensor& x, const Tensor& w, const Tensor& b) {
  const Tensor w2 = reshape(w, Shape{w.shape()[0], w.shape()[1]});
  return permute(nn::linear(permute(x, {0, 2, 3, 1}), w2, b), {0, 3, 1, 2});
}

TEST(FoldBatchNorm, ConvolutionThenBatchNormEqualsTheFoldedConvolution) {
  Generator gen(3);
  const Tensor w = randn({5, 3, 1, 1}, gen), b = randn({5}, gen);
  nn::BatchNorm2d bn(5);
  randomise(bn, gen);
  const Tensor x = randn({2, 3, 4, 6}, gen);
  const nn::FoldedParameters f = nn::fold_batch_norm(w, b, bn);
  EXPECT_EQ(f.weight.shape(), w.shape());
  EXPECT_TRUE(tensors_close(conv1x1(x, f.weight, f.bias), bn(conv1x1(x, w, b)), 1e-5, 1e-5));
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)nn::fold_batch_norm(randn({4, 3}, gen), Tensor(), bn); },
                                      {"fold_batch_norm", "[4, 3]", "5"}));
}

}  // namespace
}  // namespace vigil::testing
