// The 2x2, stride-2 max-pooling tournament over one pair of input rows, shared by max_pool2d's fast path and the
// fused batch norm + ReLU + pooling kernel (batch_norm.cpp), so that both pick the same winner bit for bit.
//
// Window (oh, ow) reads r0[2 ow], r0[2 ow + 1] / r1[2 ow], r1[2 ow + 1], named a b / c d. Each window is a
// tournament: a against b and c against d, then the two winners, the later candidate taking over when greater or
// NaN. That picks what a row-major scan keeping the first maximum (or the last NaN) picks: PyTorch's argmax. It runs
// without branches: the winner is data, and a branch on it mispredicts about every other time (2x2 pooling of
// 128x32x28x28 on one thread: 20.7 ms with branches, about 10 ms branch-free scalar, about 2.5 ms with SSE).
//
// Outputs y[ow] (the maximum) and code[ow], the winner's place in its window: bit 0 its column, bit 1 its row; with
// mark_not_positive, bit 2 is set where y is not positive (a ReLU before the pooling passes that window no gradient).
// route_2x2_row is the backward: each dy[ow] back to its window's winner.
//
// Builds: scalar for any T and SSE4.1 for float (x86-64-v2, vigil's baseline: 4 windows per step); the tournament
// also for AVX-512 (16 windows per step, the row's end through masked loads and stores), which the caller picks at
// run time (vigil/kernels/isa.hpp). All pick the same winners and write the same bits.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include <vigil/kernels/branch_free.hpp>
#include <vigil/kernels/isa.hpp>

#if defined(__SSE4_1__)
#include <immintrin.h>
#endif

namespace vigil::kernels::detail {

// Any floating T, scalar, branch-free (vigil/kernels/branch_free.hpp).
template <class T>
void max_pool_2x2_row(const T* r0, const T* r1, std::int64_t OW, T* y, std::uint8_t* code,
                      bool mark_not_positive = false) {
  // The winner of `earlier` against `later`; take: whether later won.
  const auto match = [](T earlier, T later, bool& take) {
    take = (later > earlier) | (later != later);
    return select(take, later, earlier);
  };
  for (std::int64_t ow = 0; ow < OW; ++ow) {
    bool take_b, take_d, take_bottom;
    const T top = match(r0[2 * ow], r0[2 * ow + 1], take_b);
    const T bottom = match(r1[2 * ow], r1[2 * ow + 1], take_d);
    y[ow] = match(top, bottom, take_bottom);
    const unsigned top_at = take_b, bottom_at = 2u | static_cast<unsigned>(take_d);
    const unsigned not_positive = mark_not_positive && !(y[ow] > T(0));
    code[ow] = static_cast<std::uint8_t>((take_bottom ? bottom_at : top_at) | (not_positive << 2));
  }
}

#if defined(__SSE4_1__)
// float32 with SSE4.1 (which x86-64-v2, vigil's baseline, guarantees), four windows per step; GCC does not vectorise
// the stride-2 loads itself. The last OW % 4 windows go through the scalar loop, which picks the same winners.
inline void max_pool_2x2_row(const float* r0, const float* r1, std::int64_t OW, float* y, std::uint8_t* code,
                             bool mark_not_positive = false) {
  // Lanes of the result (all ones or zero) select `later` over `earlier`.
  const auto later_wins = [](__m128 earlier, __m128 later) {
    return _mm_or_ps(_mm_cmpgt_ps(later, earlier), _mm_cmpunord_ps(later, later));
  };
  const __m128i one = _mm_set1_epi32(1), two = _mm_set1_epi32(2), four = _mm_set1_epi32(4);
  std::int64_t ow = 0;
  for (; ow + 4 <= OW; ow += 4) {
    const __m128 top0 = _mm_loadu_ps(r0 + 2 * ow), top1 = _mm_loadu_ps(r0 + 2 * ow + 4);
    const __m128 bot0 = _mm_loadu_ps(r1 + 2 * ow), bot1 = _mm_loadu_ps(r1 + 2 * ow + 4);
    const __m128 a = _mm_shuffle_ps(top0, top1, _MM_SHUFFLE(2, 0, 2, 0));
    const __m128 b = _mm_shuffle_ps(top0, top1, _MM_SHUFFLE(3, 1, 3, 1));
    const __m128 c = _mm_shuffle_ps(bot0, bot1, _MM_SHUFFLE(2, 0, 2, 0));
    const __m128 d = _mm_shuffle_ps(bot0, bot1, _MM_SHUFFLE(3, 1, 3, 1));
    const __m128 take_b = later_wins(a, b), take_d = later_wins(c, d);
    const __m128 top = _mm_blendv_ps(a, b, take_b), bottom = _mm_blendv_ps(c, d, take_d);
    const __m128 take_bottom = later_wins(top, bottom);
    const __m128 m = _mm_blendv_ps(top, bottom, take_bottom);
    _mm_storeu_ps(y + ow, m);
    const __m128i top_at = _mm_and_si128(_mm_castps_si128(take_b), one);
    const __m128i bottom_at = _mm_or_si128(two, _mm_and_si128(_mm_castps_si128(take_d), one));
    const __m128i not_positive = _mm_and_si128(_mm_castps_si128(_mm_cmpngt_ps(m, _mm_setzero_ps())), four);
    const __m128i at = _mm_or_si128(
        _mm_castps_si128(_mm_blendv_ps(_mm_castsi128_ps(top_at), _mm_castsi128_ps(bottom_at), take_bottom)),
        mark_not_positive ? not_positive : _mm_setzero_si128());
    // The low byte of each 32-bit lane, packed into four bytes.
    const __m128i low_bytes = _mm_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i bytes = _mm_shuffle_epi8(at, low_bytes);
    const std::int32_t packed = _mm_cvtsi128_si32(bytes);
    std::memcpy(code + ow, &packed, 4);
  }
  max_pool_2x2_row<float>(r0 + 2 * ow, r1 + 2 * ow, OW - ow, y + ow, code + ow, mark_not_positive);
}
#endif

// One input row of the backward, window row `half` (0 top, 1 bottom): g[2 ow + j] = dy[ow] where
// code[ow] == 2 half + j, +0 elsewhere; a code with another bit set routes nowhere. Writes 2 OW values to g. What a
// scatter of dy into zeros leaves, bit for bit: 0 + dy (so -0 arrives as +0).
template <class T>
void route_2x2_row(const T* dy, const std::uint8_t* code, std::int64_t OW, unsigned half, T* g) {
  for (std::int64_t ow = 0; ow < OW; ++ow) {
    const unsigned k = code[ow];
    g[2 * ow] = T(0) + keep_if(dy[ow], k == 2 * half);
    g[2 * ow + 1] = T(0) + keep_if(dy[ow], k == 2 * half + 1);
  }
}

#if defined(__SSE4_1__)
inline void route_2x2_row(const float* dy, const std::uint8_t* code, std::int64_t OW, unsigned half, float* g) {
  const __m128 zero = _mm_setzero_ps();
  const __m128i left = _mm_set1_epi32(static_cast<int>(2 * half));
  const __m128i right = _mm_set1_epi32(static_cast<int>(2 * half + 1));
  std::int64_t ow = 0;
  for (; ow + 4 <= OW; ow += 4) {
    const __m128 v = _mm_loadu_ps(dy + ow);
    std::int32_t packed;
    std::memcpy(&packed, code + ow, 4);
    const __m128i k = _mm_cvtepu8_epi32(_mm_cvtsi32_si128(packed));
    const __m128 a = _mm_and_ps(v, _mm_castsi128_ps(_mm_cmpeq_epi32(k, left)));
    const __m128 b = _mm_and_ps(v, _mm_castsi128_ps(_mm_cmpeq_epi32(k, right)));
    _mm_storeu_ps(g + 2 * ow, _mm_add_ps(zero, _mm_unpacklo_ps(a, b)));
    _mm_storeu_ps(g + 2 * ow + 4, _mm_add_ps(zero, _mm_unpackhi_ps(a, b)));
  }
  route_2x2_row<float>(dy + ow, code + ow, OW - ow, half, g + 2 * ow);
}
#endif

#if VIGIL_HAS_AVX512_PATH
// The first `count` lanes (count may exceed 16: all of them; below 0: none).
inline __mmask16 first_lanes(std::int64_t count) {
  return count >= 16 ? __mmask16(0xFFFF) : count <= 0 ? __mmask16(0) : static_cast<__mmask16>((1u << count) - 1);
}

VIGIL_TARGET_AVX512 inline void max_pool_2x2_row_avx512(const float* r0, const float* r1, std::int64_t OW, float* y,
                                                        std::uint8_t* code, bool mark_not_positive) {
  // Even and odd elements of 32 consecutive ones (held in two registers): a/c and b/d of 16 windows.
  const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odds = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const auto later_wins = [](__m512 earlier, __m512 later) {
    return static_cast<__mmask16>(_mm512_cmp_ps_mask(later, earlier, _CMP_GT_OQ) |
                                  _mm512_cmp_ps_mask(later, later, _CMP_UNORD_Q));
  };
  for (std::int64_t ow = 0; ow < OW; ow += 16) {
    const __mmask16 out = first_lanes(OW - ow);
    const __mmask16 low = first_lanes(2 * (OW - ow)), high = first_lanes(2 * (OW - ow) - 16);
    const __m512 top0 = _mm512_maskz_loadu_ps(low, r0 + 2 * ow), top1 = _mm512_maskz_loadu_ps(high, r0 + 2 * ow + 16);
    const __m512 bot0 = _mm512_maskz_loadu_ps(low, r1 + 2 * ow), bot1 = _mm512_maskz_loadu_ps(high, r1 + 2 * ow + 16);
    const __m512 a = _mm512_permutex2var_ps(top0, evens, top1), b = _mm512_permutex2var_ps(top0, odds, top1);
    const __m512 c = _mm512_permutex2var_ps(bot0, evens, bot1), d = _mm512_permutex2var_ps(bot0, odds, bot1);
    const __mmask16 take_b = later_wins(a, b), take_d = later_wins(c, d);
    const __m512 top = _mm512_mask_blend_ps(take_b, a, b), bottom = _mm512_mask_blend_ps(take_d, c, d);
    const __mmask16 take_bottom = later_wins(top, bottom);
    const __m512 m = _mm512_mask_blend_ps(take_bottom, top, bottom);
    _mm512_mask_storeu_ps(y + ow, out, m);
    // Bit 0: the column of the winning row's winner; bit 1: the bottom row won; bit 2: not positive.
    const __mmask16 column = static_cast<__mmask16>((take_bottom & take_d) | (~take_bottom & take_b));
    __m128i at = _mm_or_si128(_mm_maskz_mov_epi8(column, _mm_set1_epi8(1)),
                              _mm_maskz_mov_epi8(take_bottom, _mm_set1_epi8(2)));
    if (mark_not_positive) {
      const __mmask16 not_positive = static_cast<__mmask16>(~_mm512_cmp_ps_mask(m, _mm512_setzero_ps(), _CMP_GT_OQ));
      at = _mm_or_si128(at, _mm_maskz_mov_epi8(not_positive, _mm_set1_epi8(4)));
    }
    _mm_mask_storeu_epi8(code + ow, out, at);
  }
}
#endif

}  // namespace vigil::kernels::detail
