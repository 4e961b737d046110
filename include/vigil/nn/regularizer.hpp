// Regularisers: penalty terms added to the loss, and the max-norm constraint applied after each step.
//
// Penalties are differentiable scalars built from recording ops, so backward(loss + penalty) adds their gradient
// to every parameter listed:
//   l1_penalty   lambda * sum_p sum_i |w_i|             d/dw = lambda * sign(w)   (0 at w = 0)
//   l2_penalty   lambda * sum_p sum_i w_i^2             d/dw = 2 lambda w
//   elastic_net  l1 * sum |w| + l2 * sum w^2
// Convention: L2 is lambda * sum w^2, without the 1/2 (the form written in most PyTorch training code, e.g.
// `loss + lam * sum(p.pow(2).sum())`). Its gradient is 2 lambda w, so it equals an optimiser's coupled
// weight_decay = 2 lambda.
// An empty list gives a float32 scalar 0 (no graph). Parameters are not modified.
//
// Which parameters: weights_only() keeps the ones whose last path component is "weight" and that have at least
// 2 dims (a layer's [out, in, ...] matrix or kernel). Biases, and the 1-D per-feature scales of normalisation
// layers (also called "weight" in PyTorch), are left out: penalising them constrains no capacity worth
// constraining and, for norm scales, fights the normalisation.
//
// Max-norm (Srebro et al. 2005; Hinton et al. 2012's dropout recipe, c around 3-4): after every optimiser step,
// each unit's incoming weight vector w_u (a slice along `dim`, dim 0 of a [out, in, ...] weight by default) is
// rescaled to norm c when its Euclidean norm exceeds c:  w_u <- w_u * c / |w_u|  if |w_u| > c.
// As torch.renorm(w, p=2, dim, maxnorm=c) except that the result has norm exactly c (renorm divides by
// |w_u| + 1e-7).
#pragma once

#include <vigil/nn/module.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vigil::nn {

// Requires lambda >= 0 (Error otherwise) and floating parameters.
Tensor l1_penalty(const std::vector<Tensor>& params, double lambda);
Tensor l2_penalty(const std::vector<Tensor>& params, double lambda);
Tensor elastic_net(const std::vector<Tensor>& params, double l1, double l2);

// The parameters of `named_params` (as Module::named_parameters() gives them) that are weights, in order.
std::vector<Tensor> weights_only(const std::vector<std::pair<std::string, Tensor>>& named_params);
std::vector<Tensor> weights_only(const Module& module);

// In place under NoGradGuard: every slice of `weight` along `dim` (norm taken over all other dims) whose norm
// exceeds max_norm is rescaled to norm max_norm; slices within it keep their values bit for bit.
// Requires: a floating weight of at least 1 dim, dim in range (negative counts from the end), max_norm > 0.
// Returns weight.
const Tensor& max_norm_(const Tensor& weight, double max_norm, std::int64_t dim = 0);
// max_norm_ on each tensor, e.g. max_norm_(weights_only(model), 3.0) after opt.step().
void max_norm_(const std::vector<Tensor>& weights, double max_norm, std::int64_t dim = 0);

}  // namespace vigil::nn
