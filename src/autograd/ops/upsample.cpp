// Upsampling: forward through the upsample kernels, backward right below.
#include <vigil/autograd/function.hpp>
#include <vigil/autograd/ops/upsample.hpp>
#include <vigil/kernels/upsample.hpp>

#include <cmath>

namespace vigil {

Tensor upsample2d(const Tensor& x, const UpsampleOptions& options) {
  const bool nearest = options.mode == UpsampleMode::Nearest;
  const char* name = nearest ? "upsample_nearest2d" : "upsample_bilinear2d";
  VIGIL_CHECK(x.dim() == 4, ShapeError, "{}: expected a 4-D input [N, C, H, W], got shape {}", name, x.shape().str());
  const bool by_size = options.size.h != 0 || options.size.w != 0;
  const bool by_scale = options.scale[0] != 0.0 || options.scale[1] != 0.0;
  VIGIL_CHECK(by_size != by_scale, ShapeError,
              "{}: give either an output size or scale factors, not {} (input of shape {})", name,
              by_size ? "both" : "neither", x.shape().str());
  VIGIL_CHECK(!(nearest && options.align_corners), Error, "{}: align_corners applies to bilinear mode only", name);
  VIGIL_CHECK(!by_scale || (options.scale[0] > 0.0 && options.scale[1] > 0.0), ShapeError,
              "{}: scale factors ({}, {}) must be positive (input of shape {})", name, options.scale[0],
              options.scale[1], x.shape().str());
  const std::int64_t out_h = by_size ? options.size.h
                                     : static_cast<std::int64_t>(std::floor(double(x.shape()[2]) * options.scale[0]));
  const std::int64_t out_w = by_size ? options.size.w
                                     : static_cast<std::int64_t>(std::floor(double(x.shape()[3]) * options.scale[1]));
  const double sh = by_scale ? options.scale[0] : 0.0, sw = by_scale ? options.scale[1] : 0.0;
  const bool corners = options.align_corners;
  Tensor out = nearest ? kernels::upsample_nearest2d_forward(x, out_h, out_w, sh, sw)
                       : kernels::upsample_bilinear2d_forward(x, out_h, out_w, corners, sh, sw);
  record<1>(name, out, {&x}, [s = x.shape(), nearest, corners, sh, sw](const Tensor& g, GradInputs& dx) {
    dx[0] = nearest ? kernels::upsample_nearest2d_backward(g, s, sh, sw)
                    : kernels::upsample_bilinear2d_backward(g, s, corners, sh, sw);
  });
  return out;
}

}  // namespace vigil
