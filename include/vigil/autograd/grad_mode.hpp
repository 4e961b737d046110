// Gradient recording on or off, per thread. Recording is on by default; NoGradGuard turns it off for a scope
// (evaluation, optimiser updates), so ops make no nodes and save no tensors.
#pragma once

namespace vigil {

class GradMode {
 public:
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

class NoGradGuard {
 public:
  NoGradGuard() : previous_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace vigil
