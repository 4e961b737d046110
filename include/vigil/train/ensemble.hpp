// Ensembles and Monte-Carlo dropout: predictions with a measure of how sure the model is.
//
// Both draw several predictive distributions p_t(c | x) per sample, t = 1..T (the T members of an ensemble, or T
// stochastic passes of one network with dropout on), each the softmax of a model's logits, and summarise them:
//   mean[n, c]             = (1/T) sum_t p_t[n, c]                      the prediction (average the probabilities,
//                                                                       not the logits: Lakshminarayanan et al. 2017)
//   std[n, c]              = sqrt((1/T) sum_t (p_t[n, c] - mean[n, c])^2)   the spread (population std, divide by T)
//   entropy[n]             = -sum_c mean[n, c] log mean[n, c]          total uncertainty (nats; 0 log 0 = 0)
//   mutual_information[n]  = entropy[n] - (1/T) sum_t H(p_t[n, :])    the part due to disagreement between the
//                                                                       draws (epistemic; the "BALD" score of
//                                                                       Houlsby et al. 2011), >= 0 by Jensen
//                                                                       (clamped at 0 against rounding)
// All sums run in float64, on the draws' differences from the first draw, so identical draws give exactly that
// draw as the mean and exactly 0 as the spread; the results come back in the dtype of the models' outputs.
//
// MC dropout (Gal & Ghahramani, 2016) keeps every layer in eval mode (batch norm uses its running statistics)
// EXCEPT the dropout layers (nn::Dropout, GaussianDropout, AlphaDropout, DropConnect), which sample fresh noise
// on each pass from their own generators. Those generators advance, so two calls give different draws, and a
// checkpoint saved after a call differs from one saved before it.
#pragma once

#include <vigil/data/loader.hpp>
#include <vigil/nn/module.hpp>

#include <cstdint>
#include <vector>

namespace vigil::train {

// N samples, C classes; T draws per sample.
struct UncertainPrediction {
  Tensor mean;                // [N, C] mean class probabilities; each row sums to 1
  Tensor std;                 // [N, C] spread of the T draws' probabilities around the mean
  Tensor entropy;             // [N] entropy of `mean`
  Tensor mutual_information;  // [N] entropy minus the mean entropy of the draws
};

// The softmax probabilities of every model over one pass of `loader` (each model in eval mode under
// NoGradGuard, its mode restored afterwards, as predict()), averaged. Requires at least one model, each giving
// logits [N, C] with the same N and C (ShapeError naming the model's position and both shapes otherwise), and a
// loader that yields a batch (Error). `epoch` picks the loader's epoch, as for predict().
UncertainPrediction ensemble_predict(const std::vector<nn::Module*>& models, const data::DataLoader& loader,
                                     std::int64_t epoch = 0);

// `passes` forward passes of every batch of one pass of `loader` under NoGradGuard, with the model in eval mode
// but its dropout layers in training mode; each module's mode is restored afterwards (also when an error leaves
// it). Batch by batch, the T = passes draws of one batch run back to back, so the loader runs only once.
// Requires passes >= 1 (Error), logits [B, C] (ShapeError) and a loader that yields a batch (Error). A model
// without dropout layers gives T identical draws: std exactly 0, mutual_information 0 up to rounding.
UncertainPrediction mc_dropout_predict(nn::Module& model, const data::DataLoader& loader, std::int64_t passes,
                                       std::int64_t epoch = 0);

// The modules of `model` that are dropout layers (by type: Dropout, GaussianDropout, AlphaDropout, DropConnect),
// in named_modules() order.
std::vector<nn::Module*> dropout_modules(nn::Module& model);

}  // namespace vigil::train
