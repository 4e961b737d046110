// Optimiser state by parameter path: save/restore round trips and the errors a state that does not fit gives.
#include "trajectory.hpp"

namespace vigil::testing {
namespace {

const nlohmann::json& golden_case(const std::string& name) {
  for (const auto& c : golden_optim_cases())
    if (c.at("name") == name) return c;
  throw Error("no golden optim case " + name);
}

// Steps first..last of a golden case (its clipping and lr change included).
void run_steps(optim::Optimizer& opt, const std::vector<optim::NamedParameter>& params, const nlohmann::json& c,
               int first, int last) {
  for (int step = first; step <= last; ++step) {
    train_step(opt, params, c);
    const auto& change = c.value("lr_change", nlohmann::json());
    if (!change.is_null() && step == change.at("after_step").get<int>()) opt.set_lr(change.at("lr").get<double>());
  }
}

// Saving after 20 steps, restoring into a fresh optimiser over fresh parameters holding the saved values, and
// running 30 more steps gives bit-for-bit what the uninterrupted 50-step run gives. The uninterrupted run keeps
// stepping after state_dict(), so this also checks that the state dict is a copy, not a view of live state.
TEST(OptimStateDict, RestoredRunContinuesBitForBit) {
  for (const char* name : {"sgd_dampening", "sgd_nesterov", "sgd_lr_change", "adagrad_lr_decay_wd",
                           "adadelta_rho_eps_wd", "rmsprop_centered_momentum", "rmsprop_decoupled_wd", "adam_amsgrad",
                           "adam_coupled_wd", "adamw_groups", "adam_clip_value"}) {
    SCOPED_TRACE(name);
    const nlohmann::json& c = golden_case(name);
    const auto params = fresh_parameters();
    auto opt = make_optimizer(c, params);
    run_steps(*opt, params, c, 1, 20);
    const optim::StateDict saved = opt->state_dict();
    std::vector<Tensor> saved_values;
    for (const auto& np : params) saved_values.push_back(raw::clone(np.tensor));
    run_steps(*opt, params, c, 21, 50);

    auto resumed_params = fresh_parameters();
    for (std::size_t i = 0; i < params.size(); ++i) raw::copy_(resumed_params[i].tensor, saved_values[i]);
    auto resumed = make_optimizer(c, resumed_params);
    resumed->load_state_dict(saved);
    EXPECT_EQ(resumed->state("fc1.weight").step, 20);
    run_steps(*resumed, resumed_params, c, 21, 50);

    for (std::size_t i = 0; i < params.size(); ++i)
      EXPECT_EQ(resumed_params[i].tensor.to_vector(), params[i].tensor.to_vector()) << params[i].path;
    const optim::StateDict a = opt->state_dict(), b = resumed->state_dict();
    for (const auto& [path, st] : a.params) {
      EXPECT_EQ(b.params.at(path).step, st.step) << path;
      for (const auto& [buffer, t] : st.buffers)
        EXPECT_EQ(b.params.at(path).buffers.at(buffer).to_vector(), t.to_vector()) << path << " " << buffer;
    }
    EXPECT_EQ(a.lr, b.lr);
  }
}

TEST(OptimStateDict, HoldsEveryPathTheLearningRatesAndTheNamedBuffers) {
  const auto params = fresh_parameters();
  optim::Adam opt(params, optim::AdamOptions{.lr = 0.01, .amsgrad = true});
  const optim::StateDict before = opt.state_dict();
  EXPECT_EQ(before.optimizer, "Adam");
  EXPECT_EQ(before.lr, std::vector<double>{0.01});
  ASSERT_EQ(before.params.size(), 4u);
  for (const auto& np : params) {
    const optim::ParamState& st = before.params.at(np.path);
    EXPECT_EQ(st.step, 0);
    ASSERT_EQ(st.buffers.size(), 3u);
    for (const char* buffer : {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"})
      EXPECT_EQ(st.buffers.at(buffer).shape(), np.tensor.shape()) << np.path << " " << buffer;
  }
  EXPECT_EQ(optim::SGD(params, {.lr = 0.1}).state_dict().params.at("fc1.bias").buffers.size(), 0u);
  EXPECT_EQ(optim::SGD(params, {.lr = 0.1, .momentum = 0.9}).state_dict().params.at("fc1.bias").buffers.count(
                "momentum_buffer"),
            1u);
}

// Expects `load` to throw E whose message contains every one of `parts`.
template <class E, class F>
void expect_load_error(F load, std::initializer_list<const char*> parts) {
  try {
    load();
    ADD_FAILURE() << "expected an error";
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const char* part : parts) EXPECT_NE(msg.find(part), std::string::npos) << msg;
  }
}

TEST(OptimStateDictErrors, NameThePathAndBufferAndLeaveTheStateUnchanged) {
  const auto params = fresh_parameters();
  optim::Adam opt(params, optim::AdamOptions{.lr = 0.01});
  const nlohmann::json& c = golden_case("adam_plain");
  run_steps(opt, params, c, 1, 3);
  const optim::StateDict good = opt.state_dict();

  optim::StateDict missing = good;
  missing.params.erase("fc2.bias");
  expect_load_error<Error>([&] { opt.load_state_dict(missing); }, {"no state", "'fc2.bias'"});

  optim::StateDict wrong_shape = good;
  wrong_shape.params.at("fc1.weight").buffers.at("exp_avg") = zeros({8, 5});
  expect_load_error<ShapeError>([&] { opt.load_state_dict(wrong_shape); },
                                {"'exp_avg'", "'fc1.weight'", "[8, 5]", "[5, 8]"});

  optim::StateDict missing_buffer = good;
  missing_buffer.params.at("fc1.bias").buffers.erase("exp_avg_sq");
  missing_buffer.params.at("fc1.bias").buffers.emplace("momentum_buffer", zeros({8}));
  expect_load_error<Error>([&] { opt.load_state_dict(missing_buffer); }, {"'fc1.bias'", "'exp_avg_sq'"});

  optim::StateDict wrong_dtype = good;
  wrong_dtype.params.at("fc2.bias").buffers.at("exp_avg") = zeros({3}, TensorOptions{DType::Float64});
  expect_load_error<DTypeError>([&] { opt.load_state_dict(wrong_dtype); }, {"'fc2.bias'", "float64"});

  optim::StateDict unknown = good;
  unknown.params.emplace("fc3.weight", optim::ParamState{});
  expect_load_error<Error>([&] { opt.load_state_dict(unknown); }, {"unknown parameter", "'fc3.weight'"});

  optim::StateDict other = good;
  other.optimizer = "SGD";
  expect_load_error<Error>([&] { opt.load_state_dict(other); }, {"Adam", "'SGD'"});

  optim::StateDict groups = good;
  groups.lr.push_back(0.1);
  expect_load_error<Error>([&] { opt.load_state_dict(groups); }, {"parameter groups"});

  // None of the failed loads changed anything: the state is still the one saved after 3 steps.
  const optim::StateDict after = opt.state_dict();
  for (const auto& [path, st] : good.params) {
    EXPECT_EQ(after.params.at(path).step, 3) << path;
    for (const auto& [buffer, t] : st.buffers)
      EXPECT_EQ(after.params.at(path).buffers.at(buffer).to_vector(), t.to_vector()) << path << " " << buffer;
  }
}

}  // namespace
}  // namespace vigil::testing
