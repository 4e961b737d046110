// plan_walk: the kept/block split of a strided tensor, with mergeable dims merged (see reduce_walk.hpp).
#include "reduce_walk.hpp"

namespace vigil::kernels::detail {

ReductionWalk plan_walk(const Shape& shape, const Strides& strides, const ReductionPlan& plan) {
  ReductionWalk w;
  int previous = -1;  // 0: the last dim taken was kept, 1: reduced, -1: none yet
  for (int d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;  // size-1 dims neither add elements nor break a run
    const bool reduced = plan.reduced[static_cast<std::size_t>(d)];
    Shape& s = reduced ? w.block_shape : w.kept_shape;
    Strides& st = reduced ? w.block_strides : w.kept_strides;
    const int kind = reduced ? 1 : 0;
    if (previous == kind && st[st.size() - 1] == strides[d] * shape[d]) {
      s[s.size() - 1] *= shape[d];
      st[st.size() - 1] = strides[d];
    } else {
      s.push_back(shape[d]);
      st.push_back(strides[d]);
    }
    previous = kind;
  }
  w.outputs = w.kept_shape.numel();
  w.block_size = w.block_shape.numel();
  return w;
}

}  // namespace vigil::kernels::detail
