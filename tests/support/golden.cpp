#include "support/golden.hpp"

#include <cmath>
#include <fstream>

namespace vigil::testing {

Tensor tensor_from_json(const nlohmann::json& entry) {
  Shape shape;
  for (auto d : entry.at("shape")) shape.push_back(d.get<std::int64_t>());
  const std::string dtype = entry.value("dtype", "float32");
  const std::string layout = entry.value("layout", "contiguous");
  const Shape& stored = shape;  // data holds the logical tensor's values, row-major
  Tensor t;
  const auto& data = entry.at("data");
  if (dtype == "int64") {
    t = from_vector_i64(data.get<std::vector<std::int64_t>>(), stored);
  } else if (dtype == "bool") {
    std::vector<char> raw_values = data.get<std::vector<char>>();
    std::vector<bool> flags(raw_values.begin(), raw_values.end());
    std::unique_ptr<bool[]> buffer(new bool[flags.size()]);
    for (std::size_t i = 0; i < flags.size(); ++i) buffer[i] = flags[i];
    t = from_vector_bool(std::span<const bool>(buffer.get(), flags.size()), stored);
  } else {
    std::vector<float> values;
    values.reserve(data.size());
    for (const auto& v : data) values.push_back(v.is_number() ? v.get<float>() : NAN);
    t = from_vector(values, stored);
    if (dtype == "float64") t = raw::to_dtype(t, DType::Float64);
  }
  // A transposed layout: the same values, in storage laid out with the last two dims swapped.
  if (layout == "transposed") t = raw::transpose(raw::contiguous(raw::transpose(t, -1, -2)), -1, -2);
  if (entry.value("requires_grad", false)) t.set_requires_grad(true);
  return t;
}

std::vector<GoldenCase> load_golden(const std::string& family) {
  const std::string path = std::string(VIGIL_GOLDEN_DIR) + "/" + family + ".json";
  std::ifstream in(path);
  if (!in) throw Error("golden file not found: " + path + " (run tools/golden/all.sh)");
  const nlohmann::json doc = nlohmann::json::parse(in);
  std::vector<GoldenCase> cases;
  for (const auto& c : doc.at("cases")) {
    GoldenCase gc;
    gc.name = c.at("name");
    gc.params = c.value("params", nlohmann::json::object());
    for (const auto& i : c.at("inputs")) gc.inputs.push_back(tensor_from_json(i));
    gc.output = tensor_from_json(c.at("output"));
    if (c.contains("grad_output")) {
      gc.grad_output = tensor_from_json(c.at("grad_output"));
      for (const auto& g : c.at("grads")) gc.grads.push_back(g.is_null() ? Tensor() : tensor_from_json(g));
    }
    cases.push_back(std::move(gc));
  }
  return cases;
}

::testing::AssertionResult tensors_close(const Tensor& actual, const Tensor& expected, double rtol, double atol) {
  if (!actual.defined()) return ::testing::AssertionFailure() << "result is undefined";
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << "shape " << actual.shape().str() << " != expected " << expected.shape().str();
  }
  const auto a = actual.to_vector(), e = expected.to_vector();
  double worst = 0;
  std::size_t worst_i = 0;
  bool ok = true;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(e[i]) && std::isnan(a[i])) continue;
    if (a[i] == e[i]) continue;
    const double excess = std::abs(double(a[i]) - e[i]) / (atol + rtol * std::abs(e[i]));
    if (!(excess <= 1.0)) ok = false;
    if (!(excess <= worst)) {
      worst = std::isnan(excess) ? INFINITY : excess;
      worst_i = i;
    }
  }
  if (ok) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "element " << worst_i << " of shape " << actual.shape().str() << ": got "
                                       << a[worst_i] << ", expected " << e[worst_i] << " (" << worst
                                       << "x the tolerance rtol=" << rtol << " atol=" << atol << ")";
}

void check_golden_case(const GoldenCase& c, const OpFunction& fn, double rtol, double atol) {
  SCOPED_TRACE("golden case " + c.name);
  std::vector<Tensor> inputs;
  for (const Tensor& x : c.inputs) {  // fresh leaves, so repeated runs do not accumulate gradients
    Tensor copy = x.requires_grad() ? x.detach().set_requires_grad(true) : x;
    inputs.push_back(copy);
  }
  Tensor out = fn(inputs, c.params);
  EXPECT_TRUE(tensors_close(out, c.output, rtol, atol)) << "forward";
  if (!c.grad_output.defined()) return;
  ASSERT_TRUE(out.requires_grad()) << "output does not require grad but the golden case has gradients";
  backward(out, c.grad_output);
  for (std::size_t i = 0; i < c.grads.size(); ++i) {
    if (!c.grads[i].defined()) continue;
    EXPECT_TRUE(tensors_close(inputs[i].grad(), c.grads[i], rtol, atol)) << "gradient of input " << i;
  }
}

::testing::AssertionResult passes_gradcheck(const TensorFunction& f, const std::vector<Tensor>& inputs,
                                            const GradcheckOptions& options) {
  const GradcheckResult r = gradcheck(f, inputs, options);
  if (r.passed) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << r.report;
}

}  // namespace vigil::testing
