// Everything the nn module offers: Module and the layers.
#pragma once

#include <vigil/nn/activation.hpp>
#include <vigil/nn/linear.hpp>
#include <vigil/nn/module.hpp>
#include <vigil/nn/sequential.hpp>
