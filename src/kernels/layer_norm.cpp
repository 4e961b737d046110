// Layer normalisation, fused forward and backward, and their naive twins. The math is in layer_norm.hpp.
//
// Dims: M rows (the leading dims of x, flattened), N elements per row (the normalised trailing dims).
#include <vigil/kernels/dispatch.hpp>
#include <vigil/kernels/layer_norm.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace vigil::kernels {

namespace {

// A row-major [n] view of an optional per-element parameter (nullptr when undefined).
template <class T>
const T* param_data(const Tensor& p, Tensor& keep) {
  if (!p.defined()) return nullptr;
  keep = raw::contiguous(p);
  return keep.data<T>();
}

void check_rows(const Tensor& x, std::int64_t n, const char* op) {
  VIGIL_CHECK(n > 0 && x.numel() % n == 0, ShapeError, "{}: {} elements per row do not divide input of shape {}", op,
              n, x.shape().str());
}

}  // namespace

LayerNormForward layer_norm_forward(const Tensor& x, std::int64_t n, const Tensor& weight, const Tensor& bias,
                                    double eps) {
  check_rows(x, n, "layer_norm");
  const std::int64_t m = x.numel() / n;
  const Tensor xc = raw::contiguous(x);
  LayerNormForward out{empty(x.shape(), TensorOptions{x.dtype()}), empty(Shape{m}, TensorOptions{DType::Float64}),
                       empty(Shape{m}, TensorOptions{DType::Float64})};
  dispatch_floating(x.dtype(), "layer_norm", [&](auto zero) {
    using T = decltype(zero);
    Tensor wkeep, bkeep;
    const T* w = param_data<T>(weight, wkeep);
    const T* b = param_data<T>(bias, bkeep);
    const T* px = xc.data<T>();
    T* py = out.y.data<T>();
    double* pmean = out.mean.data<double>();
    double* prstd = out.rstd.data<double>();
    const double inv_n = 1.0 / static_cast<double>(n);
#pragma omp parallel for schedule(static) if (m * n >= kParallelGrain)
    for (std::int64_t i = 0; i < m; ++i) {
      const T* row = px + i * n;
      T* yrow = py + i * n;
      double sum = 0.0;
      for (std::int64_t j = 0; j < n; ++j) sum += static_cast<double>(row[j]);
      const double mean = sum * inv_n;
      double sq = 0.0;
      for (std::int64_t j = 0; j < n; ++j) {
        const double d = static_cast<double>(row[j]) - mean;
        sq += d * d;
      }
      const double rstd = 1.0 / std::sqrt(sq * inv_n + eps);
      for (std::int64_t j = 0; j < n; ++j) {
        double v = (static_cast<double>(row[j]) - mean) * rstd;
        if (w) v *= static_cast<double>(w[j]);
        if (b) v += static_cast<double>(b[j]);
        yrow[j] = static_cast<T>(v);
      }
      pmean[i] = mean;
      prstd[i] = rstd;
    }
  });
  return out;
}

LayerNormForward layer_norm_forward_reference(const Tensor& x, std::int64_t n, const Tensor& weight,
                                              const Tensor& bias, double eps) {
  check_rows(x, n, "layer_norm_reference");
  const std::int64_t m = x.numel() / n;
  // Every value in double, row-major; each statistic a separate pass over the whole tensor.
  const Tensor xd = raw::contiguous(raw::to_dtype(x, DType::Float64));
  const double* px = xd.data<double>();
  std::vector<double> mean(static_cast<std::size_t>(m), 0.0), var(static_cast<std::size_t>(m), 0.0);
  for (std::int64_t k = 0; k < m * n; ++k) mean[k / n] += px[k];
  for (double& v : mean) v /= static_cast<double>(n);
  for (std::int64_t k = 0; k < m * n; ++k) var[k / n] += (px[k] - mean[k / n]) * (px[k] - mean[k / n]);
  const Tensor wd = weight.defined() ? raw::contiguous(raw::to_dtype(weight, DType::Float64)) : Tensor();
  const Tensor bd = bias.defined() ? raw::contiguous(raw::to_dtype(bias, DType::Float64)) : Tensor();
  Tensor y = empty(x.shape(), TensorOptions{DType::Float64});
  Tensor mean_t = empty(Shape{m}, TensorOptions{DType::Float64});
  Tensor rstd_t = empty(Shape{m}, TensorOptions{DType::Float64});
  double* py = y.data<double>();
  for (std::int64_t i = 0; i < m; ++i) {
    mean_t.data<double>()[i] = mean[i];
    rstd_t.data<double>()[i] = 1.0 / std::sqrt(var[i] / static_cast<double>(n) + eps);
  }
  for (std::int64_t k = 0; k < m * n; ++k) {
    const std::int64_t i = k / n, j = k % n;
    double v = (px[k] - mean[i]) * rstd_t.data<double>()[i];
    if (wd.defined()) v *= wd.data<double>()[j];
    if (bd.defined()) v += bd.data<double>()[j];
    py[k] = v;
  }
  return {x.dtype() == DType::Float64 ? y : raw::to_dtype(y, x.dtype()), mean_t, rstd_t};
}

LayerNormGrads layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                   const Tensor& weight, std::int64_t n, bool need_dx, bool need_dparams) {
  check_rows(x, n, "layer_norm backward");
  const std::int64_t m = x.numel() / n;
  const Tensor xc = raw::contiguous(x);
  const Tensor gc = raw::contiguous(dy);
  LayerNormGrads grads;
  dispatch_floating(x.dtype(), "layer_norm backward", [&](auto zero) {
    using T = decltype(zero);
    Tensor wkeep;
    const T* w = param_data<T>(weight, wkeep);
    const T* px = xc.data<T>();
    const T* pg = gc.data<T>();
    const double* pmean = mean.data<double>();
    const double* prstd = rstd.data<double>();
    const bool parallel = m * n >= kParallelGrain;
    if (need_dx) {
      grads.dx = empty(x.shape(), TensorOptions{x.dtype()});
      T* pdx = grads.dx.data<T>();
      const double inv_n = 1.0 / static_cast<double>(n);
#pragma omp parallel for schedule(static) if (parallel)
      for (std::int64_t i = 0; i < m; ++i) {
        const T* row = px + i * n;
        const T* grow = pg + i * n;
        const double mu = pmean[i], r = prstd[i];
        // <dxhat> and <dxhat * xhat> over the row.
        double sum_dxhat = 0.0, sum_dxhat_xhat = 0.0;
        for (std::int64_t j = 0; j < n; ++j) {
          const double dxhat = static_cast<double>(grow[j]) * (w ? static_cast<double>(w[j]) : 1.0);
          sum_dxhat += dxhat;
          sum_dxhat_xhat += dxhat * (static_cast<double>(row[j]) - mu) * r;
        }
        const double a = sum_dxhat * inv_n, c = sum_dxhat_xhat * inv_n;
        for (std::int64_t j = 0; j < n; ++j) {
          const double dxhat = static_cast<double>(grow[j]) * (w ? static_cast<double>(w[j]) : 1.0);
          const double xhat = (static_cast<double>(row[j]) - mu) * r;
          pdx[i * n + j] = static_cast<T>(r * (dxhat - a - xhat * c));
        }
      }
    }
    if (need_dparams) {
      grads.dweight = empty(Shape{n}, TensorOptions{x.dtype()});
      grads.dbias = empty(Shape{n}, TensorOptions{x.dtype()});
      T* pdw = grads.dweight.data<T>();
      T* pdb = grads.dbias.data<T>();
      // Column sums over the rows, kBlock columns per task: a task walks the rows reading kBlock consecutive
      // elements of each (cache-friendly), and every column is folded by one thread in row order, so the result
      // does not depend on the thread count.
      constexpr std::int64_t kBlock = 64;
      const std::int64_t blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static) if (parallel)
      for (std::int64_t blk = 0; blk < blocks; ++blk) {
        const std::int64_t j0 = blk * kBlock, width = std::min(kBlock, n - j0);
        double dw[kBlock] = {}, db[kBlock] = {};
        for (std::int64_t i = 0; i < m; ++i) {
          const T* grow = pg + i * n + j0;
          const T* row = px + i * n + j0;
          for (std::int64_t j = 0; j < width; ++j) {
            const double g = static_cast<double>(grow[j]);
            dw[j] += g * (static_cast<double>(row[j]) - pmean[i]) * prstd[i];
            db[j] += g;
          }
        }
        for (std::int64_t j = 0; j < width; ++j) {
          pdw[j0 + j] = static_cast<T>(dw[j]);
          pdb[j0 + j] = static_cast<T>(db[j]);
        }
      }
    }
  });
  return grads;
}

LayerNormGrads layer_norm_backward_reference(const Tensor& dy, const Tensor& x, const Tensor& mean,
                                             const Tensor& rstd, const Tensor& weight, std::int64_t n, bool need_dx,
                                             bool need_dparams) {
  check_rows(x, n, "layer_norm backward reference");
  const std::int64_t m = x.numel() / n;
  const Tensor xd = raw::contiguous(raw::to_dtype(x, DType::Float64));
  const Tensor gd = raw::contiguous(raw::to_dtype(dy, DType::Float64));
  const Tensor wd = weight.defined() ? raw::contiguous(raw::to_dtype(weight, DType::Float64)) : Tensor();
  const double *px = xd.data<double>(), *pg = gd.data<double>();
  const double *pmean = mean.data<double>(), *prstd = rstd.data<double>();
  auto xhat = [&](std::int64_t i, std::int64_t j) { return (px[i * n + j] - pmean[i]) * prstd[i]; };
  auto gamma = [&](std::int64_t j) { return wd.defined() ? wd.data<double>()[j] : 1.0; };
  LayerNormGrads grads;
  const double count = static_cast<double>(n);
  if (need_dx) {
    Tensor dx = zeros(x.shape(), TensorOptions{DType::Float64});
    double* pdx = dx.data<double>();
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t k = 0; k < n; ++k) {      // input element x_ik
        for (std::int64_t j = 0; j < n; ++j) {    // output element y_ij
          const double jacobian = prstd[i] * ((j == k ? 1.0 : 0.0) - 1.0 / count - xhat(i, k) * xhat(i, j) / count);
          pdx[i * n + k] += pg[i * n + j] * gamma(j) * jacobian;
        }
      }
    }
    grads.dx = x.dtype() == DType::Float64 ? dx : raw::to_dtype(dx, x.dtype());
  }
  if (need_dparams) {
    Tensor dw = zeros(Shape{n}, TensorOptions{DType::Float64});
    Tensor db = zeros(Shape{n}, TensorOptions{DType::Float64});
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        dw.data<double>()[j] += pg[i * n + j] * xhat(i, j);
        db.data<double>()[j] += pg[i * n + j];
      }
    }
    grads.dweight = x.dtype() == DType::Float64 ? dw : raw::to_dtype(dw, x.dtype());
    grads.dbias = x.dtype() == DType::Float64 ? db : raw::to_dtype(db, x.dtype());
  }
  return grads;
}

}  // namespace vigil::kernels
