#include "vigil/doctor/setup.hpp"

#include <gtest/gtest.h>

#include "vigil/autograd/autograd.hpp"
#include "vigil/data/datasets.hpp"
#include "vigil/nn/nn.hpp"
#include "vigil/optim/adam.hpp"

namespace vigil::doctor {
namespace {

struct Fixture {
  Generator gen{1};
  nn::Sequential model{{std::make_shared<nn::Linear>(4, 8, gen), std::make_shared<nn::Dropout>(0.3, gen),
                        std::make_shared<nn::Linear>(8, 3, gen)}};
  std::unique_ptr<optim::Adam> optimizer;
  std::unique_ptr<data::DataLoader> loader;
  Fixture() {
    optimizer = std::make_unique<optim::Adam>(optim::named_parameters(model), optim::AdamOptions{});
    std::vector<std::int64_t> labels(20);
    for (int i = 0; i < 20; ++i) labels[i] = i % 3;
    auto dataset = std::make_shared<data::TensorDataset>(randn({20, 4}, gen), from_vector_i64(labels, {20}));
    loader = std::make_unique<data::DataLoader>(dataset, data::LoaderOptions{.batch_size = 5});
  }
  Setup setup() { return Setup{model, [](const Tensor& y, const Tensor& t) { return nn::cross_entropy(y, t); }, *optimizer,
                 *loader}; }
};

TEST(InferTask, IntegerTargetsMakeAClassificationWithTheOutputWidth) {
  Fixture f;
  const Task task = infer_task(f.setup());
  EXPECT_TRUE(task.classification);
  EXPECT_EQ(task.num_classes, 3);
  EXPECT_EQ(task.input_shape, (Shape{5, 4}));
  EXPECT_EQ(task.output_shape, (Shape{5, 3}));
}

TEST(StateSnapshot, PutsBackWeightsOptimiserStateGeneratorsAndMode) {
  Fixture f;
  f.model.train();
  const Tensor w0 = clone(f.model.named_parameters()[0].second);
  Generator* dropout_stream = f.model.named_generators()[0].second;
  Generator stream_before = *dropout_stream;
  Generator probe_gen{1};
  {
    StateSnapshot snapshot(f.model, *f.optimizer);
    for (int step = 0; step < 3; ++step) {
      f.optimizer->zero_grad();
      backward(sum(f.model(randn({5, 4}, probe_gen))));
      f.optimizer->step();
    }
    f.model.eval();
  }
  EXPECT_TRUE(f.model.training());
  EXPECT_TRUE(allclose(f.model.named_parameters()[0].second, w0, 0.0, 0.0));
  EXPECT_EQ(f.optimizer->state_dict().params.begin()->second.step, 0);
  EXPECT_EQ(dropout_stream->next_u64(), stream_before.next_u64());  // the dropout stream is rewound
}

}  // namespace
}  // namespace vigil::doctor
