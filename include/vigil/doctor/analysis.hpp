#pragma once
// Post-run analysis of fit()'s History: over- and underfitting, and a validation set that learns nothing while
// training does.
//
// Keys read (as fit() writes them): "loss", "val_loss", "accuracy", "val_accuracy". Missing keys skip the checks
// that need them.
//
// Check ids (all fit.*), each with the epoch as evidence and the standard recipe as advice:
//   fit.overfitting    validation loss rose at least 10% above its minimum while the training loss kept falling
//                      (by at least 10% since that minimum). A healthy run, whose validation loss sits slightly
//                      above the training loss, and an early-stopped run, whose validation loss turned up by a few
//                      percent before stopping, stay below both thresholds.
//   fit.underfitting   classification only: the final training loss is still at least half the chance-level loss
//                      ln(C) (and, when recorded, training accuracy at most halfway from chance to 1). Judged at
//                      the last epoch, so a loss that plateaued and then dropped is fine; a label-smoothed loss
//                      floor (about 0.5 for 10 classes at 0.1 smoothing) lies well below ln(C) / 2. Regression has
//                      no chance level to compare with, so it is not judged.
//   fit.val_at_chance  classification: training learns (accuracy 20 points above chance, or loss below 70% of
//                      ln C) while validation never leaves chance (best accuracy within 5 points of 1/C, or best
//                      loss above 95% of ln C): validation labels or the split are wrong.
#include "vigil/doctor/finding.hpp"
#include "vigil/doctor/setup.hpp"
#include "vigil/train/fit.hpp"

namespace vigil::doctor {

void analyze_history(const train::History& history, const Task& task, const Options& options, Report& report);

}  // namespace vigil::doctor
