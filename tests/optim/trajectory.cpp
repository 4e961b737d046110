#include "trajectory.hpp"

#include <fstream>

namespace vigil::testing {

namespace {

nlohmann::json load_document() {
  const std::string path = std::string(VIGIL_GOLDEN_DIR) + "/optim.json";
  std::ifstream in(path);
  if (!in) throw Error("golden file not found: " + path + " (run tools/golden/all.sh)");
  return nlohmann::json::parse(in);
}

const nlohmann::json& document() {
  static const nlohmann::json doc = load_document();
  return doc;
}

optim::WeightDecay weight_decay_kind(const nlohmann::json& c) {
  const std::string kind = c.at("weight_decay_kind");
  return kind == optim::weight_decay_name(optim::WeightDecay::Decoupled) ? optim::WeightDecay::Decoupled
                                                                          : optim::WeightDecay::CoupledL2;
}

std::vector<optim::ParamGroup> groups_of(const nlohmann::json& c, const std::vector<optim::NamedParameter>& params) {
  if (!c.contains("groups")) return {optim::ParamGroup{params, {}, {}}};
  std::vector<optim::ParamGroup> groups;
  for (const auto& g : c.at("groups")) {
    optim::ParamGroup group;
    for (const auto& path : g.at("params")) {
      for (const auto& np : params)
        if (np.path == path.get<std::string>()) group.params.push_back(np);
    }
    if (g.contains("lr")) group.lr = g.at("lr").get<double>();
    if (g.contains("weight_decay")) group.weight_decay = g.at("weight_decay").get<double>();
    groups.push_back(std::move(group));
  }
  return groups;
}

}  // namespace

const GoldenNetwork& golden_network() {
  static const GoldenNetwork net = [] {
    const auto& n = document().at("network");
    GoldenNetwork out{tensor_from_json(n.at("x")), tensor_from_json(n.at("target")), {}};
    for (const auto& path : n.at("order")) {
      const std::string p = path.get<std::string>();
      out.init.push_back({p, tensor_from_json(n.at("params").at(p))});
    }
    return out;
  }();
  return net;
}

const nlohmann::json& golden_optim_cases() { return document().at("cases"); }

std::vector<optim::NamedParameter> fresh_parameters(DType dtype) {
  std::vector<optim::NamedParameter> params;
  for (const auto& np : golden_network().init)
    params.push_back({np.path, raw::to_dtype(np.tensor, dtype).set_requires_grad(true)});
  return params;
}

Tensor network_loss(const std::vector<optim::NamedParameter>& p) {
  const GoldenNetwork& net = golden_network();
  const DType dtype = p[0].tensor.dtype();
  const Tensor x = raw::to_dtype(net.x, dtype), target = raw::to_dtype(net.target, dtype);
  const Tensor h = matmul(x, p[0].tensor) + p[1].tensor;
  const Tensor d = matmul(h, p[2].tensor) + p[3].tensor - target;
  return sum(d * d) / static_cast<double>(x.size(0));
}

std::unique_ptr<optim::Optimizer> make_optimizer(const nlohmann::json& c,
                                                 const std::vector<optim::NamedParameter>& params) {
  const std::string name = c.at("optimizer");
  const nlohmann::json& o = c.at("options");
  auto groups = groups_of(c, params);
  const optim::WeightDecay kind = weight_decay_kind(c);
  if (name == "SGD") {
    return std::make_unique<optim::SGD>(
        std::move(groups), optim::SGDOptions{o.at("lr"), o.value("momentum", 0.0), o.value("dampening", 0.0),
                                             o.value("nesterov", false), o.value("weight_decay", 0.0), kind});
  }
  if (name == "Adagrad") {
    return std::make_unique<optim::Adagrad>(
        std::move(groups),
        optim::AdagradOptions{o.value("lr", 1e-2), o.value("lr_decay", 0.0), o.value("weight_decay", 0.0),
                              o.value("initial_accumulator_value", 0.0), o.value("eps", 1e-10), kind});
  }
  if (name == "Adadelta") {
    return std::make_unique<optim::Adadelta>(
        std::move(groups), optim::AdadeltaOptions{o.value("lr", 1.0), o.value("rho", 0.9), o.value("eps", 1e-6),
                                                  o.value("weight_decay", 0.0), kind});
  }
  if (name == "RMSprop") {
    return std::make_unique<optim::RMSprop>(
        std::move(groups),
        optim::RMSpropOptions{o.value("lr", 1e-2), o.value("alpha", 0.99), o.value("eps", 1e-8),
                              o.value("weight_decay", 0.0), o.value("momentum", 0.0), o.value("centered", false),
                              kind});
  }
  if (name == "Adam") {
    return std::make_unique<optim::Adam>(
        std::move(groups),
        optim::AdamOptions{o.value("lr", 1e-3), o.value("beta1", 0.9), o.value("beta2", 0.999), o.value("eps", 1e-8),
                           o.value("weight_decay", 0.0), o.value("amsgrad", false), kind});
  }
  if (name == "AdamW") {
    return std::make_unique<optim::AdamW>(
        std::move(groups),
        optim::AdamWOptions{o.value("lr", 1e-3), o.value("beta1", 0.9), o.value("beta2", 0.999),
                            o.value("eps", 1e-8), o.value("weight_decay", 1e-2), o.value("amsgrad", false), kind});
  }
  throw Error("unknown optimiser in golden case: " + name);
}

float train_step(optim::Optimizer& opt, const std::vector<optim::NamedParameter>& params, const nlohmann::json& c,
                 double* clip_norm) {
  opt.zero_grad();
  const Tensor loss = network_loss(params);
  backward(loss);
  if (c.contains("clip")) {
    const auto& clip = c.at("clip");
    if (clip.at("kind") == "norm") {
      const auto& q = clip.at("norm_type");
      const double norm_type = q.is_string() ? optim::kInfNorm : q.get<double>();
      const double norm = optim::clip_grad_norm(params, clip.at("max_norm").get<double>(), norm_type);
      if (clip_norm != nullptr) *clip_norm = norm;
    } else {
      optim::clip_grad_value(params, clip.at("value").get<double>());
    }
  }
  opt.step();
  return raw::to_dtype(loss, DType::Float32).item();
}

}  // namespace vigil::testing
