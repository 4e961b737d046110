// The convolution kernels on oneDNN's convolution primitives (float32); everything else runs the reference twins
// (conv_reference.cpp). Shape arithmetic and checks live here too.
//
// Primitives. Each pass (forward, backward-data, backward-weights) of each geometry gets one primitive, made on first
// use and kept in a per-thread cache keyed by the pass, the geometry, the bias flag and the OpenMP thread count (a
// primitive splits its work for the thread count in force when it is made), as kernels::matmul does; per thread
// because a plan's memory objects are re-pointed at each call's data. The cache is never trimmed: a model has a
// handful of geometries.
//
// Layouts. vigil's tensors are plain NCHW / OIHW. The primitive is asked for its preferred layouts
// (format_tag::any) when `prefers_blocked` says it pays, else for the plain ones; where the primitive's choice differs
// from plain, the plan holds a reorder between the user's plain buffer and a buffer in the thread's workspace (inputs
// reordered before, outputs after). Plain layouts make oneDNN run its im2col + GEMM implementation; blocked ones
// (nChw16c, OIhw16i16o) its direct JIT kernels, whose speed must pay for the reorders; see prefers_blocked.
//
// Memory. Each thread owns one oneDNN stream, one scratchpad (the primitives are made with a user-managed
// scratchpad) and one workspace for reordered operands, both from vigil's caching allocator and grown to the largest
// plan's need, so in steady state a call allocates nothing in vigil's code besides its result.
#include <vigil/kernels/conv.hpp>
#include <vigil/kernels/dispatch.hpp>

#include "conv_checks.hpp"
#include "onednn.hpp"

#include <array>
#include <memory>
#include <unordered_map>

namespace vigil::kernels {

// ---- Shapes and checks ----

std::int64_t conv_output_extent(std::int64_t in, std::int64_t k, std::int64_t stride, std::int64_t pad_lo,
                                std::int64_t pad_hi, std::int64_t dilation) {
  const std::int64_t span = in + pad_lo + pad_hi - dilation * (k - 1) - 1;
  if (span < 0) return 0;
  return span / stride + 1;
}

namespace {

void check_params(const ConvParams& p, const Shape& x, const Shape& weight, const char* op) {
  VIGIL_CHECK(p.stride_h > 0 && p.stride_w > 0 && p.dilation_h > 0 && p.dilation_w > 0 && p.groups > 0, ShapeError,
              "{}: stride ({}, {}), dilation ({}, {}) and groups {} must be positive (input {}, weight {})", op,
              p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.groups, x.str(), weight.str());
  VIGIL_CHECK(p.pad_top >= 0 && p.pad_left >= 0, ShapeError,
              "{}: padding (top {}, left {}) must not be negative (input {}, weight {})", op, p.pad_top, p.pad_left,
              x.str(), weight.str());
  VIGIL_CHECK(x.size() == 4 && weight.size() == 4, ShapeError,
              "{}: expects a 4-D input [N, C, H, W] and a 4-D weight, got input {} and weight {}", op, x.str(),
              weight.str());
}

}  // namespace

Shape conv2d_output_shape(const Shape& x, const Shape& weight, const ConvParams& p, const char* op) {
  check_params(p, x, weight, op);
  const std::int64_t C = x[1], O = weight[0];
  VIGIL_CHECK(C % p.groups == 0 && O % p.groups == 0, ShapeError,
              "{}: groups = {} must divide both the input channels and the output channels (input {}, weight {})", op,
              p.groups, x.str(), weight.str());
  VIGIL_CHECK(weight[1] * p.groups == C, ShapeError,
              "{}: input {} has {} channels but weight {} expects {} (weight[1] = {} per group x groups = {})", op,
              x.str(), C, weight.str(), weight[1] * p.groups, weight[1], p.groups);
  const std::int64_t OH = conv_output_extent(x[2], weight[2], p.stride_h, p.pad_top, p.pad_bottom, p.dilation_h);
  const std::int64_t OW = conv_output_extent(x[3], weight[3], p.stride_w, p.pad_left, p.pad_right, p.dilation_w);
  VIGIL_CHECK(OH >= 1 && OW >= 1 && weight[2] >= 1 && weight[3] >= 1, ShapeError,
              "{}: the kernel ({} x {}, dilation ({}, {})) is larger than the padded input ({} x {} with padding "
              "(top {}, bottom {}, left {}, right {})): input {}, weight {}",
              op, weight[2], weight[3], p.dilation_h, p.dilation_w, x[2], x[3], p.pad_top, p.pad_bottom, p.pad_left,
              p.pad_right, x.str(), weight.str());
  return Shape{x[0], O, OH, OW};
}

Shape conv_transpose2d_output_shape(const Shape& x, const Shape& weight, const ConvParams& p,
                                    std::array<std::int64_t, 2> output_padding) {
  const char* op = "conv_transpose2d";
  check_params(p, x, weight, op);
  VIGIL_CHECK(x[1] % p.groups == 0, ShapeError,
              "{}: groups = {} must divide the input channels (input {}, weight {})", op, p.groups, x.str(),
              weight.str());
  VIGIL_CHECK(weight[0] == x[1], ShapeError,
              "{}: input {} has {} channels but weight {} expects {} (weight is [in, out / groups, kH, kW])", op,
              x.str(), x[1], weight.str(), weight[0]);
  const auto [oph, opw] = output_padding;
  VIGIL_CHECK(oph >= 0 && opw >= 0 && (oph < p.stride_h || oph < p.dilation_h) &&
                  (opw < p.stride_w || opw < p.dilation_w),
              ShapeError,
              "{}: output_padding ({}, {}) must be smaller than either stride ({}, {}) or dilation ({}, {}) (input "
              "{}, weight {})",
              op, oph, opw, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, x.str(), weight.str());
  const std::int64_t OH =
      (x[2] - 1) * p.stride_h - p.pad_top - p.pad_bottom + p.dilation_h * (weight[2] - 1) + oph + 1;
  const std::int64_t OW =
      (x[3] - 1) * p.stride_w - p.pad_left - p.pad_right + p.dilation_w * (weight[3] - 1) + opw + 1;
  VIGIL_CHECK(OH >= 1 && OW >= 1, ShapeError,
              "{}: the output would be {} x {}: padding (top {}, bottom {}, left {}, right {}) is too large for input "
              "{} and weight {}",
              op, OH, OW, p.pad_top, p.pad_bottom, p.pad_left, p.pad_right, x.str(), weight.str());
  return Shape{x[0], weight[1] * p.groups, OH, OW};
}

ConvParams transposed_as_conv(const ConvParams& p, std::array<std::int64_t, 2> output_padding) {
  ConvParams c = p;
  c.pad_bottom -= output_padding[0];
  c.pad_right -= output_padding[1];
  return c;
}

namespace detail {

void check_conv_operands(const Tensor& x, const Tensor& weight, const Tensor& bias, std::int64_t out_channels,
                         const char* op) {
  check_same_dtype(x, weight, op);
  if (!bias.defined()) return;
  check_same_dtype(x, bias, op);
  VIGIL_CHECK(bias.shape() == Shape{out_channels}, ShapeError,
              "{}: bias of shape {} does not match the {} output channels (input {}, weight {})", op,
              bias.shape().str(), out_channels, x.shape().str(), weight.shape().str());
}

void check_grad_output(const Tensor& dy, const Shape& expected, const char* op) {
  VIGIL_CHECK(dy.shape() == expected, ShapeError, "{}: grad_output has shape {}, expected the output shape {}", op,
              dy.shape().str(), expected.str());
}

}  // namespace detail

// ---- oneDNN plans ----

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

enum class Pass : std::int64_t { Forward, BackwardData, BackwardWeights };

// Below this many FLOPs a convolution runs on one thread (waking the second costs more than it saves).
constexpr double kSingleThreadFlops = 2e6;

// The geometry of one convolution x [N, C, H, W] -> y [N, O, OH, OW] with weight [O, C/G, KH, KW].
struct Geometry {
  std::int64_t N, C, H, W, O, KH, KW, OH, OW;
  ConvParams p;

  Geometry(const Shape& x, const Shape& weight, const Shape& y, const ConvParams& params)
      : N(x[0]), C(x[1]), H(x[2]), W(x[3]), O(weight[0]), KH(weight[2]), KW(weight[3]), OH(y[2]), OW(y[3]),
        p(params) {}

  double flops() const { return 2.0 * double(N) * double(O) * double(OH * OW) * double(C / p.groups * KH * KW); }
  memory::dims src() const { return {N, C, H, W}; }
  memory::dims dst() const { return {N, O, OH, OW}; }
  memory::dims weights() const {
    if (p.groups == 1) return {O, C, KH, KW};
    return {p.groups, O / p.groups, C / p.groups, KH, KW};
  }
  Tag weights_tag() const { return p.groups == 1 ? Tag::oihw : Tag::goihw; }
  memory::dims strides() const { return {p.stride_h, p.stride_w}; }
  memory::dims dilates() const { return {p.dilation_h - 1, p.dilation_w - 1}; }  // oneDNN counts the gaps
  memory::dims pad_lo() const { return {p.pad_top, p.pad_left}; }
  memory::dims pad_hi() const { return {p.pad_bottom, p.pad_right}; }
};

// Whether to let the primitive choose blocked layouts (format_tag::any) and pay reorders, or hold it to plain
// NCHW (oneDNN's im2col + GEMM). Measured with bench/conv_bench on the reference CNN's layers, one thread, ms per
// pass plain -> blocked (reorders included):
//   conv 32 -> 64 on 14x14:  forward 16.5 -> 11.3, backward-data 19.9 -> 12.2, backward-weights 16.8 -> 11.7
//   conv  1 -> 32 on 28x28:  forward  2.0 ->  3.0, backward-data  2.7 -> 13.2, backward-weights  4.2 ->  2.9
//   depthwise 64 channels on 28x28, batch 64: forward 22.9 -> 2.5, backward-data 38.0 -> 3.0, backward-weights
//   38.3 -> 2.0 (GEMM runs one 1-row product per channel; oneDNN's jit_dw kernels work on 16 channels at once)
// So: blocked when both channel counts per group fill oneDNN's 16-wide blocks, and for depthwise; for a thin input
// (the first layer) only backward-weights, whose blocked kernel reads the plain C = 1 input as it is and gains more
// than reordering dy costs. Other thin-group convolutions stay plain.
bool prefers_blocked(Pass pass, const Geometry& g) {
  const bool wide_in = g.C / g.p.groups >= 16, wide_out = g.O / g.p.groups >= 16;
  const bool depthwise = g.p.groups == g.C && g.p.groups == g.O;
  return (wide_in && wide_out) || depthwise || (pass == Pass::BackwardWeights && wide_out);
}

struct PlanKey {
  std::array<std::int64_t, 21> values{};

  PlanKey(Pass pass, int threads, bool with_bias, const Geometry& g) {
    values = {static_cast<std::int64_t>(pass), threads, with_bias, g.N, g.C, g.H, g.W, g.O, g.KH, g.KW, g.OH, g.OW,
              g.p.stride_h, g.p.stride_w, g.p.pad_top, g.p.pad_bottom, g.p.pad_left, g.p.pad_right, g.p.dilation_h,
              g.p.dilation_w, g.p.groups};
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

// One tensor argument of the primitive: the user's plain buffer and, when the primitive wants another layout, a
// buffer at `offset` in the thread's workspace and the reorder between the two.
struct Operand {
  int arg = 0;  // DNNL_ARG_*
  bool input = true;
  memory user, inner;
  dnnl::reorder reorder;
  std::array<dnnl_exec_arg_t, 2> reorder_args{};
  std::size_t offset = 0;
  bool reordered() const { return static_cast<bool>(inner); }
};

struct Plan {
  dnnl::primitive primitive;
  std::array<Operand, 4> operands;  // inputs first, then outputs; pointers are passed to execute in this order
  int n_operands = 0;
  memory scratchpad;
  std::size_t scratchpad_bytes = 0, workspace_bytes = 0;
  std::array<dnnl_exec_arg_t, 5> args{};
  int nargs = 0;
};

std::size_t round_up_64(std::size_t n) { return (n + 63) / 64 * 64; }

// Adds an operand whose plain layout is `plain` and whose primitive layout is `chosen`.
void add_operand(Plan& plan, int arg, bool input, const memory::desc& plain, const memory::desc& chosen) {
  const dnnl::engine& engine = detail::cpu_engine();
  Operand& o = plan.operands[static_cast<std::size_t>(plan.n_operands++)];
  o.arg = arg;
  o.input = input;
  o.user = memory(plain, engine, DNNL_MEMORY_NONE);
  memory used = o.user;
  if (chosen != plain) {
    o.inner = memory(chosen, engine, DNNL_MEMORY_NONE);
    o.reorder = input ? dnnl::reorder(o.user, o.inner) : dnnl::reorder(o.inner, o.user);
    o.reorder_args = {dnnl_exec_arg_t{DNNL_ARG_FROM, (input ? o.user : o.inner).get()},
                      dnnl_exec_arg_t{DNNL_ARG_TO, (input ? o.inner : o.user).get()}};
    o.offset = plan.workspace_bytes;
    plan.workspace_bytes += round_up_64(chosen.get_size());
    used = o.inner;
  }
  plan.args[static_cast<std::size_t>(plan.nargs++)] = {arg, used.get()};
}

template <class PrimitiveDesc>
void add_scratchpad(Plan& plan, const PrimitiveDesc& pd) {
  plan.scratchpad_bytes = pd.scratchpad_desc().get_size();
  if (plan.scratchpad_bytes == 0) return;
  plan.scratchpad = memory(pd.scratchpad_desc(), detail::cpu_engine(), DNNL_MEMORY_NONE);
  plan.args[static_cast<std::size_t>(plan.nargs++)] = {DNNL_ARG_SCRATCHPAD, plan.scratchpad.get()};
}

// Null when oneDNN declines the geometry; the caller then runs the reference loop.
std::unique_ptr<Plan> make_plan(Pass pass, bool with_bias, const Geometry& g) {
  using namespace dnnl;
  const engine& eng = detail::cpu_engine();
  const auto f32 = memory::data_type::f32;
  const memory::desc src_plain(g.src(), f32, Tag::nchw), dst_plain(g.dst(), f32, Tag::nchw);
  const memory::desc weights_plain(g.weights(), f32, g.weights_tag()), bias_plain({g.O}, f32, Tag::x);
  const bool blocked = prefers_blocked(pass, g);
  const memory::desc src_md = blocked ? memory::desc(g.src(), f32, Tag::any) : src_plain;
  const memory::desc dst_md = blocked ? memory::desc(g.dst(), f32, Tag::any) : dst_plain;
  const memory::desc weights_md = blocked ? memory::desc(g.weights(), f32, Tag::any) : weights_plain;
  const memory::desc bias_md = with_bias ? bias_plain : memory::desc();
  primitive_attr attr;
  attr.set_scratchpad_mode(scratchpad_mode::user);
  try {
    auto plan = std::make_unique<Plan>();
    // forward_training for the forward pass too: for inference oneDNN picks an NHWC kernel (brgconv) whose
    // reorders from NCHW cost more (measured 15.0 vs 11.3 ms on the 32 -> 64 layer); it also hints the backward ones.
    const convolution_forward::primitive_desc fwd(
        convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, src_md, weights_md, bias_md, dst_md,
                                  g.strides(), g.dilates(), g.pad_lo(), g.pad_hi()),
        attr, eng);
    if (pass == Pass::Forward) {
      plan->primitive = convolution_forward(fwd);
      add_operand(*plan, DNNL_ARG_SRC, true, src_plain, fwd.src_desc());
      add_operand(*plan, DNNL_ARG_WEIGHTS, true, weights_plain, fwd.weights_desc());
      if (with_bias) add_operand(*plan, DNNL_ARG_BIAS, true, bias_plain, fwd.bias_desc());
      add_operand(*plan, DNNL_ARG_DST, false, dst_plain, fwd.dst_desc());
      add_scratchpad(*plan, fwd);
    } else if (pass == Pass::BackwardData) {
      const convolution_backward_data::primitive_desc bwd(
          convolution_backward_data::desc(algorithm::convolution_direct, src_md, weights_md, dst_md, g.strides(),
                                          g.dilates(), g.pad_lo(), g.pad_hi()),
          attr, eng, fwd);
      plan->primitive = convolution_backward_data(bwd);
      add_operand(*plan, DNNL_ARG_DIFF_DST, true, dst_plain, bwd.diff_dst_desc());
      add_operand(*plan, DNNL_ARG_WEIGHTS, true, weights_plain, bwd.weights_desc());
      add_operand(*plan, DNNL_ARG_DIFF_SRC, false, src_plain, bwd.diff_src_desc());
      add_scratchpad(*plan, bwd);
    } else {
      const convolution_backward_weights::primitive_desc bwd(
          convolution_backward_weights::desc(algorithm::convolution_direct, src_md, weights_md, bias_md, dst_md,
                                             g.strides(), g.dilates(), g.pad_lo(), g.pad_hi()),
          attr, eng, fwd);
      plan->primitive = convolution_backward_weights(bwd);
      add_operand(*plan, DNNL_ARG_DIFF_DST, true, dst_plain, bwd.diff_dst_desc());
      add_operand(*plan, DNNL_ARG_SRC, true, src_plain, bwd.src_desc());
      add_operand(*plan, DNNL_ARG_DIFF_WEIGHTS, false, weights_plain, bwd.diff_weights_desc());
      if (with_bias) add_operand(*plan, DNNL_ARG_DIFF_BIAS, false, bias_plain, bwd.diff_bias_desc());
      add_scratchpad(*plan, bwd);
    }
    return plan;
  } catch (const dnnl::error&) {
    return nullptr;
  }
}

// This thread's stream, plans, scratchpad and workspace.
struct ThreadState {
  dnnl::stream stream{detail::cpu_engine()};
  std::unordered_map<PlanKey, std::unique_ptr<Plan>, PlanKeyHash> plans;
  std::shared_ptr<Storage> scratchpad, workspace;
};

ThreadState& thread_state() {
  thread_local ThreadState state;
  return state;
}

void ensure_capacity(std::shared_ptr<Storage>& storage, std::size_t bytes) {
  if (!storage || storage->nbytes() < bytes) storage = Storage::allocate(bytes);
}

void set_handle(const memory& m, void* data, dnnl_stream_t stream) {
  detail::check_dnnl(dnnl_memory_set_data_handle_v2(m.get(), data, stream), "conv2d", "set_data_handle");
}

void run(const dnnl::primitive& primitive, dnnl_stream_t stream, int nargs, const dnnl_exec_arg_t* args) {
  detail::check_dnnl(dnnl_primitive_execute(primitive.get(), stream, nargs, args), "conv2d", "execute");
}

// Runs the plan on `data` (one pointer per operand, in the plan's operand order).
void execute(Plan& plan, ThreadState& state, const std::array<void*, 4>& data) {
  dnnl_stream_t stream = state.stream.get();
  ensure_capacity(state.workspace, plan.workspace_bytes);
  auto* workspace = static_cast<char*>(plan.workspace_bytes > 0 ? state.workspace->data() : nullptr);
  for (int i = 0; i < plan.n_operands; ++i) {
    Operand& o = plan.operands[static_cast<std::size_t>(i)];
    set_handle(o.user, data[static_cast<std::size_t>(i)], stream);
    if (o.reordered()) set_handle(o.inner, workspace + o.offset, stream);
  }
  if (plan.scratchpad_bytes > 0) {
    ensure_capacity(state.scratchpad, plan.scratchpad_bytes);
    set_handle(plan.scratchpad, state.scratchpad->data(), stream);
  }
  for (int i = 0; i < plan.n_operands; ++i) {
    const Operand& o = plan.operands[static_cast<std::size_t>(i)];
    if (o.input && o.reordered()) run(o.reorder, stream, 2, o.reorder_args.data());
  }
  run(plan.primitive, stream, plan.nargs, plan.args.data());
  for (int i = 0; i < plan.n_operands; ++i) {
    const Operand& o = plan.operands[static_cast<std::size_t>(i)];
    if (!o.input && o.reordered()) run(o.reorder, stream, 2, o.reorder_args.data());
  }
  detail::check_dnnl(dnnl_stream_wait(stream), "conv2d", "stream wait");
}

// The cached plan for this pass and geometry on `threads` threads; null when oneDNN declined it.
Plan* find_plan(Pass pass, bool with_bias, const Geometry& g, int threads) {
  ThreadState& state = thread_state();
  auto [it, inserted] = state.plans.try_emplace(PlanKey(pass, threads, with_bias, g));
  if (inserted) it->second = make_plan(pass, with_bias, g);
  return it->second.get();
}

int threads_for(const Geometry& g) { return g.flops() < kSingleThreadFlops ? 1 : omp_get_max_threads(); }

// True when the fast path takes these operands: float32 and nothing empty.
bool onednn_takes(DType dtype, const Shape& x, const Shape& y) {
  return dtype == DType::Float32 && x.numel() > 0 && y.numel() > 0;
}

void* ptr(const Tensor& t) { return t.data<float>(); }

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvParams& p) {
  const Shape y_shape = conv2d_output_shape(x.shape(), weight.shape(), p, "conv2d");
  detail::check_conv_operands(x, weight, bias, weight.size(0), "conv2d");
  if (!onednn_takes(x.dtype(), x.shape(), y_shape)) return conv2d_reference(x, weight, bias, p);
  const Geometry g(x.shape(), weight.shape(), y_shape, p);
  const int threads = threads_for(g);
  const detail::OmpThreadsScope scope(threads);
  Plan* plan = find_plan(Pass::Forward, bias.defined(), g, threads);
  if (!plan) return conv2d_reference(x, weight, bias, p);
  const Tensor xc = raw::contiguous(x), wc = raw::contiguous(weight);
  const Tensor bc = bias.defined() ? raw::contiguous(bias) : Tensor();
  Tensor y = empty(y_shape);
  if (bias.defined()) {
    execute(*plan, thread_state(), {ptr(xc), ptr(wc), ptr(bc), ptr(y)});
  } else {
    execute(*plan, thread_state(), {ptr(xc), ptr(wc), ptr(y), nullptr});
  }
  return y;
}

Tensor conv2d_backward_data(const Tensor& dy, const Tensor& weight, const Shape& x_shape, const ConvParams& p) {
  const Shape y_shape = conv2d_output_shape(x_shape, weight.shape(), p, "conv2d_backward_data");
  detail::check_grad_output(dy, y_shape, "conv2d_backward_data");
  check_same_dtype(dy, weight, "conv2d_backward_data");
  if (!onednn_takes(dy.dtype(), x_shape, y_shape)) return conv2d_backward_data_reference(dy, weight, x_shape, p);
  const Geometry g(x_shape, weight.shape(), y_shape, p);
  const int threads = threads_for(g);
  const detail::OmpThreadsScope scope(threads);
  Plan* plan = find_plan(Pass::BackwardData, false, g, threads);
  if (!plan) return conv2d_backward_data_reference(dy, weight, x_shape, p);
  const Tensor dyc = raw::contiguous(dy), wc = raw::contiguous(weight);
  Tensor dx = empty(x_shape);
  execute(*plan, thread_state(), {ptr(dyc), ptr(wc), ptr(dx), nullptr});
  return dx;
}

ConvWeightGrads conv2d_backward_weights(const Tensor& dy, const Tensor& x, const Shape& weight_shape,
                                        const ConvParams& p, bool with_bias) {
  const Shape y_shape = conv2d_output_shape(x.shape(), weight_shape, p, "conv2d_backward_weights");
  detail::check_grad_output(dy, y_shape, "conv2d_backward_weights");
  check_same_dtype(dy, x, "conv2d_backward_weights");
  if (!onednn_takes(dy.dtype(), x.shape(), y_shape)) {
    return conv2d_backward_weights_reference(dy, x, weight_shape, p, with_bias);
  }
  const Geometry g(x.shape(), weight_shape, y_shape, p);
  const int threads = threads_for(g);
  const detail::OmpThreadsScope scope(threads);
  Plan* plan = find_plan(Pass::BackwardWeights, with_bias, g, threads);
  if (!plan) return conv2d_backward_weights_reference(dy, x, weight_shape, p, with_bias);
  const Tensor dyc = raw::contiguous(dy), xc = raw::contiguous(x);
  ConvWeightGrads grads;
  grads.dweight = empty(weight_shape);
  if (with_bias) grads.dbias = empty(Shape{g.O});
  execute(*plan, thread_state(),
          {ptr(dyc), ptr(xc), ptr(grads.dweight), with_bias ? ptr(grads.dbias) : nullptr});
  return grads;
}

Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const ConvParams& p,
                        std::array<std::int64_t, 2> output_padding) {
  const Shape y_shape = conv_transpose2d_output_shape(x.shape(), weight.shape(), p, output_padding);
  detail::check_conv_operands(x, weight, bias, y_shape[1], "conv_transpose2d");
  if (x.dtype() != DType::Float32) return conv_transpose2d_reference(x, weight, bias, p, output_padding);
  Tensor y = conv2d_backward_data(x, weight, y_shape, transposed_as_conv(p, output_padding));
  if (bias.defined()) {
    const Tensor bc = raw::contiguous(bias);
    const float* pb = bc.data<float>();
    float* py = y.data<float>();
    const std::int64_t N = y_shape[0], O = y_shape[1], plane = y_shape[2] * y_shape[3];
#pragma omp parallel for schedule(static) if (y.numel() >= kParallelGrain)
    for (std::int64_t no = 0; no < N * O; ++no) {
      float* out = py + no * plane;
      const float b = pb[no % O];
      for (std::int64_t k = 0; k < plane; ++k) out[k] += b;
    }
  }
  return y;
}

}  // namespace vigil::kernels
