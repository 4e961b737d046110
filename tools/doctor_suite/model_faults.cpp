// Model faults: sound data, loss and optimiser; the network's structure or initialisation is wrong.
#include "suite.hpp"

namespace vigil::doctor_suite {

namespace {

std::shared_ptr<nn::Sequential> fashion_mlp(Generator& gen) { return mlp({784, 128, 10}, gen, true); }

// A regression task: 8 standardised features, target 50 + 15 <w, x> (a score in about [0, 100]).
Arrays scores(std::int64_t n, std::uint64_t seed) {
  Generator task(29), gen(seed);
  std::vector<float> w(8);
  for (float& v : w) v = task.normal() / 2.8f;
  Tensor x = empty(Shape{n, 8}), y = empty(Shape{n, 1});
  float* px = x.data<float>();
  float* py = y.data<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    float dot = 0;
    for (std::int64_t j = 0; j < 8; ++j) dot += w[static_cast<std::size_t>(j)] * (px[i * 8 + j] = gen.normal());
    py[i] = 50.0f + 15.0f * dot;
  }
  return {x, y};
}

Case missing_nonlinearity() {
  return {"model_missing_nonlinearity", Category::model,
          "three Linear layers stacked without an activation between them: the network is one linear map",
          {"model.missing_nonlinearity"}, true, [](std::uint64_t seed) {
            Generator gen(seed);
            auto model = std::make_shared<nn::Sequential>();
            model->push_back(std::make_shared<nn::Flatten>());
            model->push_back(std::make_shared<nn::Linear>(784, 256, gen));
            model->push_back(std::make_shared<nn::Linear>(256, 128, gen));
            model->push_back(std::make_shared<nn::Linear>(128, 10, gen));
            return classifier(model, fashion_train(1024), fashion_validation(), 1e-3, seed);
          }};
}

Case softmax_into_cross_entropy() {
  return {"model_softmax_into_cross_entropy", Category::model,
          "the model ends in Softmax and the loss is cross_entropy, which applies log-softmax again",
          {"model.softmax_into_cross_entropy"}, true, [](std::uint64_t seed) {
            Generator gen(seed);
            auto model = fashion_mlp(gen);
            model->push_back(std::make_shared<nn::Softmax>(1));
            return classifier(model, fashion_train(1024), fashion_validation(), 1e-3, seed);
          }};
}

Case relu_on_logits() {
  return {"model_relu_on_logits", Category::model,
          "a ReLU after the last Linear: negative logits are clipped to 0 and their units get no gradient",
          {"model.activation_on_logits"}, false, [](std::uint64_t seed) {
            Generator gen(seed);
            auto model = fashion_mlp(gen);
            model->push_back(std::make_shared<nn::ReLU>());
            return classifier(model, fashion_train(1024), fashion_validation(), 1e-3, seed);
          }};
}

Case sigmoid_output_range() {
  return {"model_sigmoid_output_range", Category::model,
          "a regression head ends in Sigmoid (outputs in (0, 1)) while the targets are scores around 0-100",
          {"model.output_range"}, false, [](std::uint64_t seed) {
            Generator gen(seed);
            auto model = mlp({8, 32, 1}, gen, false);
            model->push_back(std::make_shared<nn::Sigmoid>());
            Built b;
            b.model = model;
            b.loss = mse();
            b.optimizer = std::make_unique<optim::Adam>(optim::named_parameters(*model), optim::AdamOptions{.lr = 1e-3});
            b.train = make_loader(scores(1024, seed), 64, true, seed);
            b.validation = make_loader(scores(256, seed + 1), 256, false, seed);
            return b;
          }};
}

Case mse_on_class_indices() {
  return {"model_mse_on_class_indices", Category::model,
          "Fashion-MNIST's 10 classes regressed as the numbers 0..9 with MSE through a width-1 output",
          {"model.regression_on_class_indices"}, false, [](std::uint64_t seed) {
            Generator gen(seed);
            auto model = mlp({784, 128, 1}, gen, true);
            auto as_numbers = [](Arrays a) {
              a.y = raw::reshape(raw::to_dtype(a.y, DType::Float32), Shape{a.y.size(0), 1});
              return a;
            };
            Built b;
            b.model = model;
            b.loss = mse();
            b.optimizer = std::make_unique<optim::Adam>(optim::named_parameters(*model), optim::AdamOptions{.lr = 1e-3});
            b.train = make_loader(as_numbers(fashion_train(1024)), 64, true, seed);
            b.validation = make_loader(as_numbers(fashion_validation()), 256, false, seed);
            return b;
          }};
}

Case heavy_dropout() {
  return {"model_heavy_dropout", Category::model,
          "Dropout(0.9) on the hidden layer (meant as a keep probability): 90% of the units are dropped",
          {"model.heavy_dropout"}, false, [](std::uint64_t seed) {
            Generator gen(seed);
            auto model = std::make_shared<nn::Sequential>();
            model->push_back(std::make_shared<nn::Flatten>());
            model->push_back(std::make_shared<nn::Linear>(784, 128, gen));
            model->push_back(std::make_shared<nn::ReLU>());
            model->push_back(std::make_shared<nn::Dropout>(0.9, gen));
            model->push_back(std::make_shared<nn::Linear>(128, 10, gen));
            return classifier(model, fashion_train(1024), fashion_validation(), 1e-3, seed);
          }};
}

Case constant_init() {
  return {"model_constant_init", Category::model,
          "every weight initialised to the same constant 0.01: all hidden units compute and learn the same thing",
          {"probe.symmetric_init"}, false, [](std::uint64_t seed) {
            Generator gen(seed);
            auto model = mlp({784, 128, 64, 10}, gen, true);
            for (auto& [path, p] : model->named_parameters()) nn::init::constant(p, path.ends_with("weight") ? 0.01 : 0.0);
            return classifier(model, fashion_train(1024), fashion_validation(), 1e-3, seed);
          }};
}

Case tiny_init() {
  return {"model_tiny_init", Category::model,
          "a 6-layer tanh MLP initialised with N(0, 0.01^2) whatever the fan-in: the signal shrinks ~9x per layer",
          {"probe.activation_scale", "probe.activation_trend", "train.vanishing_gradients"}, false, [](std::uint64_t seed) {
            Generator gen(seed);
            auto model = std::make_shared<nn::Sequential>();
            model->push_back(std::make_shared<nn::Flatten>());
            std::int64_t in = 784;
            for (int layer = 0; layer < 5; ++layer) {
              model->push_back(std::make_shared<nn::Linear>(in, 128, gen));
              model->push_back(std::make_shared<nn::Tanh>());
              in = 128;
            }
            model->push_back(std::make_shared<nn::Linear>(128, 10, gen));
            for (auto& [path, p] : model->named_parameters()) {
              if (path.ends_with("weight")) nn::init::normal(p, gen, 0.0, 0.01);
              else nn::init::zeros(p);
            }
            return classifier(model, fashion_train(1024), fashion_validation(), 1e-3, seed);
          }};
}

}  // namespace

std::vector<Case> model_cases() {
  return {missing_nonlinearity(), softmax_into_cross_entropy(), relu_on_logits(), sigmoid_output_range(),
          mse_on_class_indices(), heavy_dropout(),              constant_init(),  tiny_init()};
}

}  // namespace vigil::doctor_suite
