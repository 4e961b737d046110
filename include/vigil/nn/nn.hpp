// Everything the nn module offers: Module, the layers, blocks and model zoo, losses, initialisers, regularisers
// and summaries.
#pragma once

#include <vigil/nn/activation.hpp>
#include <vigil/nn/batch_norm.hpp>
#include <vigil/nn/blocks.hpp>
#include <vigil/nn/container.hpp>
#include <vigil/nn/conv.hpp>
#include <vigil/nn/dropout.hpp>
#include <vigil/nn/embedding.hpp>
#include <vigil/nn/flatten.hpp>
#include <vigil/nn/init.hpp>
#include <vigil/nn/linear.hpp>
#include <vigil/nn/loss.hpp>
#include <vigil/nn/module.hpp>
#include <vigil/nn/normalization.hpp>
#include <vigil/nn/pooling.hpp>
#include <vigil/nn/regularizer.hpp>
#include <vigil/nn/sequential.hpp>
#include <vigil/nn/spatial_dropout.hpp>
#include <vigil/nn/summary.hpp>
#include <vigil/nn/zoo.hpp>
