// Everything the optim module offers: the optimisers and gradient clipping.
#pragma once

#include <vigil/optim/adadelta.hpp>
#include <vigil/optim/adagrad.hpp>
#include <vigil/optim/adam.hpp>
#include <vigil/optim/clip.hpp>
#include <vigil/optim/optimizer.hpp>
#include <vigil/optim/rmsprop.hpp>
#include <vigil/optim/sgd.hpp>
