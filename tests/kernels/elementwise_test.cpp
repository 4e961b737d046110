// The fast paths of the elementwise kernels (flat OpenMP loop, scalar operand, strided fallback) against their
// naive strided twins, on every operand layout the ops produce: contiguous, transposed, sliced, broadcast
// (stride 0) and one-element operands, in float32 and float64, with floating and bool results.
//
// Shapes are prime-sided and above kParallelGrain (2^15) elements so that the flat loops really split across
// OpenMP threads; both paths apply the same functor to the same values, so results must agree bit for bit.
#include <vigil/kernels/elementwise.hpp>
#include <vigil/tensor/generator.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace vigil::kernels {
namespace {

constexpr std::int64_t kRows = 181, kCols = 191;  // 34571 elements > kParallelGrain
static_assert(kRows * kCols > kParallelGrain);

const DType kFloatTypes[] = {DType::Float32, DType::Float64};

Tensor random(const Shape& shape, Generator& gen, DType dtype) { return raw::to_dtype(randn(shape, gen), dtype); }

// Same dtype, shape and bytes (row-major); on failure names the first differing element.
::testing::AssertionResult identical(const Tensor& actual, const Tensor& expected) {
  if (actual.dtype() != expected.dtype()) {
    return ::testing::AssertionFailure() << "dtype " << dtype_name(actual.dtype()) << " != expected "
                                         << dtype_name(expected.dtype());
  }
  if (actual.shape() != expected.shape()) {
    return ::testing::AssertionFailure() << "shape " << actual.shape().str() << " != expected " << expected.shape().str();
  }
  const Tensor a = raw::contiguous(actual), e = raw::contiguous(expected);
  const std::size_t width = dtype_size(a.dtype());
  const auto* pa = static_cast<const unsigned char*>(a.raw_data());
  const auto* pe = static_cast<const unsigned char*>(e.raw_data());
  for (std::int64_t i = 0; i < a.numel(); ++i) {
    if (std::memcmp(pa + i * width, pe + i * width, width) != 0) {
      return ::testing::AssertionFailure() << "element " << i << " of shape " << a.shape().str() << ": got "
                                           << a.to_vector()[static_cast<std::size_t>(i)] << ", expected "
                                           << e.to_vector()[static_cast<std::size_t>(i)];
    }
  }
  return ::testing::AssertionSuccess();
}

// The layouts of a [kRows, kCols] operand. Each is a view with that logical shape (or broadcastable to it).
struct Layout {
  std::string name;
  Tensor tensor;
};

std::vector<Layout> layouts(Generator& gen, DType dtype) {
  return {
      {"contiguous", random({kRows, kCols}, gen, dtype)},
      {"transposed", raw::transpose(random({kCols, kRows}, gen, dtype), 0, 1)},
      // Every second column, starting at 1: a nonzero offset and a column stride of 2.
      {"sliced", raw::slice(random({kRows, 2 * kCols + 1}, gen, dtype), 1, 1, 2 * kCols + 1, 2)},
      {"broadcast_row", raw::expand(random({1, kCols}, gen, dtype), {kRows, kCols})},
      {"column", random({kRows, 1}, gen, dtype)},
      {"row", random({kCols}, gen, dtype)},
      {"scalar", random({}, gen, dtype)},
      {"one_element", random({1, 1}, gen, dtype)},
      // A one-element view deep inside a larger buffer: the scalar fast path must honour the offset.
      {"offset_one_element", raw::narrow(raw::narrow(random({5, 7}, gen, dtype), 0, 3, 1), 1, 4, 1)},
  };
}

TEST(ElementwiseKernels, MapUnaryMatchesReference) {
  Generator gen(3);
  const auto square_plus_exp = [](auto v) { return v * v + std::exp(-v); };
  const auto positive = [](auto v) { return v > decltype(v)(0); };
  for (DType dtype : kFloatTypes) {
    for (const auto& [name, x] : layouts(gen, dtype)) {
      SCOPED_TRACE(name + " " + std::string(dtype_name(dtype)));
      EXPECT_TRUE(identical(map_unary(x, square_plus_exp, "test"), map_unary_reference(x, square_plus_exp, "test")));
      const Tensor mask = map_unary(x, positive, "test");
      EXPECT_EQ(mask.dtype(), DType::Bool);
      EXPECT_TRUE(identical(mask, map_unary_reference(x, positive, "test")));
    }
  }
}

TEST(ElementwiseKernels, MapUnaryOfEmptyTensor) {
  const Tensor x = zeros({0, 5});
  const auto twice = [](auto v) { return v + v; };
  EXPECT_TRUE(identical(map_unary(x, twice, "test"), map_unary_reference(x, twice, "test")));
}

TEST(ElementwiseKernels, MapBinaryMatchesReferenceOnEveryLayoutPair) {
  Generator gen(5);
  const auto mul_sub = [](auto a, auto b) { return a * b - a; };
  const auto less = [](auto a, auto b) { return a < b; };
  for (DType dtype : kFloatTypes) {
    const auto ls = layouts(gen, dtype);
    for (const auto& [name_a, a] : ls) {
      for (const auto& [name_b, b] : ls) {
        SCOPED_TRACE(name_a + " x " + name_b + " " + std::string(dtype_name(dtype)));
        EXPECT_TRUE(identical(map_binary(a, b, mul_sub, "test"), map_binary_reference(a, b, mul_sub, "test")));
        EXPECT_TRUE(identical(map_binary(a, b, less, "test"), map_binary_reference(a, b, less, "test")));
      }
    }
  }
}

// map_ternary has no separate twin; this strided loop is the naive version it is checked against.
template <class F>
Tensor map_ternary_naive(const Tensor& a, const Tensor& b, const Tensor& c, F f) {
  const Shape shape = broadcast_shapes(broadcast_shapes(a.shape(), b.shape(), "test"), c.shape(), "test");
  return dispatch_floating(a.dtype(), "test", [&](auto zero) {
    using T = decltype(zero);
    using R = std::invoke_result_t<F, T, T, T>;
    Tensor z = empty(shape, TensorOptions{dtype_of<R>()});
    R* pz = z.data<R>();
    const T *pa = a.data<T>(), *pb = b.data<T>(), *pc = c.data<T>();
    const Strides sa = broadcast_strides(a.shape(), a.strides(), shape);
    const Strides sb = broadcast_strides(b.shape(), b.strides(), shape);
    const Strides sc = broadcast_strides(c.shape(), c.strides(), shape);
    std::int64_t i = 0;
    for_each_strided<3>(shape, {sa, sb, sc},
                        [&](std::int64_t oa, std::int64_t ob, std::int64_t oc) { pz[i++] = f(pa[oa], pb[ob], pc[oc]); });
    return z;
  });
}

TEST(ElementwiseKernels, MapTernaryMatchesNaiveLoop) {
  Generator gen(7);
  const auto select = [](auto m, auto x, auto y) { return m > decltype(m)(0) ? x : y; };
  const auto muladd = [](auto x, auto y, auto z) { return x * y + z; };
  const auto between = [](auto x, auto lo, auto hi) { return lo <= x && x <= hi; };
  for (DType dtype : kFloatTypes) {
    const auto ls = layouts(gen, dtype);
    // All three contiguous (the flat fast path), then mixes of every layout in each position.
    for (std::size_t i = 0; i < ls.size(); ++i) {
      const auto& a = ls[i];
      const auto& b = ls[(i + 1) % ls.size()];
      const auto& c = ls[(i + 3) % ls.size()];
      for (const auto& [name, x, y, z] : {std::tuple{a.name + " " + a.name + " " + a.name, a.tensor, a.tensor, a.tensor},
                                          std::tuple{a.name + " " + b.name + " " + c.name, a.tensor, b.tensor, c.tensor},
                                          std::tuple{c.name + " " + a.name + " " + b.name, c.tensor, a.tensor, b.tensor}}) {
        SCOPED_TRACE(name + " " + std::string(dtype_name(dtype)));
        EXPECT_TRUE(identical(map_ternary(x, y, z, select, "test"), map_ternary_naive(x, y, z, select)));
        EXPECT_TRUE(identical(map_ternary(x, y, z, muladd, "test"), map_ternary_naive(x, y, z, muladd)));
        EXPECT_TRUE(identical(map_ternary(x, y, z, between, "test"), map_ternary_naive(x, y, z, between)));
      }
    }
  }
}

// A writable [kRows, kCols] destination in the named layout, viewing `buffer` (which it may not fill).
Tensor destination_in(const std::string& layout, Generator& gen, DType dtype, Tensor& buffer) {
  if (layout == "transposed") {
    buffer = random({kCols, kRows}, gen, dtype);
    return raw::transpose(buffer, 0, 1);
  }
  if (layout == "sliced") {
    buffer = random({kRows, 2 * kCols + 1}, gen, dtype);
    return raw::slice(buffer, 1, 1, 2 * kCols + 1, 2);
  }
  buffer = random({kRows, kCols}, gen, dtype);
  return buffer;
}

TEST(ElementwiseKernels, UpdateInplaceMatchesReference) {
  // In place dst = f(dst, src) must equal the out-of-place reference map_binary_reference(dst, src, f) for every
  // src that broadcasts to dst, and must write nothing outside dst's view.
  Generator gen(9);
  const auto axpy = [](auto d, auto s) { return d + decltype(d)(0.5) * s; };
  for (DType dtype : kFloatTypes) {
    const auto sources = layouts(gen, dtype);
    for (const std::string dst_layout : {"contiguous", "transposed", "sliced"}) {
      for (const auto& [src_name, src] : sources) {
        SCOPED_TRACE(dst_layout + " <- " + src_name + " " + std::string(dtype_name(dtype)));
        Tensor buffer;
        const Tensor dst = destination_in(dst_layout, gen, dtype, buffer);
        const Tensor buffer_before = raw::clone(buffer);
        const Tensor expected = map_binary_reference(dst, src, axpy, "test");
        update_inplace(dst, src, axpy, "test");
        EXPECT_TRUE(identical(dst, expected));
        if (dst_layout == "sliced") {  // the even columns lie outside the view
          auto even_columns = [](const Tensor& t) { return raw::slice(t, 1, 0, 2 * kCols + 1, 2); };
          EXPECT_TRUE(identical(even_columns(buffer), even_columns(buffer_before)));
        }
      }
    }
  }
}

TEST(ElementwiseKernels, UpdateInplaceWithItselfAsSource) {
  Generator gen(13);
  for (DType dtype : kFloatTypes) {
    const Tensor x = random({kRows, kCols}, gen, dtype);
    const auto product = [](auto d, auto s) { return d * s; };
    const Tensor expected = map_binary_reference(x, x, product, "test");
    update_inplace(x, x, product, "test");
    EXPECT_TRUE(identical(x, expected));
  }
}

TEST(ElementwiseKernels, ErrorsNameTheOp) {
  const auto plus = [](auto a, auto b) { return a + b; };
  try {
    update_inplace(zeros({3}), zeros({2, 3}), plus, "add_");
    ADD_FAILURE() << "expected ShapeError";
  } catch (const ShapeError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("add_"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
  }
  EXPECT_THROW((void)map_binary(zeros({2}), zeros({2}, TensorOptions{DType::Float64}), plus, "add"), DTypeError);
  EXPECT_THROW((void)map_binary(zeros({2}), zeros({3}), plus, "add"), ShapeError);
  EXPECT_THROW((void)map_unary(zeros({2}, TensorOptions{DType::Int64}), [](auto v) { return v; }, "neg"), DTypeError);
}

}  // namespace
}  // namespace vigil::kernels
