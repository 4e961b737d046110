#include <vigil/tensor/generator.hpp>

#include <cmath>
#include <numbers>

namespace vigil {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

void Generator::manual_seed(std::uint64_t seed) {
  state_ = State{};
  for (auto& word : state_.s) word = splitmix64(seed);
}

std::uint64_t Generator::next_u64() {
  auto& s = state_.s;
  const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
  const std::uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

float Generator::uniform() { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }

double Generator::uniform_double() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

float Generator::normal() {
  if (state_.has_spare_normal) {
    state_.has_spare_normal = false;
    return state_.spare_normal;
  }
  // Box-Muller: u1 in (0, 1] so the log is finite.
  const double u1 = 1.0 - uniform_double(), u2 = uniform_double();
  const double r = std::sqrt(-2.0 * std::log(u1)), theta = 2.0 * std::numbers::pi * u2;
  state_.spare_normal = static_cast<float>(r * std::sin(theta));
  state_.has_spare_normal = true;
  return static_cast<float>(r * std::cos(theta));
}

std::uint64_t Generator::below(std::uint64_t n) {
  if (n <= 1) return 0;
  const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % n);  // reject the biased tail
  std::uint64_t x;
  do x = next_u64();
  while (x >= limit);
  return x % n;
}

Generator Generator::split() {
  Generator child;
  std::uint64_t seed = next_u64();
  for (auto& word : child.state_.s) word = splitmix64(seed);
  return child;
}

}  // namespace vigil
