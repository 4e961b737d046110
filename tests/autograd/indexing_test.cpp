// gather, scatter_add, index_select and one_hot against PyTorch goldens, gradcheck, and error cases.
#include "support/golden.hpp"

namespace vigil::testing {
namespace {

Tensor apply_indexing(const std::vector<Tensor>& x, const nlohmann::json& p) {
  const std::string op = p.at("op");
  if (op == "gather") return gather(x[0], p.at("dim"), x[1]);
  if (op == "scatter_add") return scatter_add(x[0], p.at("dim"), x[1], x[2]);
  if (op == "index_select") return index_select(x[0], p.at("dim"), x[1]);
  if (op == "one_hot") return one_hot(x[0], p.at("num_classes"));
  throw Error("unknown golden op " + op);
}

TEST(IndexingGolden, MatchesPyTorch) {
  const auto cases = load_golden("indexing");
  ASSERT_GE(cases.size(), 18u);
  for (const auto& c : cases) check_golden_case(c, apply_indexing, 1e-5, 1e-5);
}

TEST(IndexingGolden, OneHotIsFloatWithoutGradient) {
  const Tensor y = one_hot(from_vector_i64(std::vector<std::int64_t>{2, 0}, Shape{2}), 3);
  EXPECT_EQ(y.dtype(), DType::Float32);
  EXPECT_EQ(y.shape(), (Shape{2, 3}));
  EXPECT_FALSE(y.requires_grad());
  EXPECT_TRUE(tensors_close(y, from_vector(std::vector<float>{0, 0, 1, 1, 0, 0}, Shape{2, 3})));
}

TEST(IndexingGradcheck, EveryOpPassesInFloat64) {
  Generator gen(3);
  auto input = [&](Shape s) { return randn(s, gen, TensorOptions{DType::Float32, true}); };
  const Tensor index = from_vector_i64(std::vector<std::int64_t>{2, 0, 2, 1, 1, 0}, Shape{3, 2});
  EXPECT_TRUE(passes_gradcheck([&](const auto& x) { return gather(x[0], 0, index); }, {input({3, 4})}));
  EXPECT_TRUE(passes_gradcheck([&](const auto& x) { return gather(x[0], -1, index); }, {input({4, 3})}));
  EXPECT_TRUE(passes_gradcheck([&](const auto& x) { return scatter_add(x[0], 0, index, x[1]); },
                               {input({3, 2}), input({3, 2})}));
  // src larger than index: its unused elements get a zero gradient.
  EXPECT_TRUE(passes_gradcheck([&](const auto& x) { return scatter_add(x[0], 1, index, x[1]); },
                               {input({3, 3}), input({4, 5})}));
  const Tensor picks = from_vector_i64(std::vector<std::int64_t>{1, 1, 0, 3}, Shape{4});
  EXPECT_TRUE(passes_gradcheck([&](const auto& x) { return index_select(x[0], 1, picks); }, {input({2, 4, 3})}));
  EXPECT_TRUE(passes_gradcheck([&](const auto& x) { return index_select(x[0], 0, picks); },
                               {raw::transpose(randn({3, 5}, gen), 0, 1).set_requires_grad(true)}));
}

TEST(IndexingGradcheck, ScatterAddSrcLargerThanIndexGetsZerosOutside) {
  const Tensor x = zeros({2, 2}, TensorOptions{DType::Float32, true});
  const Tensor src = ones({3, 3}, TensorOptions{DType::Float32, true});
  const Tensor index = from_vector_i64(std::vector<std::int64_t>{1, 0}, Shape{1, 2});
  backward(sum(scatter_add(x, 0, index, src)));
  EXPECT_TRUE(tensors_close(src.grad(), from_vector(std::vector<float>{1, 1, 0, 0, 0, 0, 0, 0, 0}, Shape{3, 3})));
  EXPECT_TRUE(tensors_close(x.grad(), ones({2, 2})));
}

// Runs f, expecting an IndexError whose message holds every one of `parts`.
template <class F>
void expect_index_error(F&& f, std::initializer_list<std::string> parts) {
  try {
    f();
    FAIL() << "expected IndexError";
  } catch (const IndexError& e) {
    const std::string msg = e.what();
    for (const std::string& part : parts) EXPECT_NE(msg.find(part), std::string::npos) << msg;
  }
}

TEST(IndexingErrors, OutOfRangeIndicesNameOpValueAndExtent) {
  const Tensor x = zeros({3, 4});
  const Tensor bad = from_vector_i64(std::vector<std::int64_t>{0, 7}, Shape{1, 2});
  expect_index_error([&] { (void)gather(x, 1, bad); }, {"gather", "7", "4"});
  expect_index_error([&] { (void)scatter_add(x, 0, bad, ones({1, 2})); }, {"scatter_add", "7", "3"});
  expect_index_error([&] { (void)index_select(x, 0, from_vector_i64(std::vector<std::int64_t>{-1}, Shape{1})); },
                     {"index_select", "-1", "3"});
  expect_index_error([&] { (void)one_hot(from_vector_i64(std::vector<std::int64_t>{1, 5}, Shape{2}), 5); },
                     {"one_hot", "label 5", "[0, 5)"});
  expect_index_error([&] { (void)one_hot(from_vector_i64(std::vector<std::int64_t>{-2}, Shape{1}), 3); },
                     {"one_hot", "label -2"});
}

TEST(IndexingErrors, ShapeAndDTypeMismatches) {
  const Tensor x = zeros({3, 4});
  EXPECT_THROW((void)gather(x, 0, zeros({2, 2})), DTypeError);
  EXPECT_THROW((void)gather(x, 0, from_vector_i64(std::vector<std::int64_t>{0}, Shape{1})), ShapeError);
  EXPECT_THROW((void)gather(x, 0, zeros({2, 5}, TensorOptions{DType::Int64})), ShapeError);
  EXPECT_THROW((void)scatter_add(x, 0, zeros({2, 2}, TensorOptions{DType::Int64}), zeros({1, 2})), ShapeError);
  EXPECT_THROW((void)scatter_add(x, 0, zeros({1, 2}, TensorOptions{DType::Int64}), zeros({1, 2}, TensorOptions{DType::Float64})),
               DTypeError);
  EXPECT_THROW((void)index_select(x, 0, zeros({2, 2}, TensorOptions{DType::Int64})), ShapeError);
  EXPECT_THROW((void)index_select(x, 2, zeros({2}, TensorOptions{DType::Int64})), IndexError);
  EXPECT_THROW((void)one_hot(zeros({2}), 3), DTypeError);
  try {
    (void)gather(x, 0, zeros({2, 5}, TensorOptions{DType::Int64}));
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("gather"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 5]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[3, 4]"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace vigil::testing
