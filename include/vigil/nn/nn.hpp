// Everything the nn module offers: Module, the layers and the losses.
#pragma once

#include <vigil/nn/activation.hpp>
#include <vigil/nn/linear.hpp>
#include <vigil/nn/loss.hpp>
#include <vigil/nn/module.hpp>
#include <vigil/nn/sequential.hpp>
