// Losses against PyTorch goldens (value and gradient for every loss and option combination), gradcheck of each
// loss, and the errors for wrong input.
#include "support/golden.hpp"
#include "tensor/expect_error.hpp"

#include <vigil/nn/loss.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace vigil::testing {
namespace {

nn::Reduction reduction_of(const std::string& name) {
  if (name == "mean") return nn::Reduction::Mean;
  if (name == "sum") return nn::Reduction::Sum;
  if (name == "none") return nn::Reduction::None;
  throw Error("unknown reduction " + name);
}

nn::KLDivReduction kl_reduction_of(const std::string& name) {
  if (name == "batchmean") return nn::KLDivReduction::BatchMean;
  if (name == "mean") return nn::KLDivReduction::Mean;
  if (name == "sum") return nn::KLDivReduction::Sum;
  if (name == "none") return nn::KLDivReduction::None;
  throw Error("unknown reduction " + name);
}

Tensor apply_loss(const std::vector<Tensor>& x, const nlohmann::json& p) {
  const std::string loss = p.at("loss");
  const std::string reduction = p.at("reduction");
  if (loss == "kl_div") return nn::kl_div(x[0], x[1], kl_reduction_of(reduction), p.value("log_target", false));
  const nn::Reduction r = reduction_of(reduction);
  if (loss == "cross_entropy" || loss == "nll_loss") {
    nn::CrossEntropyOptions options;
    if (x.size() > 2) options.weight = x[2];
    options.ignore_index = p.value("ignore_index", std::int64_t{-100});
    options.label_smoothing = p.value("label_smoothing", 0.0);
    options.reduction = r;
    return loss == "cross_entropy" ? nn::cross_entropy(x[0], x[1], options) : nn::nll_loss(x[0], x[1], options);
  }
  if (loss == "binary_cross_entropy") return nn::binary_cross_entropy(x[0], x[1], x.size() > 2 ? x[2] : Tensor(), r);
  if (loss == "binary_cross_entropy_with_logits") {
    const Tensor weight = p.value("weight", false) ? x[2] : Tensor();
    const Tensor pos_weight = p.value("pos_weight", false) ? x[3] : Tensor();
    return nn::binary_cross_entropy_with_logits(x[0], x[1], weight, pos_weight, r);
  }
  if (loss == "mse_loss") return nn::mse_loss(x[0], x[1], r);
  if (loss == "l1_loss") return nn::l1_loss(x[0], x[1], r);
  if (loss == "huber_loss") return nn::huber_loss(x[0], x[1], r, p.at("delta").get<double>());
  if (loss == "smooth_l1_loss") return nn::smooth_l1_loss(x[0], x[1], r, p.at("beta").get<double>());
  throw Error("unknown golden loss " + loss);
}

TEST(LossGolden, MatchesPyTorch) {
  const auto cases = load_golden("loss");
  ASSERT_GE(cases.size(), 90u);
  for (const auto& c : cases) check_golden_case(c, apply_loss, 1e-5, 1e-5);
}

nn::CrossEntropyOptions ce_options(const Tensor& weight, double label_smoothing,
                                   nn::Reduction reduction = nn::Reduction::Mean, std::int64_t ignore_index = -100) {
  nn::CrossEntropyOptions options;
  options.weight = weight;
  options.label_smoothing = label_smoothing;
  options.reduction = reduction;
  options.ignore_index = ignore_index;
  return options;
}

Tensor labels(std::vector<float> values) {
  return to_dtype(from_vector(values, Shape{static_cast<std::int64_t>(values.size())}), DType::Int64);
}

TEST(LossGradcheck, EveryLossPassesInFloat64) {
  Generator gen(3);
  auto input = [&](Shape s) { return randn(s, gen, TensorOptions{DType::Float32, true}); };
  auto probs = [&](Shape s) { return (rand(s, gen) * 0.8f + 0.1f).detach().set_requires_grad(true); };
  auto soft = [&](Shape s) { return softmax(randn(s, gen), 1).detach().set_requires_grad(true); };
  const Tensor y = labels({0, 3, 2, -100, 4});
  const Tensor weight = rand({5}, gen) + 0.5f;
  for (nn::Reduction r : {nn::Reduction::Mean, nn::Reduction::Sum, nn::Reduction::None}) {
    EXPECT_TRUE(passes_gradcheck(
        [r](const auto& x) {
          return nn::cross_entropy(x[0], x[1], ce_options(x[2], 0.1, r));
        },
        {input({5, 5}), y, weight}));
    EXPECT_TRUE(passes_gradcheck(
        [r](const auto& x) { return nn::cross_entropy(x[0], x[1], ce_options(Tensor(), 0.2, r)); },
        {input({5, 5}), soft({5, 5})}));
    EXPECT_TRUE(passes_gradcheck([r](const auto& x) { return nn::nll_loss(x[0], x[1], ce_options(Tensor(), 0.0, r)); },
                                 {input({5, 5}), y}));
    EXPECT_TRUE(passes_gradcheck([r](const auto& x) { return nn::binary_cross_entropy(x[0], x[1], x[2], r); },
                                 {probs({3, 4}), probs({3, 4}), rand({4}, gen)}));
    EXPECT_TRUE(passes_gradcheck(
        [r](const auto& x) { return nn::binary_cross_entropy_with_logits(x[0], x[1], x[2], x[3], r); },
        {input({3, 4}), probs({3, 4}), probs({3, 1}), probs({4})}));
    EXPECT_TRUE(passes_gradcheck([r](const auto& x) { return nn::mse_loss(x[0], x[1], r); },
                                 {input({3, 4}), input({3, 4})}));
    EXPECT_TRUE(passes_gradcheck([r](const auto& x) { return nn::l1_loss(x[0], x[1], r); },
                                 {input({3, 4}), input({3, 4})}));
    EXPECT_TRUE(passes_gradcheck([r](const auto& x) { return nn::huber_loss(x[0], x[1], r, 0.7); },
                                 {input({3, 4}), input({3, 4})}));
    EXPECT_TRUE(passes_gradcheck([r](const auto& x) { return nn::smooth_l1_loss(x[0], x[1], r, 0.6); },
                                 {input({3, 4}), input({3, 4})}));
  }
  EXPECT_TRUE(passes_gradcheck(
      [](const auto& x) { return nn::cross_entropy(x[0], x[1], ce_options(x[2], 0.1)); },
      {input({2, 5, 3}), to_dtype(from_vector(std::vector<float>{0, 1, 4, 2, -100, 3}, Shape{2, 3}), DType::Int64),
       weight}));
  for (nn::KLDivReduction r : {nn::KLDivReduction::Mean, nn::KLDivReduction::BatchMean, nn::KLDivReduction::Sum,
                               nn::KLDivReduction::None}) {
    EXPECT_TRUE(passes_gradcheck([r](const auto& x) { return nn::kl_div(log_softmax(x[0], 1), x[1], r); },
                                 {input({3, 4}), soft({3, 4})}));
    EXPECT_TRUE(passes_gradcheck([r](const auto& x) { return nn::kl_div(x[0], x[1], r, true); },
                                 {input({3, 4}), input({3, 4})}));
  }
}

TEST(LossValues, IgnoredTargetsAndZeroProbabilitiesGiveNoGradient) {
  const Tensor logits = zeros({3, 4}, TensorOptions{DType::Float32, true});
  backward(nn::cross_entropy(logits, labels({1, -100, 2})));
  const std::vector<float> g = logits.grad().to_vector();
  for (int c = 4; c < 8; ++c) EXPECT_EQ(g[c], 0.0f);
  EXPECT_NEAR(g[1], -0.75f / 2, 1e-6);  // (softmax - onehot) / 2 counted targets

  const Tensor log_input = full({2}, -1.0f, TensorOptions{DType::Float32, true});
  const Tensor target = from_vector(std::vector<float>{0.0f, 1.0f}, Shape{2});
  const Tensor loss = nn::kl_div(log_input, target, nn::KLDivReduction::Sum);
  EXPECT_FLOAT_EQ(loss.item(), 1.0f);
  backward(loss);
  EXPECT_EQ(log_input.grad().to_vector(), (std::vector<float>{0.0f, -1.0f}));
}

TEST(LossValues, BceWithLogitsIsFiniteForHugeLogits) {
  const Tensor x = from_vector(std::vector<float>{-1e4f, 1e4f}, Shape{2});
  const Tensor t = from_vector(std::vector<float>{1.0f, 0.0f}, Shape{2});
  const std::vector<float> loss = nn::binary_cross_entropy_with_logits(x, t, {}, {}, nn::Reduction::None).to_vector();
  EXPECT_FLOAT_EQ(loss[0], 1e4f);
  EXPECT_FLOAT_EQ(loss[1], 1e4f);
  // BCE on probabilities clamps log at -100 as PyTorch does.
  EXPECT_FLOAT_EQ(nn::binary_cross_entropy(zeros({1}), ones({1})).item(), 100.0f);
}

TEST(LossErrors, LabelOutsideClassesNamesLossLabelAndIndex) {
  EXPECT_TRUE(throws_with<IndexError>([] { (void)nn::cross_entropy(zeros({3, 5}), labels({0, 5, 1})); },
                                      {"cross_entropy", "label 5", "index 1", "[0, 5)", "[3, 5]"}));
  EXPECT_TRUE(throws_with<IndexError>([] { (void)nn::nll_loss(zeros({3, 5}), labels({0, 1, -1})); },
                                      {"nll_loss", "label -1", "index 2"}));
  // -100 is only ignored while it is the ignore_index.
  EXPECT_TRUE(throws_with<IndexError>(
      [] { (void)nn::cross_entropy(zeros({2, 5}), labels({-100, 1}), ce_options(Tensor(), 0.0, nn::Reduction::Mean, 3)); },
      {"cross_entropy", "label -100", "index 0"}));
}

TEST(LossErrors, WrongShapesNameLossAndBothShapes) {
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)nn::cross_entropy(zeros({3, 5}), labels({0, 1})); },
                                      {"cross_entropy", "[2]", "[3, 5]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)nn::cross_entropy(zeros({3, 5}), zeros({3, 4})); },
                                      {"cross_entropy", "[3, 4]", "[3, 5]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)nn::cross_entropy(zeros({5}), labels({1})); },
                                      {"cross_entropy", "[5]"}));
  EXPECT_TRUE(throws_with<ShapeError>(
      [] { (void)nn::cross_entropy(zeros({3, 5}), labels({0, 1, 2}), ce_options(ones({4}), 0.0)); },
      {"cross_entropy", "weight", "[4]", "[3, 5]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)nn::nll_loss(zeros({2, 5, 3}), labels({0, 1})); },
                                      {"nll_loss", "[2]", "[2, 5, 3]", "[2, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)nn::binary_cross_entropy(zeros({4}), zeros({4, 1})); },
                                      {"binary_cross_entropy", "[4, 1]", "[4]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)nn::binary_cross_entropy_with_logits(zeros({2, 3}), zeros({3})); },
                                      {"binary_cross_entropy_with_logits", "[3]", "[2, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>(
      [] { (void)nn::binary_cross_entropy_with_logits(zeros({2, 3}), zeros({2, 3}), {}, ones({4})); },
      {"binary_cross_entropy_with_logits", "[4]", "[2, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>(
      [] { (void)nn::binary_cross_entropy(zeros({2, 3}), zeros({2, 3}), ones({3, 2, 3})); },
      {"binary_cross_entropy", "weight", "[3, 2, 3]", "[2, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)nn::mse_loss(zeros({2, 3}), zeros({3, 2})); },
                                      {"mse_loss", "[3, 2]", "[2, 3]"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)nn::l1_loss(zeros({2}), zeros({3})); }, {"l1_loss"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)nn::huber_loss(zeros({2}), zeros({3})); }, {"huber_loss"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)nn::smooth_l1_loss(zeros({2}), zeros({3})); }, {"smooth_l1_loss"}));
  EXPECT_TRUE(throws_with<ShapeError>([] { (void)nn::kl_div(zeros({2}), zeros({3})); }, {"kl_div", "[3]", "[2]"}));
}

TEST(LossErrors, BadOptionsAndDTypes) {
  EXPECT_TRUE(throws_with<DTypeError>(
      [] { (void)nn::nll_loss(zeros({2, 3}), zeros({2, 3})); }, {"nll_loss", "int64"}));
  EXPECT_TRUE(throws_with<DTypeError>(
      [] { (void)nn::cross_entropy(zeros({2, 3}), zeros({2, 3}, TensorOptions{DType::Float64})); },
      {"cross_entropy", "float64", "float32"}));
  EXPECT_TRUE(throws_with<Error>(
      [] { (void)nn::cross_entropy(zeros({2, 3}), labels({0, 1}), ce_options(Tensor(), 1.5)); },
      {"cross_entropy", "label_smoothing"}));
  EXPECT_TRUE(throws_with<Error>(
      [] { (void)nn::binary_cross_entropy(from_vector(std::vector<float>{0.5f, 1.5f}, Shape{2}), ones({2})); },
      {"binary_cross_entropy", "1.5", "index 1", "[0, 1]"}));
  EXPECT_TRUE(throws_with<Error>([] { (void)nn::huber_loss(zeros({2}), zeros({2}), nn::Reduction::Mean, 0.0); },
                                 {"huber_loss", "delta"}));
}

}  // namespace
}  // namespace vigil::testing
