// The module tree beyond parameters: buffers, named_modules/apply, path globs, freezing, type names and summaries.
#include "support/golden.hpp"

#include <vigil/nn/nn.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vigil::testing {
namespace {

using Strings = std::vector<std::string>;

// Keeps the mean of its last batch (a persistent buffer) and a call counter (a non-persistent int64 buffer),
// and scales by a parameter: the shape of a BatchNorm's state.
class Tracker : public nn::Module {
 public:
  Tracker() {
    gain_ = register_parameter("gain", ones({2}));
    running_mean_ = register_buffer("running_mean", zeros({2}));
    calls_ = register_buffer("calls", zeros({}, TensorOptions{DType::Int64}), false);
  }
  Tensor forward(const Tensor& x) override {
    const std::vector<std::int64_t> batch{0};
    raw::copy_(running_mean_, mean(x.detach(), batch));
    raw::copy_(calls_, full({}, calls_.item() + 1.0f, TensorOptions{DType::Int64}));
    return x * gain_;
  }
  Tensor gain_, running_mean_, calls_;
};

// stem = Tracker, body = Sequential(Linear(2, 3), ReLU, Linear(3, 2)), head = Tracker.
class Net : public nn::Module {
 public:
  explicit Net(Generator& gen) {
    scale_ = register_parameter("scale", ones({1}));
    stem_ = register_module("stem", std::make_shared<Tracker>());
    body_ = register_module("body", std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
                                        std::make_shared<nn::Linear>(2, 3, gen), std::make_shared<nn::ReLU>(),
                                        std::make_shared<nn::Linear>(3, 2, gen)}));
    head_ = register_module("head", std::make_shared<Tracker>());
  }
  Tensor forward(const Tensor& x) override { return (*head_)((*body_)((*stem_)(x))) * scale_; }

  Tensor scale_;
  std::shared_ptr<Tracker> stem_, head_;
  std::shared_ptr<nn::Sequential> body_;
};

template <class Named>
Strings paths_of(const Named& named) {
  Strings out;
  for (const auto& [path, value] : named) out.push_back(path);
  return out;
}

// The message of the Error `f` throws (fails the test when it throws none).
std::string error_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an Error";
  return {};
}

TEST(Buffers, PathsFollowTheParameterOrder) {
  Generator gen(0);
  Net net(gen);
  EXPECT_EQ(paths_of(net.named_buffers()),
            (Strings{"stem.running_mean", "stem.calls", "head.running_mean", "head.calls"}));
  EXPECT_EQ(paths_of(net.named_persistent_buffers()), (Strings{"stem.running_mean", "head.running_mean"}));
  EXPECT_EQ(paths_of(net.named_parameters()), (Strings{"scale", "stem.gain", "body.0.weight", "body.0.bias",
                                                       "body.2.weight", "body.2.bias", "head.gain"}));
  const auto named = net.named_buffers();
  const auto buffers = net.buffers();
  ASSERT_EQ(buffers.size(), named.size());
  for (std::size_t i = 0; i < buffers.size(); ++i) {
    EXPECT_EQ(buffers[i].impl_ptr(), named[i].second.impl_ptr());  // handles, not copies
    EXPECT_FALSE(buffers[i].requires_grad());
  }
  EXPECT_EQ(named[0].second.impl_ptr(), net.stem_->running_mean_.impl_ptr());
  EXPECT_EQ(named[1].second.dtype(), DType::Int64);
}

TEST(Buffers, UpdatedInPlaceAndUntouchedByTraining) {
  Generator gen(1);
  Net net(gen);
  const Tensor x = from_vector(std::vector<float>{1, -2}, {1, 2});
  backward(sum(net(x)));
  backward(sum(net(x)));
  EXPECT_EQ(net.stem_->running_mean_.to_vector(), (std::vector<float>{1, -2}));
  EXPECT_EQ(net.named_buffers()[1].second.item(), 2.0f);  // the handle in the tree saw both calls
  for (const Tensor& b : net.buffers()) EXPECT_FALSE(b.grad().defined());
  net.zero_grad();
  EXPECT_EQ(net.stem_->calls_.item(), 2.0f);
}

TEST(Buffers, RegistrationRules) {
  Tracker m;
  // One namespace for parameters, buffers and children; the message says what holds the name.
  EXPECT_NE(error_message([&] { (void)m.register_buffer("gain", zeros({1})); }).find("already taken by a parameter"),
            std::string::npos);
  EXPECT_NE(error_message([&] { (void)m.register_parameter("running_mean", zeros({1})); }).find("by a buffer"),
            std::string::npos);
  EXPECT_NE(error_message([&] { (void)m.register_module("calls", std::make_shared<nn::ReLU>()); }).find("by a buffer"),
            std::string::npos);
  (void)m.register_module("child", std::make_shared<nn::ReLU>());
  EXPECT_NE(error_message([&] { (void)m.register_buffer("child", zeros({1})); }).find("by a child module"),
            std::string::npos);
  EXPECT_THROW((void)m.register_buffer("a.b", zeros({1})), Error);
  EXPECT_THROW((void)m.register_buffer("", zeros({1})), Error);
  EXPECT_THROW((void)m.register_buffer("undefined", Tensor()), Error);
  const std::string msg =
      error_message([&] { (void)m.register_buffer("trained", zeros({1}, TensorOptions{DType::Float32, true})); });
  EXPECT_NE(msg.find("\"trained\" requires a gradient"), std::string::npos) << msg;
  EXPECT_THROW((void)m.register_buffer("made", zeros({1}, TensorOptions{DType::Float32, true}) * 2.0), Error);
  // Any dtype; a detached copy of a trained tensor is fine.
  const Tensor flags = m.register_buffer("flags", zeros({3}, TensorOptions{DType::Int64}));
  EXPECT_EQ(flags.dtype(), DType::Int64);
  const Tensor snapshot = (m.gain_ * 2.0).detach();
  EXPECT_EQ(m.register_buffer("snapshot", snapshot).impl_ptr(), snapshot.impl_ptr());
  EXPECT_EQ(paths_of(m.named_buffers()), (Strings{"running_mean", "calls", "flags", "snapshot"}));
}

TEST(NamedModules, RootFirstThenDepthFirst) {
  Generator gen(2);
  Net net(gen);
  const auto modules = net.named_modules();
  EXPECT_EQ(paths_of(modules), (Strings{"", "stem", "body", "body.0", "body.1", "body.2", "head"}));
  EXPECT_EQ(modules[0].second, &net);
  EXPECT_EQ(modules[1].second, net.stem_.get());
  EXPECT_EQ(modules[4].second, &(*net.body_)[1]);
  const nn::Module& view = net;
  const auto const_modules = view.named_modules();
  ASSERT_EQ(const_modules.size(), modules.size());
  for (std::size_t i = 0; i < modules.size(); ++i) EXPECT_EQ(const_modules[i].second, modules[i].second);
  // A leaf module lists only itself.
  nn::ReLU relu;
  EXPECT_EQ(paths_of(relu.named_modules()), (Strings{""}));
}

TEST(Apply, VisitsChildrenBeforeTheirParent) {
  Generator gen(3);
  Net net(gen);
  std::vector<nn::Module*> visited;
  net.apply([&](nn::Module& m) { visited.push_back(&m); });
  nn::Sequential& body = *net.body_;
  EXPECT_EQ(visited, (std::vector<nn::Module*>{net.stem_.get(), &body[0], &body[1], &body[2], &body, net.head_.get(),
                                                &net}));
  // The use it is for: re-initialising every layer of a kind.
  net.apply([](nn::Module& m) {
    if (auto* linear = dynamic_cast<nn::Linear*>(&m)) raw::copy_(linear->weight(), zeros(linear->weight().shape()));
  });
  for (float v : dynamic_cast<nn::Linear&>(body[2]).weight().to_vector()) EXPECT_EQ(v, 0.0f);
}

TEST(PathMatches, Grammar) {
  // Exact paths.
  EXPECT_TRUE(nn::path_matches("0.weight", "0.weight"));
  EXPECT_FALSE(nn::path_matches("0.weight", "10.weight"));
  EXPECT_FALSE(nn::path_matches("0.weigh", "0.weight"));  // no partial segments
  EXPECT_FALSE(nn::path_matches("weight", "0.weight"));   // anchored at the start
  // '*' spans any characters, dots included.
  EXPECT_TRUE(nn::path_matches("*.bias", "0.bias"));
  EXPECT_TRUE(nn::path_matches("*.bias", "encoder.fc.bias"));
  EXPECT_FALSE(nn::path_matches("*.bias", "bias"));
  EXPECT_FALSE(nn::path_matches("*.bias", "0.bias_scale"));
  EXPECT_TRUE(nn::path_matches("features.*", "features.0.weight"));
  EXPECT_FALSE(nn::path_matches("features.*", "features_extra.weight"));
  EXPECT_TRUE(nn::path_matches("encoder.**", "encoder.block.1.fc.weight"));
  EXPECT_TRUE(nn::path_matches("*", "scale"));
  EXPECT_TRUE(nn::path_matches("enc*.fc*.w*", "encoder.fc2.weight"));
  EXPECT_TRUE(nn::path_matches("*a*a*a", "banana.a"));  // backtracking past earlier candidates
  EXPECT_FALSE(nn::path_matches("*a*b", "aaaa.aaaa"));
  // A module's path matches everything below it.
  EXPECT_TRUE(nn::path_matches("encoder", "encoder.0.weight"));
  EXPECT_TRUE(nn::path_matches("encoder.0", "encoder.0.weight"));
  EXPECT_TRUE(nn::path_matches("*.0", "encoder.0.weight"));
  EXPECT_FALSE(nn::path_matches("encoder.0", "encoder.00.weight"));
  EXPECT_FALSE(nn::path_matches("enc", "encoder.0.weight"));
  EXPECT_FALSE(nn::path_matches("", "weight"));
}

Strings paths_of_rows(const nn::Summary& summary) {
  Strings out;
  for (const nn::SummaryRow& row : summary.rows) out.push_back(row.path);
  return out;
}

Strings trainable(const nn::Module& m) { return paths_of(m.named_trainable_parameters()); }

TEST(Freeze, ByPathGlob) {
  Generator gen(4);
  Net net(gen);
  EXPECT_EQ(net.freeze("body.*"), 4u);
  EXPECT_EQ(trainable(net), (Strings{"scale", "stem.gain", "head.gain"}));
  EXPECT_FALSE(net.body_->named_parameters()[0].second.requires_grad());
  // Frozen parameters are still parameters (checkpoints keep them).
  EXPECT_EQ(net.named_parameters().size(), 7u);
  EXPECT_EQ(net.trainable_parameters().size(), 3u);
  EXPECT_EQ(net.unfreeze("*.bias"), 2u);
  EXPECT_EQ(trainable(net), (Strings{"scale", "stem.gain", "body.0.bias", "body.2.bias", "head.gain"}));
  EXPECT_EQ(net.unfreeze("body.2"), 2u);  // already-trainable ones count too
  EXPECT_EQ(net.freeze("*gain"), 2u);
  EXPECT_EQ(net.freeze("scale"), 1u);
  EXPECT_EQ(trainable(net), (Strings{"body.0.bias", "body.2.weight", "body.2.bias"}));
  EXPECT_EQ(net.freeze("**"), 7u);
  EXPECT_TRUE(net.trainable_parameters().empty());
  EXPECT_EQ(net.unfreeze("*"), 7u);
  EXPECT_EQ(trainable(net), paths_of(net.named_parameters()));
  // A child's own paths are relative to it.
  EXPECT_EQ(net.body_->freeze("0.weight"), 1u);
  EXPECT_FALSE(net.body_->named_parameters()[0].second.requires_grad());
  EXPECT_EQ(trainable(*net.body_), (Strings{"0.bias", "2.weight", "2.bias"}));
}

TEST(Freeze, FrozenParametersGetNoGradient) {
  Generator gen(5);
  Net net(gen);
  const Tensor x = randn({4, 2}, gen);
  backward(sum(net(x)));
  const Tensor weight = net.body_->named_parameters()[0].second;
  ASSERT_TRUE(weight.grad().defined());
  net.freeze("body.0.weight");
  // A gradient from before the freeze is dropped, so no optimiser applies it.
  EXPECT_FALSE(weight.grad().defined());
  net.zero_grad();
  backward(sum(net(x)));
  EXPECT_FALSE(weight.grad().defined());
  for (const Tensor& p : net.trainable_parameters()) EXPECT_TRUE(p.grad().defined());
  // Unfreezing brings the gradient back at the next backward pass.
  net.unfreeze("body.0.weight");
  net.zero_grad();
  backward(sum(net(x)));
  EXPECT_TRUE(weight.grad().defined());
}

TEST(Freeze, APatternMatchingNothingThrowsNamingIt) {
  Generator gen(6);
  Net net(gen);
  const std::string msg = error_message([&] { (void)net.freeze("bdy.*"); });
  EXPECT_NE(msg.find("freeze: pattern \"bdy.*\" matches no parameter"), std::string::npos) << msg;
  EXPECT_NE(msg.find("scale, stem.gain, body.0.weight"), std::string::npos) << msg;  // what there is
  EXPECT_NE(error_message([&] { (void)net.unfreeze("*.running_mean"); }).find("unfreeze: pattern \"*.running_mean\""),
            std::string::npos);  // buffers are not parameters
  EXPECT_THROW((void)net.freeze(""), Error);
  EXPECT_THROW((void)net.freeze("body.0.w"), Error);
  nn::ReLU relu;
  EXPECT_NE(error_message([&] { (void)relu.freeze("*"); }).find("(parameters: none)"), std::string::npos);
  EXPECT_EQ(trainable(net).size(), 7u);  // nothing changed
}

TEST(TypeName, LayersAndDefaults) {
  Generator gen(7);
  Net net(gen);
  EXPECT_EQ(net.type_name(), "Net");  // the class name without namespaces
  EXPECT_EQ(net.stem_->type_name(), "Tracker");
  EXPECT_EQ(net.body_->type_name(), "Sequential");
  EXPECT_EQ((*net.body_)[0].type_name(), "Linear");
  EXPECT_EQ((*net.body_)[1].type_name(), "ReLU");
  EXPECT_EQ((*net.body_)[0].extra_repr(), "2 -> 3");
  EXPECT_EQ(nn::Linear(5, 1, false, gen).extra_repr(), "5 -> 1, no bias");
  EXPECT_EQ(net.extra_repr(), "");
}

// Sequential(Linear(4, 5), ReLU, Linear(5, 3)).
std::shared_ptr<nn::Sequential> small_mlp(Generator& gen) {
  return std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(4, 5, gen), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(5, 3, gen)});
}

TEST(Summary, ExactTableOfASmallSequential) {
  Generator gen(8);
  auto model = small_mlp(gen);
  model->freeze("0");
  const nn::Summary summary = nn::summarize(*model, randn({2, 4}, gen));
  EXPECT_EQ(summary.str(),
            "Layer    Type            Output shape  Params  Trainable\n"
            "--------------------------------------------------------\n"
            "(model)  Sequential      [2, 3]             0          0\n"
            "0        Linear(4 -> 5)  [2, 5]            25          0\n"
            "1        ReLU            [2, 5]             0          0\n"
            "2        Linear(5 -> 3)  [2, 3]            18         18\n"
            "========================================================\n"
            "Total params: 43 (172 B)\n"
            "Trainable params: 18\n"
            "Frozen params: 25\n");
  ASSERT_EQ(summary.rows.size(), 4u);
  EXPECT_EQ(summary.rows[1].path, "0");
  EXPECT_EQ(summary.rows[1].type, "Linear");
  EXPECT_EQ(summary.rows[1].details, "4 -> 5");
  EXPECT_EQ(summary.rows[1].output_shape, (Shape{2, 5}));
  EXPECT_EQ(summary.rows[1].params, 25);
  EXPECT_EQ(summary.rows[1].trainable, 0);
  EXPECT_EQ(summary.total_params, 43);
  EXPECT_EQ(summary.trainable_params, 18);
  EXPECT_EQ(summary.frozen_params, 25);
  EXPECT_EQ(summary.param_bytes, 43 * 4);
}

TEST(Summary, CountsFlopsAndActivationBytes) {
  Generator gen(8);
  auto model = small_mlp(gen);
  const nn::Summary mlp = nn::summarize(*model, randn({2, 4}, gen));
  // Linear 4 -> 5 on 2 rows: 2 * 4 * 10 + 10 bias additions; Linear 5 -> 3: 2 * 5 * 6 + 6; ReLU and the container 0.
  ASSERT_EQ(mlp.rows.size(), 4u);
  EXPECT_EQ(mlp.rows[0].flops, 0);
  EXPECT_EQ(mlp.rows[1].flops, 90);
  EXPECT_EQ(mlp.rows[2].flops, 0);
  EXPECT_EQ(mlp.rows[3].flops, 66);
  EXPECT_EQ(mlp.flops, 156);
  EXPECT_FALSE(mlp.rows[0].leaf);
  EXPECT_EQ(mlp.activation_bytes, (10 + 10 + 6) * 4);  // the three leaves' outputs, not the container's

  // Conv2d 1 -> 2, 3x3, padding 1 on [1, 1, 4, 4]: 32 outputs, each a 9-term dot product plus a bias.
  nn::Conv2d conv(1, 2, 3, gen, {.padding = 1});
  EXPECT_EQ(nn::summarize(conv, randn({1, 1, 4, 4}, gen)).flops, 2 * 9 * 32 + 32);
  // ConvTranspose2d 2 -> 1, kernel 2, stride 2 on [1, 2, 3, 3]: each of 18 inputs scatters into 1 * 2 * 2 outputs.
  nn::ConvTranspose2d up(2, 1, 2, gen, {.stride = 2}, false);
  EXPECT_EQ(nn::summarize(up, randn({1, 2, 3, 3}, gen)).flops, 2 * 4 * 18);
}

TEST(Summary, NestedModelInCallOrderWithOwnCounts) {
  Generator gen(9);
  Net net(gen);
  net.freeze("*.gain");
  const nn::Summary summary = nn::summarize(net, randn({3, 2}, gen));
  EXPECT_EQ(paths_of_rows(summary), (Strings{"", "stem", "body", "body.0", "body.1", "body.2", "head"}));
  // Own parameters only: the model has its scale, body none of its own.
  const std::vector<std::int64_t> params{1, 2, 0, 9, 0, 8, 2}, trainable_counts{1, 0, 0, 9, 0, 8, 0};
  for (std::size_t i = 0; i < summary.rows.size(); ++i) {
    EXPECT_EQ(summary.rows[i].params, params[i]) << summary.rows[i].path;
    EXPECT_EQ(summary.rows[i].trainable, trainable_counts[i]) << summary.rows[i].path;
    EXPECT_EQ(summary.rows[i].output_shape, (Shape{3, i == 3 || i == 4 ? 3 : 2})) << summary.rows[i].path;
  }
  EXPECT_EQ(summary.rows[0].type, "Net");
  EXPECT_EQ(summary.total_params, 22);
  EXPECT_EQ(summary.trainable_params, 18);
  EXPECT_EQ(summary.frozen_params, 4);
  EXPECT_EQ(summary.param_bytes, 88);
}

// Calls its children in the reverse of their registration order, the second one twice; never calls "unused".
class Reversed : public nn::Module {
 public:
  explicit Reversed(Generator& gen) {
    first_ = register_module("first", std::make_shared<nn::Linear>(3, 3, gen));
    second_ = register_module("second", std::make_shared<nn::Linear>(3, 3, gen));
    unused_ = register_module("unused", std::make_shared<nn::Linear>(3, 7, gen));
  }
  Tensor forward(const Tensor& x) override { return (*first_)((*second_)((*second_)(x))); }
  std::shared_ptr<nn::Linear> first_, second_, unused_;
};

TEST(Summary, RowsFollowCallsNotRegistration) {
  Generator gen(10);
  auto outer = std::make_shared<nn::Sequential>();
  outer->push_back(std::make_shared<Reversed>(gen));
  outer->push_back(std::make_shared<nn::ReLU>());
  const nn::Summary summary = nn::summarize(*outer, randn({1, 3}, gen));
  EXPECT_EQ(paths_of_rows(summary), (Strings{"", "0", "0.second", "0.second", "0.first", "1"}));
  // The never-called module has no row, but its parameters count in the totals.
  EXPECT_EQ(summary.total_params, 2 * 12 + 28);
}

// Records the mode and grad mode its forward ran in; throws when asked to.
class Probe : public nn::Module {
 public:
  Tensor forward(const Tensor& x) override {
    saw_training = training();
    saw_grad_mode = GradMode::is_enabled();
    if (fail) throw std::runtime_error("probe failed");
    return x;
  }
  bool saw_training = true, saw_grad_mode = false, fail = false;
};

TEST(Summary, RunsInEvalWithoutGradAndRestoresEveryMode) {
  Generator gen(11);
  auto probe = std::make_shared<Probe>();
  auto mlp = small_mlp(gen);
  nn::Sequential model({mlp, probe});
  mlp->eval();  // a mixed tree: the model trains, its first child does not
  probe->train();
  const nn::Summary summary = nn::summarize(model, randn({2, 4}, gen));
  EXPECT_FALSE(probe->saw_training);
  EXPECT_FALSE(probe->saw_grad_mode);
  EXPECT_TRUE(GradMode::is_enabled());
  EXPECT_TRUE(model.training());
  EXPECT_FALSE(mlp->training());
  EXPECT_FALSE((*mlp)[0].training());
  EXPECT_TRUE(probe->training());
  EXPECT_EQ(summary.rows.back().path, "1");
  EXPECT_EQ(summary.rows.back().type, "Probe");

  // The same when forward throws; the summary's hooks are gone either way, so later calls record nothing.
  probe->fail = true;
  EXPECT_THROW((void)nn::summarize(model, randn({2, 4}, gen)), std::runtime_error);
  EXPECT_TRUE(model.training());
  EXPECT_FALSE(mlp->training());
  EXPECT_TRUE(probe->training());
  probe->fail = false;
  int calls = 0;
  model.register_forward_hook([&](const nn::Module&, const Tensor&, const Tensor&) { ++calls; });
  (void)model(randn({2, 4}, gen));
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(probe->saw_training);
  EXPECT_TRUE(probe->saw_grad_mode);
}

TEST(Summary, LargeCountsGetSeparatorsAndBinaryUnits) {
  Generator gen(12);
  nn::Sequential model({std::make_shared<nn::Linear>(784, 512, gen)});
  const nn::Summary summary = nn::summarize(model, zeros({1, 784}));
  EXPECT_EQ(summary.total_params, 784 * 512 + 512);  // 401,920 parameters, 1,607,680 bytes
  const std::string table = summary.str();
  EXPECT_NE(table.find("0        Linear(784 -> 512)  [1, 512]      401,920    401,920\n"), std::string::npos) << table;
  EXPECT_NE(table.find("Total params: 401,920 (1.53 MiB)\n"), std::string::npos) << table;
}

}  // namespace
}  // namespace vigil::testing
