// save_module / load_module: weights by dotted path, with shape, dtype and key checks.
#include "io/temp_dir.hpp"

#include <vigil/io/checkpoint.hpp>
#include <vigil/nn/nn.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vigil::testing {
namespace {

// encoder = Sequential(Linear(3, hidden), Linear(hidden, 2)), head = Linear(2, 1).
class Net : public nn::Module {
 public:
  Net(Generator& gen, std::int64_t hidden = 4, bool with_head = true) {
    encoder_ = register_module("encoder", std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
                                              std::make_shared<nn::Linear>(3, hidden, gen),
                                              std::make_shared<nn::Linear>(hidden, 2, gen)}));
    if (with_head) head_ = register_module("head", std::make_shared<nn::Linear>(2, 1, gen));
  }
  Tensor forward(const Tensor& x) override { return head_ ? (*head_)((*encoder_)(x)) : (*encoder_)(x); }

  std::shared_ptr<nn::Sequential> encoder_;
  std::shared_ptr<nn::Linear> head_;
};

std::vector<std::vector<float>> values(const nn::Module& m) {
  std::vector<std::vector<float>> out;
  for (const auto& [path, p] : m.named_parameters()) out.push_back(p.to_vector());
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Checkpoint, SaveThenLoadRestoresEveryParameter) {
  TempDir dir;
  Generator gen_a(1);
  Generator gen_b(2);
  Net a(gen_a);
  Net b(gen_b);
  ASSERT_NE(values(a), values(b));
  io::save_module(dir.file("net.safetensors"), a, {{"step", "7"}});
  const io::LoadReport report = io::load_module(dir.file("net.safetensors"), b);
  EXPECT_TRUE(report.missing.empty());
  EXPECT_TRUE(report.unexpected.empty());
  EXPECT_EQ(values(a), values(b));
  // Loading copies into the existing parameters: they stay leaves that require gradients.
  for (const auto& [path, p] : b.named_parameters()) EXPECT_TRUE(p.requires_grad() && p.is_leaf()) << path;

  const io::SafetensorsFile file = io::load_safetensors(dir.file("net.safetensors"));
  std::vector<std::string> names;
  for (const auto& [name, t] : file.tensors) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"encoder.0.weight", "encoder.0.bias", "encoder.1.weight",
                                             "encoder.1.bias", "head.weight", "head.bias"}));
  EXPECT_EQ(file.metadata.at("step"), "7");
}

TEST(Checkpoint, ShapeMismatchNamesFilePathAndBothShapes) {
  TempDir dir;
  Generator gen(0);
  Net a(gen, 4);
  Net b(gen, 5);
  const auto before = values(b);
  const std::string path = dir.file("net.safetensors");
  io::save_module(path, a);
  const std::string message = error_of([&] { io::load_module(path, b); });
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("'encoder.0.weight' has shape [4, 3] in the file but [5, 3] in the module"),
            std::string::npos)
      << message;
  EXPECT_EQ(values(b), before);  // nothing copied
}

TEST(Checkpoint, StrictReportsMissingAndUnexpectedKeys) {
  TempDir dir;
  Generator gen(0);
  Net with_head(gen);
  Net without_head(gen, 4, false);
  const std::string full = dir.file("full.safetensors");
  const std::string partial = dir.file("partial.safetensors");
  io::save_module(full, with_head);
  io::save_module(partial, without_head);

  const std::string unexpected = error_of([&] { io::load_module(full, without_head); });
  EXPECT_NE(unexpected.find("missing [], unexpected [head.weight, head.bias]"), std::string::npos) << unexpected;
  const auto before = values(with_head);
  const std::string missing = error_of([&] { io::load_module(partial, with_head); });
  EXPECT_NE(missing.find("missing [head.weight, head.bias], unexpected []"), std::string::npos) << missing;
  EXPECT_EQ(values(with_head), before);
}

TEST(Checkpoint, NonStrictLoadsWhatMatchesAndReports) {
  TempDir dir;
  Generator gen_a(1);
  Generator gen_b(2);
  Net source(gen_a, 4, false);
  Net target(gen_b);
  const std::string path = dir.file("partial.safetensors");
  io::save_module(path, source);
  const std::vector<float> head_before = target.head_->named_parameters()[0].second.to_vector();
  const io::LoadReport report = io::load_module(path, target, /*strict=*/false);
  EXPECT_EQ(report.missing, (std::vector<std::string>{"head.weight", "head.bias"}));
  EXPECT_TRUE(report.unexpected.empty());
  EXPECT_EQ(values(*target.encoder_), values(*source.encoder_));
  EXPECT_EQ(target.head_->named_parameters()[0].second.to_vector(), head_before);
}

TEST(Checkpoint, DTypeMismatchNamesBothDTypes) {
  TempDir dir;
  Generator gen(0);
  Net net(gen, 4, false);
  io::NamedTensors state = net.named_parameters();
  state[0].second = raw::to_dtype(state[0].second, DType::Float64);
  const std::string path = dir.file("f64.safetensors");
  io::save_safetensors(path, state);
  const std::string message = error_of([&] { io::load_module(path, net); });
  EXPECT_NE(message.find("'encoder.0.weight' is float64 in the file but float32 in the module"), std::string::npos)
      << message;
}

// A module with a persistent buffer (a running statistic) and a non-persistent one (scratch).
class Tracker : public nn::Module {
 public:
  explicit Tracker(float start) {
    register_parameter("scale", full(Shape{2}, start));
    running_ = register_buffer("running_mean", full(Shape{3}, start));
    register_buffer("scratch", full(Shape{1}, start), /*persistent=*/false);
  }
  Tensor forward(const Tensor& x) override { return x; }
  Tensor running_;
};

TEST(Checkpoint, PersistentBuffersTravelWithTheParameters) {
  TempDir dir;
  Tracker a(1.5f), b(0.0f);
  io::save_module(dir.file("t.safetensors"), a);
  const io::SafetensorsFile file = io::load_safetensors(dir.file("t.safetensors"));
  ASSERT_EQ(file.tensors.size(), 2u);
  EXPECT_EQ(file.tensors[1].first, "running_mean");
  io::load_module(dir.file("t.safetensors"), b);
  EXPECT_EQ(b.running_.to_vector(), std::vector<float>(3, 1.5f));
  EXPECT_EQ(b.named_buffers()[1].second.to_vector(), std::vector<float>(1, 0.0f));  // scratch is not loaded
}

}  // namespace
}  // namespace vigil::testing
