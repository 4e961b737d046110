// Post-run analysis of the train/validation curves (see analysis.hpp).
#include "vigil/doctor/analysis.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <optional>

namespace vigil::doctor {

namespace {

constexpr double kOverfitRise = 0.10;       // val loss this far above its minimum ...
constexpr double kOverfitTrainDrop = 0.10;  // ... while train loss fell this much since then
constexpr double kUnderfitLoss = 0.5;       // final train loss >= this times ln(C)
constexpr double kUnderfitAccuracy = 0.5;   // and train accuracy <= chance + this * (1 - chance)
constexpr double kLearnsAccuracy = 0.20;    // train accuracy this far above chance: it learns
constexpr double kLearnsLoss = 0.70;        // or train loss below this times ln(C)
constexpr double kChanceAccuracy = 0.05;    // validation accuracy within this of chance
constexpr double kChanceLoss = 0.95;        // or validation loss above this times ln(C)

// The series of one key, if every epoch has it.
std::optional<std::vector<double>> series(const train::History& history, const std::string& key) {
  std::vector<double> out;
  for (const train::Logs& logs : history.epochs) {
    const auto it = logs.find(key);
    if (it == logs.end() || !std::isfinite(it->second)) return std::nullopt;
    out.push_back(it->second);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::string num(double v) { return fmt::format("{:.3g}", v); }

double epoch_of(const train::History& history, std::size_t i) {
  const auto it = history.epochs[i].find("epoch");
  return it == history.epochs[i].end() ? static_cast<double>(i) : it->second;
}

double excess(double value, double threshold) {
  return value > 0 && threshold > 0 ? std::abs(std::log10(value / threshold)) : 0.0;
}

}  // namespace

void analyze_history(const train::History& history, const Task& task, const Options&, Report& report) {
  const auto loss = series(history, "loss");
  if (!loss) return;
  const auto val_loss = series(history, "val_loss");
  const auto accuracy = series(history, "accuracy");
  const auto val_accuracy = series(history, "val_accuracy");
  const std::size_t last = loss->size() - 1;
  bool overfit = false;

  if (val_loss && val_loss->size() >= 3) {
    const auto min_it = std::min_element(val_loss->begin(), val_loss->end());
    const auto m = static_cast<std::size_t>(min_it - val_loss->begin());
    const double rise = val_loss->back() / *min_it - 1.0;
    const double train_drop = 1.0 - (*loss)[last] / (*loss)[m];
    if (m < last && *min_it > 0 && rise >= kOverfitRise && train_drop >= kOverfitTrainDrop) {
      overfit = true;
      std::string gap;
      if (accuracy && val_accuracy)
        gap = fmt::format("; accuracy {:.3f} on training against {:.3f} on validation", accuracy->back(),
                          val_accuracy->back());
      report.add({.check = "fit.overfitting",
                  .severity = Severity::warning,
                  .cause = Cause::capacity,
                  .where = "",
                  .value = rise,
                  .threshold = kOverfitRise,
                  .explanation = fmt::format("Validation loss was lowest at epoch {} ({}) and rose {:.0f}% by epoch "
                                             "{} ({}) while training loss fell from {} to {}{}: the model is "
                                             "memorising the training set.",
                                             epoch_of(history, m), num(*min_it), 100 * rise,
                                             epoch_of(history, last), num(val_loss->back()), num((*loss)[m]),
                                             num((*loss)[last]), gap),
                  .suggestion = "Use early stopping (keep the epoch-" + num(epoch_of(history, m)) +
                                " weights), get more data or augment it, add dropout or weight decay, or reduce the "
                                "model's size.",
                  .excess = excess(rise, kOverfitRise)});
    }
  }

  if (!task.classification || task.num_classes < 2) return;
  const double chance_loss = std::log(static_cast<double>(task.num_classes));
  const double chance_accuracy = 1.0 / static_cast<double>(task.num_classes);

  const double final_loss = (*loss)[last];
  const bool low_accuracy =
      !accuracy || accuracy->back() <= chance_accuracy + kUnderfitAccuracy * (1.0 - chance_accuracy);
  if (!overfit && final_loss >= kUnderfitLoss * chance_loss && low_accuracy) {
    const bool improving = last >= 1 && final_loss < 0.98 * (*loss)[last - 1];
    std::string acc = accuracy ? fmt::format(", training accuracy {:.3f} (chance {:.3f})", accuracy->back(),
                                             chance_accuracy)
                               : "";
    report.add({.check = "fit.underfitting",
                .severity = Severity::warning,
                .cause = Cause::capacity,
                .where = "",
                .value = final_loss / chance_loss,
                .threshold = kUnderfitLoss,
                .explanation = fmt::format("After epoch {} the training loss is still {}, {:.0f}% of the chance-level "
                                           "loss ln({}) = {}{}{}: the model does not fit even its training data.",
                                           epoch_of(history, last), num(final_loss), 100 * final_loss / chance_loss,
                                           task.num_classes, num(chance_loss), acc,
                                           improving ? ", and it was still falling" : ""),
                .suggestion = improving ? "Train longer (the loss is still falling), then consider a higher "
                                          "learning rate or a larger model."
                                        : "Add capacity (wider or deeper layers), reduce regularisation (dropout, "
                                          "weight decay), train longer or raise the learning rate.",
                .excess = excess(final_loss / chance_loss, kUnderfitLoss)});
  }

  const bool learns = accuracy ? accuracy->back() >= chance_accuracy + kLearnsAccuracy
                               : final_loss <= kLearnsLoss * chance_loss;
  if (!learns) return;
  std::optional<double> value;
  std::string evidence;
  if (val_accuracy) {
    const double best = *std::max_element(val_accuracy->begin(), val_accuracy->end());
    if (best <= chance_accuracy + kChanceAccuracy) {
      value = best;
      evidence = fmt::format("the best validation accuracy was {:.3f}, chance being {:.3f}", best, chance_accuracy);
    }
  } else if (val_loss) {
    const double best = *std::min_element(val_loss->begin(), val_loss->end());
    if (best >= kChanceLoss * chance_loss) {
      value = best;
      evidence = fmt::format("the best validation loss was {}, chance level ln({}) being {}", num(best),
                             task.num_classes, num(chance_loss));
    }
  }
  if (!value) return;
  const std::string train_evidence =
      accuracy ? fmt::format("training accuracy reached {:.3f}", accuracy->back())
               : fmt::format("training loss fell to {}", num(final_loss));
  report.add({.check = "fit.val_at_chance",
              .severity = Severity::error,
              .cause = Cause::data,
              .where = "validation",
              .value = *value,
              .threshold = val_accuracy ? chance_accuracy + kChanceAccuracy : kChanceLoss * chance_loss,
              .explanation = fmt::format("By epoch {} {}, but {}: what the model learns does not transfer to the "
                                         "validation set at all.",
                                         epoch_of(history, last), train_evidence, evidence),
              .suggestion = "Check that validation labels match their inputs (same label map, same order after "
                            "shuffling), that both splits get the same preprocessing, and that the split is not by "
                            "class.",
              .excess = 1.0});
}

}  // namespace vigil::doctor
