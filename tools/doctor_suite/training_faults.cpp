// Loss and optimisation faults: a sound model on sound data, trained the wrong way.
#include "suite.hpp"

namespace vigil::doctor_suite {

namespace {

Built fashion_classifier(std::uint64_t seed, double lr = 1e-3) {
  Generator gen(seed);
  return classifier(mlp({784, 128, 10}, gen, true), fashion_train(1024), fashion_validation(), lr, seed);
}

Case summed_loss() {
  return {"loss_summed_unscaled_lr", Category::loss,
          "cross-entropy summed over the batch (reduction Sum) with SGD at a mean-loss rate of 0.05: steps 64x too big",
          {"optim.summed_loss", "probe.learning_rate"}, true, [](std::uint64_t seed) {
            Built b = fashion_classifier(seed);
            nn::CrossEntropyOptions summed;
            summed.reduction = nn::Reduction::Sum;
            b.loss = cross_entropy(summed);
            b.optimizer = std::make_unique<optim::SGD>(optim::named_parameters(*b.model), optim::SGDOptions{.lr = 0.05});
            return b;
          }};
}

Case lr_too_high() {
  return {"optim_lr_too_high", Category::optimisation,
          "SGD with momentum 0.9 at lr 1.0, ten times the usual 0.1: the loss diverges",
          {"probe.learning_rate", "optim.learning_rate", "train.divergence", "train.non_finite_loss",
           "train.update_ratio_high"},
          false, [](std::uint64_t seed) {
            Built b = fashion_classifier(seed);
            b.optimizer = std::make_unique<optim::SGD>(optim::named_parameters(*b.model),
                                                       optim::SGDOptions{.lr = 1.0, .momentum = 0.9});
            return b;
          }};
}

Case lr_too_low() {
  return {"optim_lr_too_low", Category::optimisation,
          "Adam at lr 1e-7 (a typo for 1e-3): after three epochs the model has barely moved",
          {"optim.learning_rate", "probe.learning_rate", "train.update_ratio_low", "fit.underfitting"}, false,
          [](std::uint64_t seed) { return fashion_classifier(seed, 1e-7); }};
}

Case missing_parameters() {
  return {"optim_missing_parameters", Category::optimisation,
          "the optimiser was built from the head's parameters only: the hidden layer never trains",
          {"optim.missing_parameters"}, true, [](std::uint64_t seed) {
            Built b = fashion_classifier(seed);
            auto& model = static_cast<nn::Sequential&>(*b.model);
            b.optimizer = std::make_unique<optim::Adam>(optim::named_parameters(model[3]), optim::AdamOptions{.lr = 1e-3});
            return b;
          }};
}

Case frozen_layer() {
  return {"optim_frozen_layer", Category::optimisation,
          "fine-tuning code that freezes the first layer (\"1\") reused on a model trained from scratch: the random "
          "first layer stays random",
          {"train.frozen_parameter"}, false,
          [](std::uint64_t seed) {
            Built b = fashion_classifier(seed);
            b.model->freeze("1");
            b.optimizer = std::make_unique<optim::Adam>(optim::named_parameters(*b.model), optim::AdamOptions{.lr = 1e-3});
            return b;
          }};
}

Case regularizer_dominates() {
  return {"optim_regularizer_dominates", Category::optimisation,
          "an L2 penalty with lambda 1 on every weight: the penalty is 15x the data loss and shrinks the weights to 0",
          {"train.regularizer_dominates"}, false,
          [](std::uint64_t seed) {
            Built b = fashion_classifier(seed);
            nn::Module* model = b.model.get();
            b.regularizer = [model] { return nn::l2_penalty(nn::weights_only(*model), 1.0); };
            b.loss = [model](const Tensor& out, const Tensor& y) {
              return add(nn::cross_entropy(out, y), nn::l2_penalty(nn::weights_only(*model), 1.0));
            };
            return b;
          }};
}

}  // namespace

std::vector<Case> training_cases() {
  return {summed_loss(),        lr_too_high(),  lr_too_low(), missing_parameters(),
          frozen_layer(), regularizer_dominates()};
}

}  // namespace vigil::doctor_suite
