// Vectorisable element-wise maths shared by the addon's kernels: e^x, the logistic sigmoid, and per-CPU clones.
#ifndef LOADSCOPE_VMATH_H
#define LOADSCOPE_VMATH_H
#include <stdint.h>

// LS_CLONES on a hot element-wise function compiles it three times (AVX-512, AVX2, baseline x86-64) and
// picks one at load time (a GNU ifunc): the addon stays portable (binding.gyp sets no -march) yet the
// loops use the machine's vector width. Only where the toolchain has ifuncs (GCC/Clang, x86-64 Linux).
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define LS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#endif
#endif
#ifndef LS_CLONES
#define LS_CLONES
#endif

// LS_INLINE forces inlining of small helpers into LS_CLONES callers, so they are compiled for the clone's
// vector width (an out-of-line helper is baseline x86-64 code: it halved the softmax's speed).
#if defined(__GNUC__)
#define LS_INLINE static inline __attribute__((always_inline))
#else
#define LS_INLINE static inline
#endif

// e^x for x ≤ 0 (softmax after subtracting the row maximum, sigmoid of −|a|), written so the loop that
// calls it vectorises (libm's expf is a call per element): x = n·ln2 + r with |r| ≤ ln2/2, e^r by its
// Taylor series to r⁷ (remainder < 0.35⁸/8! ≈ 6e-9, below float32's 6e-8), times 2ⁿ built in the
// exponent bits. tests/unit/native/vmath.test.ts holds it to 2 ulp of e^x (float64) over [−87, 0].
LS_INLINE float ls_exp_nonpositive(float x) {
  const float shifter = 12582912.0f;  // 1.5·2²³ (bits 0x4B400000): t's low mantissa bits then hold n
  x = x < -87.0f ? -87.0f : x;         // e^-87 ≈ 1.6e-38: still a normal float (a NaN passes through)
  const float t = x * 1.44269504f + shifter;
  const float n = t - shifter;
  const float r = (x - n * 0.693145752f) - n * 1.42860677e-6f;  // ln2 split in two: r stays exact
  float e = 1.0f / 5040.0f;
  e = e * r + 1.0f / 720.0f;
  e = e * r + 1.0f / 120.0f;
  e = e * r + 1.0f / 24.0f;
  e = e * r + 1.0f / 6.0f;
  e = e * r + 0.5f;
  e = e * r + 1.0f;
  e = e * r + 1.0f;
  // 2ⁿ from t's bits in unsigned arithmetic: defined for every input, NaN included (e is NaN then)
  union { float f; uint32_t u; } bits = {t}, scale;
  scale.u = (bits.u - 0x4B400000u + 127u) << 23;
  return e * scale.f;
}

// σ(a) = 1/(1 + e^−a), from z = e^−|a| ≤ 1 so the exponential never overflows: 1/(1+z) for a ≥ 0,
// z/(1+z) for a < 0 (keeps σ's relative accuracy for very negative a). Both sides are computed and one
// selected, so a loop over it has no branch and vectorises.
LS_INLINE float ls_sigmoid(float a) {
  const float z = ls_exp_nonpositive(a < 0.0f ? a : -a);
  const float inv = 1.0f / (1.0f + z);
  return a < 0.0f ? z * inv : inv;
}
#endif
