// batch_norm against PyTorch goldens in both modes (output, gradients, and the running statistics after a
// training step, read from torch's BatchNorm buffers), gradcheck of both modes, and the errors.
#include "support/golden.hpp"
#include "tensor/expect_error.hpp"

namespace vigil::testing {
namespace {

TEST(BatchNormGolden, MatchesPyTorchIncludingRunningStatistics) {
  int checked = 0;
  for (const auto& c : load_golden("pool")) {
    if (c.params.at("op") != "batch_norm") continue;
    ++checked;
    const nlohmann::json& p = c.params;
    const Tensor running_mean = tensor_from_json(p.at("running_mean"));
    const Tensor running_var = tensor_from_json(p.at("running_var"));
    check_golden_case(c, [&](const std::vector<Tensor>& x, const nlohmann::json&) {
      const bool affine = p.at("affine").get<bool>();
      return batch_norm(x[0], running_mean, running_var, affine ? x[1] : Tensor(), affine ? x[2] : Tensor(),
                        p.at("training").get<bool>(), p.at("momentum").get<double>(), p.at("eps").get<double>());
    }, 1e-4, 1e-5);
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(tensors_close(running_mean, tensor_from_json(p.at("running_mean_after")), 1e-5, 1e-6));
    EXPECT_TRUE(tensors_close(running_var, tensor_from_json(p.at("running_var_after")), 1e-5, 1e-6));
  }
  EXPECT_EQ(checked, 8);
}

TEST(BatchNormGradcheck, BothModesPassInFloat64) {
  Generator gen(1);
  auto input = [&](Shape s) { return randn(s, gen, TensorOptions{DType::Float32, true}); };
  const Tensor rm = randn({3}, gen), rv = rand({3}, gen) + 0.5;
  for (bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "eval");
    EXPECT_TRUE(passes_gradcheck([&](const auto& x) { return batch_norm(x[0], rm, rv, x[1], x[2], training); },
                                 {input({4, 3, 3, 2}), input({3}), input({3})}));
    EXPECT_TRUE(passes_gradcheck([&](const auto& x) { return batch_norm(x[0], rm, rv, x[1], x[2], training); },
                                 {input({5, 3}), input({3}), input({3})}));
    EXPECT_TRUE(passes_gradcheck([&](const auto& x) { return batch_norm(x[0], rm, rv, Tensor(), Tensor(), training); },
                                 {input({3, 3, 4})}));
  }
  // Without running statistics, training mode uses the batch's only.
  EXPECT_TRUE(passes_gradcheck([](const auto& x) { return batch_norm(x[0], Tensor(), Tensor(), x[1], x[2], true); },
                               {input({4, 2, 5}), input({2}), input({2})}));
}

// batch_norm_relu is relu(batch_norm(.)) fused: the same values and gradients, bit for bit, in both modes.
TEST(BatchNormRelu, EqualsReluOfBatchNormExactly) {
  Generator gen(2);
  for (bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "eval");
    const Tensor x0 = randn({4, 3, 5, 5}, gen);
    const Tensor w0 = rand({3}, gen) + 0.5, b0 = randn({3}, gen), dy = randn({4, 3, 5, 5}, gen);
    auto run = [&](bool fused) {
      const Tensor x = raw::clone(x0).set_requires_grad(true), w = raw::clone(w0).set_requires_grad(true),
                   b = raw::clone(b0).set_requires_grad(true);
      const Tensor rm = zeros({3}), rv = ones({3});
      const Tensor y = fused ? batch_norm_relu(x, rm, rv, w, b, training) : relu(batch_norm(x, rm, rv, w, b, training));
      backward(y, dy);
      return std::vector<Tensor>{y.detach(), x.grad(), w.grad(), b.grad(), rm, rv};
    };
    const auto fused = run(true), plain = run(false);
    for (std::size_t i = 0; i < fused.size(); ++i) EXPECT_TRUE(tensors_close(fused[i], plain[i], 0, 0)) << i;
  }
}

TEST(BatchNormRelu, PassesGradcheck) {
  Generator gen(4);
  auto input = [&](Shape s) { return randn(s, gen, TensorOptions{DType::Float32, true}); };
  const Tensor rm = randn({3}, gen), rv = rand({3}, gen) + 0.5;
  for (bool training : {true, false}) {
    EXPECT_TRUE(passes_gradcheck([&](const auto& x) { return batch_norm_relu(x[0], rm, rv, x[1], x[2], training); },
                                 {input({4, 3, 3, 2}), input({3}), input({3})}));
  }
}

// batch_norm_relu_max_pool2x2 is max_pool2d(relu(batch_norm(.)), 2) fused: the same values and gradients, bit for
// bit, in both modes, with even and odd planes (an odd last row or column belongs to no window), ties among the
// zeros the ReLU makes, and float64.
TEST(BatchNormReluMaxPool, EqualsTheCompositionExactly) {
  Generator gen(5);
  for (const Shape& shape : {Shape{4, 3, 8, 8}, Shape{3, 2, 7, 9}, Shape{2, 5, 2, 3}, Shape{2, 3, 12, 28}}) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
      for (bool training : {true, false}) {
        SCOPED_TRACE(fmt::format("{} {} {}", shape.str(), dtype_name(dtype), training ? "training" : "eval"));
        const std::int64_t C = shape[1];
        const Tensor x0 = raw::to_dtype(randn(shape, gen), dtype);
        const Tensor w0 = raw::to_dtype(rand({C}, gen) + 0.5, dtype), b0 = raw::to_dtype(randn({C}, gen) - 0.5, dtype);
        const Shape pooled{shape[0], C, shape[2] / 2, shape[3] / 2};
        const Tensor dy = raw::to_dtype(randn(pooled, gen), dtype);
        auto run = [&](bool fused) {
          const Tensor x = raw::clone(x0).set_requires_grad(true), w = raw::clone(w0).set_requires_grad(true),
                       b = raw::clone(b0).set_requires_grad(true);
          const Tensor rm = zeros({C}), rv = ones({C});
          const Tensor y = fused ? batch_norm_relu_max_pool2x2(x, rm, rv, w, b, training)
                                 : max_pool2d(relu(batch_norm(x, rm, rv, w, b, training)), 2);
          backward(y, dy);
          return std::vector<Tensor>{y.detach(), x.grad(), w.grad(), b.grad(), rm, rv};
        };
        const auto fused = run(true), plain = run(false);
        for (std::size_t i = 0; i < fused.size(); ++i) EXPECT_TRUE(tensors_close(fused[i], plain[i], 0, 0)) << i;
      }
    }
  }
}

TEST(BatchNormReluMaxPool, PassesGradcheck) {
  Generator gen(6);
  auto input = [&](Shape s) { return randn(s, gen, TensorOptions{DType::Float32, true}); };
  const Tensor rm = randn({3}, gen), rv = rand({3}, gen) + 0.5;
  for (bool training : {true, false}) {
    EXPECT_TRUE(passes_gradcheck(
        [&](const auto& x) { return batch_norm_relu_max_pool2x2(x[0], rm, rv, x[1], x[2], training); },
        {input({3, 3, 4, 5}), input({3}), input({3})}));
  }
}

TEST(BatchNormReluMaxPool, RefusesPlanesSmallerThanTheWindow) {
  const Tensor rm = zeros({3}), rv = ones({3});
  EXPECT_TRUE(throws_with<ShapeError>(
      [&] { (void)batch_norm_relu_max_pool2x2(zeros({2, 3, 1, 4}), rm, rv, Tensor(), Tensor(), true); },
      {"batch_norm_relu_max_pool2x2", "[2, 3, 1, 4]"}));
  EXPECT_TRUE(throws_with<ShapeError>(
      [&] { (void)batch_norm_relu_max_pool2x2(zeros({2, 3, 4}), rm, rv, Tensor(), Tensor(), true); },
      {"batch_norm_relu_max_pool2x2", "[2, 3, 4]"}));
}

TEST(BatchNormErrors, NameTheOpAndTheShapes) {
  const Tensor rm = zeros({3}), rv = ones({3});
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)batch_norm(zeros({2, 4, 5}), rm, rv, Tensor(), Tensor(), true); },
                                      {"batch_norm", "running_mean", "[3]", "[2, 4, 5]"}));
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)batch_norm(zeros({4}), rm, rv, Tensor(), Tensor(), true); },
                                      {"batch_norm", "[4]"}));
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)batch_norm(zeros({1, 3}), rm, rv, Tensor(), Tensor(), true); },
                                      {"batch_norm", "more than 1 value per channel", "[1, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>([&] { (void)batch_norm(zeros({2, 3}), rm, rv, ones({2}), Tensor(), false); },
                                      {"batch_norm", "weight", "[2]", "[2, 3]"}));
  EXPECT_TRUE(throws_with<Error>([] { (void)batch_norm(zeros({2, 3}), Tensor(), Tensor(), Tensor(), Tensor(), false); },
                                 {"batch_norm", "evaluation"}));
  EXPECT_TRUE(throws_with<DTypeError>([&] {
    (void)batch_norm(zeros({2, 3}), rm, rv, ones({3}, {DType::Float64}), Tensor(), true);
  }, {"batch_norm", "weight", "float64"}));
}

}  // namespace
}  // namespace vigil::testing
