// Everything the autograd module offers: the tape, gradcheck and the differentiable ops.
#pragma once

#include <vigil/autograd/anomaly.hpp>
#include <vigil/autograd/backward.hpp>
#include <vigil/autograd/gradcheck.hpp>
#include <vigil/autograd/grad_mode.hpp>
#include <vigil/autograd/ops/activation.hpp>
#include <vigil/autograd/ops/arith.hpp>
#include <vigil/autograd/ops/batch_norm.hpp>
#include <vigil/autograd/ops/conv.hpp>
#include <vigil/autograd/ops/indexing.hpp>
#include <vigil/autograd/ops/join.hpp>
#include <vigil/autograd/ops/linalg.hpp>
#include <vigil/autograd/ops/pool.hpp>
#include <vigil/autograd/ops/reduce.hpp>
#include <vigil/autograd/ops/shape.hpp>
#include <vigil/autograd/ops/unary.hpp>
#include <vigil/autograd/ops/upsample.hpp>
#include <vigil/tensor/generator.hpp>
#include <vigil/tensor/tensor.hpp>
