// Generator: the only source of randomness in vigil. Nothing reads a hidden global; every function that draws
// random numbers takes a Generator&, so a seed reproduces every value and a run's state can be saved.
//
// Engine: xoshiro256** (Blackman & Vigna), seeded through splitmix64. Normals by the Box-Muller transform, both
// values used. Own distributions (not <random>'s, whose algorithms vary between standard libraries).
#pragma once

#include <array>
#include <cstdint>

namespace vigil {

class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0) { manual_seed(seed); }
  void manual_seed(std::uint64_t seed);

  std::uint64_t next_u64();
  // Uniform in [0, 1) with 24 random bits (every float32 in that grid equally likely).
  float uniform();
  // Uniform in [0, 1) with 53 random bits.
  double uniform_double();
  // Standard normal.
  float normal();
  // Uniform integer in [0, n), unbiased (rejection sampling).
  std::uint64_t below(std::uint64_t n);

  // A new generator whose stream is independent of this one's (for worker threads), derived deterministically.
  Generator split();

  struct State {
    std::array<std::uint64_t, 4> s{};
    bool has_spare_normal = false;
    float spare_normal = 0.0f;
    friend bool operator==(const State&, const State&) = default;
  };
  State state() const { return state_; }
  void set_state(const State& s) { state_ = s; }

 private:
  State state_;
};

}  // namespace vigil
