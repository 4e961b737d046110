// kernels::matmul on oneDNN's matmul primitive (float32); everything else runs matmul_reference.
//
// Shapes: a [..., M, K] @ b [..., K, N] -> c [..., M, N]; batch dims broadcast (see matmul_shape).
//
// How an operand reaches oneDNN without a copy. oneDNN reads a memory descriptor of dims and strides, so:
//   - a transposed or sliced matrix is described by its strides: any [R, C] view with a unit stride in one of its
//     two dims and the other stride at least the extent it steps over (row-major with a leading dimension, or
//     column-major with one). Anything else (e.g. an expanded row, stride 0) is copied to row-major first;
//   - a broadcast batch dim (extent 1, or stride 0 after expand) is given to oneDNN as extent 1, which its matmul
//     broadcasts itself; extent-1 dims get the stride a dense layout would give them, as oneDNN's fast kernels
//     look at every stride;
//   - when b has no batch of its own and a's [..., M] rows are evenly spaced, the batch folds into M: one
//     [B*M, K] @ [K, N] product instead of B small ones (the output, contiguous, is the same memory either way).
//
// Primitives are made once per layout and kept in a per-thread cache, keyed by both operands' dims and strides and
// the OpenMP thread count (a primitive splits its work for the thread count in force when it is made). Per thread,
// because a primitive's memory objects are re-pointed at each call's data: a cache shared between threads would
// need them per call anyway. The cache is never trimmed: a model has a handful of layouts. Each thread also owns
// one oneDNN stream and one scratchpad, taken from vigil's caching allocator and grown to the largest primitive's
// need, so in steady state a call allocates nothing in vigil's code (oneDNN itself makes 6 small heap allocations
// per execute that no caller can avoid; bench/alloc_counter shows them).
//
// Products under kSingleThreadFlops run on one thread: below it, waking the second thread costs more than it saves.
#include <vigil/kernels/dispatch.hpp>
#include <vigil/kernels/matmul.hpp>

#include "onednn.hpp"

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <unordered_map>

namespace vigil::kernels {

namespace {

// 2 * M * N * K * batch below which one thread is faster than two (measured with bench/matmul_bench).
constexpr double kSingleThreadFlops = 2e6;

// One operand, or the output, as oneDNN reads it: [batch..., rows, cols] extents and strides in elements.
struct Layout {
  int rank = 0;
  std::array<std::int64_t, kMaxDims> dims{};
  std::array<std::int64_t, kMaxDims> strides{};

  dnnl::memory::desc desc() const {
    const auto n = static_cast<std::size_t>(rank);
    return dnnl::memory::desc(dnnl::memory::dims(dims.begin(), dims.begin() + n), dnnl::memory::data_type::f32,
                              dnnl::memory::dims(strides.begin(), strides.begin() + n));
  }
};

// Strides (row, col) oneDNN takes for an [R, C] matrix with strides (sr, sc), or nothing when the view has no unit
// stride to run along. The stride of an extent-1 dim is never read, so it is set to the dense value.
std::optional<std::array<std::int64_t, 2>> matrix_strides(std::int64_t R, std::int64_t C, std::int64_t sr,
                                                          std::int64_t sc) {
  if ((C == 1 || sc == 1) && (R == 1 || sr >= C)) return std::array{R == 1 ? C : sr, std::int64_t{1}};  // row-major
  if ((R == 1 || sr == 1) && (C == 1 || sc >= R)) return std::array{std::int64_t{1}, C == 1 ? R : sc};  // col-major
  return std::nullopt;
}

// x with every stride-0 (expanded) batch dim cut to extent 1, so that oneDNN broadcasts it instead of reading the
// same matrix again, and copied to row-major when its matrix strides do not suit oneDNN.
Tensor prepare_operand(const Tensor& x) {
  Tensor out = x;
  for (int d = 0; d < x.dim() - 2; ++d) {
    if (x.strides()[d] == 0 && x.shape()[d] > 1) out = raw::narrow(out, d, 0, 1);
  }
  const int r = out.dim();
  if (!matrix_strides(out.shape()[r - 2], out.shape()[r - 1], out.strides()[r - 2], out.strides()[r - 1])) {
    out = raw::contiguous(out);
  }
  return out;
}

// x's [..., rows, cols] padded on the left to `batch_rank` batch dims; extent-1 batch dims get dense strides.
Layout batched_layout(const Tensor& x, int batch_rank) {
  Layout l;
  l.rank = batch_rank + 2;
  const int r = x.dim(), lead = batch_rank - (r - 2);
  for (int d = 0; d < l.rank; ++d) {
    const bool padded = d < lead;
    l.dims[d] = padded ? 1 : x.shape()[d - lead];
    l.strides[d] = padded ? 0 : x.strides()[d - lead];
  }
  const auto m = *matrix_strides(x.shape()[r - 2], x.shape()[r - 1], x.strides()[r - 2], x.strides()[r - 1]);
  l.strides[l.rank - 2] = m[0];
  l.strides[l.rank - 1] = m[1];
  std::int64_t footprint = std::max(l.dims[l.rank - 2] * m[0], l.dims[l.rank - 1] * m[1]);
  for (int d = batch_rank - 1; d >= 0; --d) {
    if (l.dims[d] == 1) l.strides[d] = footprint;
    footprint = std::max(footprint, l.dims[d] * l.strides[d]);
  }
  return l;
}

// a's [..., M] dims read as one run of `rows` evenly spaced rows, when they are (then a @ b, b without a batch, is a
// single [rows, K] @ [K, N] product). `out_rows` is the batch size times M: a broadcast batch dim of a cannot fold.
std::optional<Layout> folded_layout(const Tensor& a, std::int64_t out_rows) {
  const int r = a.dim();
  std::int64_t rows = 1, row_stride = 0, next_stride = 0;
  for (int d = r - 2; d >= 0; --d) {
    const std::int64_t extent = a.shape()[d], stride = a.strides()[d];
    if (extent == 1) continue;
    if (rows > 1 && stride != next_stride) return std::nullopt;
    if (rows == 1) row_stride = stride;
    rows *= extent;
    next_stride = stride * extent;
  }
  if (rows != out_rows) return std::nullopt;
  const auto m = matrix_strides(rows, a.shape()[r - 1], row_stride, a.strides()[r - 1]);
  if (!m) return std::nullopt;
  Layout l;
  l.rank = 2;
  l.dims[0] = rows;
  l.dims[1] = a.shape()[r - 1];
  l.strides[0] = (*m)[0];
  l.strides[1] = (*m)[1];
  return l;
}

Layout contiguous_layout(const Layout& like_a, const Layout& like_b) {
  Layout c;
  c.rank = like_a.rank;
  for (int d = 0; d < c.rank - 2; ++d) c.dims[d] = std::max(like_a.dims[d], like_b.dims[d]);
  c.dims[c.rank - 2] = like_a.dims[c.rank - 2];
  c.dims[c.rank - 1] = like_b.dims[c.rank - 1];
  std::int64_t stride = 1;
  for (int d = c.rank - 1; d >= 0; --d) {
    c.strides[d] = stride;
    stride *= c.dims[d];
  }
  return c;
}

// What identifies a primitive: the thread count and both operands' layouts (the output's follows from them).
struct PlanKey {
  static constexpr std::size_t kCapacity = 2 + 4 * kMaxDims;
  std::array<std::int64_t, kCapacity> values{};

  PlanKey(int threads, const Layout& a, const Layout& b) {
    std::size_t i = 0;
    values[i++] = threads;
    values[i++] = a.rank;
    for (int d = 0; d < a.rank; ++d) {
      values[i++] = a.dims[d];
      values[i++] = a.strides[d];
      values[i++] = b.dims[d];
      values[i++] = b.strides[d];
    }
  }
  bool operator==(const PlanKey&) const = default;
};

struct PlanKeyHash {
  std::size_t operator()(const PlanKey& k) const {
    std::size_t h = 14695981039346656037ull;  // FNV-1a over the values
    for (std::int64_t v : k.values) h = (h ^ static_cast<std::size_t>(v)) * 1099511628211ull;
    return h;
  }
};

using detail::cpu_engine;

// A primitive with memory objects made once (data handles re-pointed per call) and its argument list.
struct Plan {
  dnnl::matmul primitive;
  dnnl::memory a, b, c, scratchpad;
  std::size_t scratchpad_bytes = 0;
  std::array<dnnl_exec_arg_t, 4> args{};
  int nargs = 3;
};

// Null when oneDNN declines the layouts; the caller then runs the reference loop.
std::unique_ptr<Plan> make_plan(const Layout& a, const Layout& b, const Layout& c) {
  const dnnl::engine& engine = cpu_engine();
  try {
    const dnnl::memory::desc a_md = a.desc(), b_md = b.desc(), c_md = c.desc();
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), attr, engine);
    auto plan = std::make_unique<Plan>();
    plan->primitive = dnnl::matmul(pd);
    plan->a = dnnl::memory(a_md, engine, DNNL_MEMORY_NONE);
    plan->b = dnnl::memory(b_md, engine, DNNL_MEMORY_NONE);
    plan->c = dnnl::memory(c_md, engine, DNNL_MEMORY_NONE);
    plan->args[0] = {DNNL_ARG_SRC, plan->a.get()};
    plan->args[1] = {DNNL_ARG_WEIGHTS, plan->b.get()};
    plan->args[2] = {DNNL_ARG_DST, plan->c.get()};
    plan->scratchpad_bytes = pd.scratchpad_desc().get_size();
    if (plan->scratchpad_bytes > 0) {
      plan->scratchpad = dnnl::memory(pd.scratchpad_desc(), engine, DNNL_MEMORY_NONE);
      plan->args[3] = {DNNL_ARG_SCRATCHPAD, plan->scratchpad.get()};
      plan->nargs = 4;
    }
    return plan;
  } catch (const dnnl::error&) {
    return nullptr;
  }
}

// This thread's stream, primitives and scratchpad.
struct ThreadState {
  dnnl::stream stream{cpu_engine()};
  std::unordered_map<PlanKey, std::unique_ptr<Plan>, PlanKeyHash> plans;
  std::shared_ptr<Storage> scratchpad;
};

ThreadState& thread_state() {
  thread_local ThreadState state;
  return state;
}

void check_dnnl(dnnl_status_t status, const char* what) { detail::check_dnnl(status, "matmul", what); }

void execute(Plan& plan, ThreadState& state, const float* a, const float* b, float* c) {
  dnnl_stream_t stream = state.stream.get();
  check_dnnl(dnnl_memory_set_data_handle_v2(plan.a.get(), const_cast<float*>(a), stream), "set_data_handle");
  check_dnnl(dnnl_memory_set_data_handle_v2(plan.b.get(), const_cast<float*>(b), stream), "set_data_handle");
  check_dnnl(dnnl_memory_set_data_handle_v2(plan.c.get(), c, stream), "set_data_handle");
  if (plan.scratchpad_bytes > 0) {
    if (!state.scratchpad || state.scratchpad->nbytes() < plan.scratchpad_bytes) {
      state.scratchpad = Storage::allocate(plan.scratchpad_bytes);
    }
    check_dnnl(dnnl_memory_set_data_handle_v2(plan.scratchpad.get(), state.scratchpad->data(), stream),
               "set_data_handle");
  }
  check_dnnl(dnnl_primitive_execute(plan.primitive.get(), stream, plan.nargs, plan.args.data()), "execute");
  check_dnnl(dnnl_stream_wait(stream), "stream wait");
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_same_dtype(a, b, "matmul");
  const Shape out_shape = matmul_shape(a.shape(), b.shape());
  const int batch_rank = out_shape.size() - 2;
  const std::int64_t N = out_shape[batch_rank + 1], K = a.shape().back();
  if (a.dtype() != DType::Float32 || out_shape.numel() == 0 || K == 0) return matmul_reference(a, b);

  const Tensor pa = prepare_operand(a), pb = prepare_operand(b);
  bool b_has_batch = false;
  for (int d = 0; d < pb.dim() - 2; ++d) b_has_batch = b_has_batch || pb.shape()[d] > 1;
  const std::int64_t out_rows = out_shape.numel() / N;
  const std::optional<Layout> folded = b_has_batch ? std::nullopt : folded_layout(pa, out_rows);
  const Layout la = folded ? *folded : batched_layout(pa, batch_rank);
  const Layout lb = batched_layout(pb, folded ? 0 : batch_rank);

  const double flops = 2.0 * double(out_shape.numel()) * double(K);
  const int threads = flops < kSingleThreadFlops ? 1 : omp_get_max_threads();
  const detail::OmpThreadsScope scope(threads);
  ThreadState& state = thread_state();
  auto [it, inserted] = state.plans.try_emplace(PlanKey(threads, la, lb));
  if (inserted) it->second = make_plan(la, lb, contiguous_layout(la, lb));
  if (!it->second) return matmul_reference(a, b);

  Tensor c = empty(out_shape);
  execute(*it->second, state, pa.data<float>(), pb.data<float>(), c.data<float>());
  return c;
}

}  // namespace vigil::kernels
