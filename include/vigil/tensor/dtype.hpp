// Element types. Arithmetic is float32, the training type; every kernel also runs in float64 so that gradcheck
// can difference in double precision. Int64 carries indices (argmax, gather) and Bool carries masks
// (comparisons, where). BFloat16 and Int32 are named so that files and APIs have room for them; creating a
// tensor of a type without kernels throws DTypeError at the op that meets it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vigil {

enum class DType : std::uint8_t { Float32, Float64, BFloat16, Int32, Int64, Bool };

constexpr std::size_t dtype_size(DType t) {
  switch (t) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::BFloat16: return 2;
    case DType::Int32: return 4;
    case DType::Int64: return 8;
    case DType::Bool: return 1;
  }
  return 0;
}

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::BFloat16: return "bfloat16";
    case DType::Int32: return "int32";
    case DType::Int64: return "int64";
    case DType::Bool: return "bool";
  }
  return "?";
}

// The C++ type behind a dtype, for typed access: data<float>(), data<std::int64_t>(), data<bool>().
template <class T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() { return DType::Float32; }
template <>
constexpr DType dtype_of<double>() { return DType::Float64; }
template <>
constexpr DType dtype_of<std::int32_t>() { return DType::Int32; }
template <>
constexpr DType dtype_of<std::int64_t>() { return DType::Int64; }
template <>
constexpr DType dtype_of<bool>() { return DType::Bool; }

constexpr bool is_floating(DType t) { return t == DType::Float32 || t == DType::Float64; }

}  // namespace vigil
