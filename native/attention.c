// Fused causal self-attention for the CPU backends: softmax(Q·Kᵀ/√hd + causal mask)·V forward and its gradient.
//
// Layout (model.ts's Attention): qkv [T = B·S, 3d] is the fused projection; for token t, head h the query is
// qkv[t·3d + h·hd ..], the key qkv[t·3d + d + h·hd ..], the value qkv[t·3d + 2d + h·hd ..] (TF.js reshapes to
// [B, S, 3H, hd] and splits the 3H heads in three). y [T, d] holds the heads side by side, as TF.js's
// transpose + reshape leave them before the output projection. probs [B, H, S, S] keeps the softmax for the
// backward pass; its upper triangle is written as exact zeros.
//
// Every (b, h) pair is a handful of strided cblas_sgemm calls straight on qkv/y (leading dimension 3d or d),
// so no head is copied out. Rows go in blocks of ROWS: a block of queries only needs the keys up to its
// last row, which skips most of the masked upper triangle's arithmetic. Single-threaded like the rest.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "loadscope.h"

// Not trapping on FP exceptions (results unchanged) lets GCC turn the max loop's selects into vector code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
// after the pragmas: vmath.h's inline functions must share them to inline into this file's loops
#include "vmath.h"

#ifdef LOADSCOPE_ACCELERATE
#define ACCELERATE_NEW_LAPACK
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

#define ROWS 32

typedef struct {
  int64_t B, S, H, hd, d;
} Shape;

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Reads B, S, H, hd from argv[0..3]; throws for a bad or oversized shape.
static int read_shape(napi_env env, napi_value *argv, Shape *s, const char *fn) {
  char what[64];
  int64_t *dst[4] = {&s->B, &s->S, &s->H, &s->hd};
  const char *names[4] = {"B", "S", "H", "hd"};
  for (int i = 0; i < 4; i++) {
    snprintf(what, sizeof what, "%s: %s", fn, names[i]);
    if (!ls_get_i64(env, argv[i], dst[i], what)) return 0;
  }
  // each dimension ≤ 2^20 (BLAS dimensions stay below 2^31), and the buffer sizes below 2^52 elements (far
  // beyond any typed array), so every int64 product and offset below is exact
  const double big = 4503599627370496.0;  // 2^52
  if (s->B > (1 << 20) || s->S > (1 << 20) || s->H > (1 << 20) || s->hd > (1 << 20) || s->H * s->hd * 3 > INT32_MAX ||
      (double)s->B * s->S * 3.0 * s->H * s->hd > big || (double)s->B * s->H * s->S * s->S > big) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s: shape B=%lld S=%lld H=%lld hd=%lld is too large", fn, (long long)s->B,
             (long long)s->S, (long long)s->H, (long long)s->hd);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  if (s->H == 0 || s->hd == 0) {
    char msg[96];
    snprintf(msg, sizeof msg, "%s: H and hd must be at least 1", fn);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  s->d = s->H * s->hd;
  return 1;
}

// Reads a Float32Array that must hold exactly `want` floats; throws a RangeError naming it otherwise.
static int read_exact(napi_env env, napi_value v, float **data, int64_t want, const char *fn, const char *name,
                      const char *formula) {
  char what[96];
  size_t len;
  snprintf(what, sizeof what, "%s: %s", fn, name);
  if (!ls_get_f32(env, v, data, &len, what)) return 0;
  if ((int64_t)len != want) {
    char msg[192];
    snprintf(msg, sizeof msg, "%s has %zu floats, expected %s = %lld", what, len, formula, (long long)want);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

// Row-major gemm helper: c = alpha · op(a) · op(b) with explicit leading dimensions.
static void mm(int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
               const float *b, int64_t ldb, float *c, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
              alpha, a, (int)lda, b, (int)ldb, 0.0f, c, (int)ldc);
}

// The softmax loops run over a whole block of rows r0 .. r1−1 and, per row i, over all the block's keys
// 0 .. r1−1 with the causal mask as a select (j ≤ i) rather than over i+1 keys: rows of one length leave no
// per-row scalar tail, which at S = 64 cost more than the arithmetic. Maxima and float64 sums keep LANES
// independent running results so they vectorise without reassociation (the order of additions is fixed).
#define LANES 8

// Per row: scaled scores (keys < r1 computed by the gemm) → causal softmax in place; keys i+1 .. S−1 get 0.
LS_CLONES static void softmax_block(float *restrict P, int64_t S, int64_t r0, int64_t r1) {
  for (int64_t i = r0; i < r1; i++) {
    float *restrict p = P + i * S;
    float m[LANES];
    double s[LANES] = {0};
    for (int l = 0; l < LANES; l++) m[l] = p[0];
    int64_t j = 0;
    for (; j + LANES <= r1; j += LANES)
      for (int l = 0; l < LANES; l++) m[l] = j + l <= i && p[j + l] > m[l] ? p[j + l] : m[l];
    for (; j < r1; j++) m[0] = j <= i && p[j] > m[0] ? p[j] : m[0];
    for (int l = 1; l < LANES; l++) m[0] = m[l] > m[0] ? m[l] : m[0];
    const float mx = m[0];
    for (j = 0; j < r1; j++) p[j] = j <= i ? ls_exp_nonpositive(p[j] - mx) : 0.0f;  // vmath.h: libm's expf was 1/5
    for (j = 0; j + LANES <= r1; j += LANES)
      for (int l = 0; l < LANES; l++) s[l] += (double)p[j + l];
    for (; j < r1; j++) s[0] += (double)p[j];
    for (int l = 1; l < LANES; l++) s[0] += s[l];
    const float inv = (float)(1.0 / s[0]);
    for (j = 0; j < r1; j++) p[j] *= inv;
    for (j = r1; j < S; j++) p[j] = 0.0f;
  }
}

// Per row: dP (keys < r1) → dS = P ⊙ (dP − rowsum(P ⊙ dP)) / √hd in place, 0 beyond the diagonal up to r1
// (the gemms read up to the block's end).
LS_CLONES static void softmax_grad_block(const float *restrict P, float *restrict G, int64_t S, int64_t r0, int64_t r1,
                                         float scale) {
  for (int64_t i = r0; i < r1; i++) {
    const float *restrict p = P + i * S;
    float *restrict g = G + i * S;
    double s[LANES] = {0};
    int64_t j = 0;  // over keys 0 .. i only: a masked select here kept GCC from vectorising the sum
    for (; j + LANES <= i + 1; j += LANES)
      for (int l = 0; l < LANES; l++) s[l] += (double)p[j + l] * (double)g[j + l];
    for (; j <= i; j++) s[0] += (double)p[j] * (double)g[j];
    for (int l = 1; l < LANES; l++) s[0] += s[l];
    const float dot = (float)s[0];
    for (j = 0; j < r1; j++) g[j] = j <= i ? scale * p[j] * (g[j] - dot) : 0.0f;
  }
}

static void forward_head(const Shape *s, const float *qkv, float *y, float *probs, int64_t b, int64_t h) {
  const int64_t S = s->S, hd = s->hd, d = s->d, ld = 3 * d;
  const float scale = (float)(1.0 / sqrt((double)hd));
  const float *Q = qkv + b * S * ld + h * hd, *K = Q + d, *V = Q + 2 * d;
  float *P = probs + (b * s->H + h) * S * S;
  float *Y = y + b * S * d + h * hd;
  for (int64_t r0 = 0; r0 < S; r0 += ROWS) {
    const int64_t r1 = min64(S, r0 + ROWS), rows = r1 - r0;
    mm(0, 1, rows, r1, hd, scale, Q + r0 * ld, ld, K, ld, P + r0 * S, S);  // scores of keys 0 .. r1-1
    softmax_block(P, S, r0, r1);
    mm(0, 0, rows, hd, r1, 1.0f, P + r0 * S, S, V, ld, Y + r0 * d, d);
  }
}

// attentionForward(B, S, H, hd, qkv [T, 3d], y [T, d], probs [B, H, S, S]): writes y and probs.
static napi_value forward(napi_env env, napi_callback_info info) {
  const char *fn = "attention.forward";
  LS_ARGS(7, "attention.forward: expected 7 arguments (B, S, H, hd, qkv, y, probs)");
  Shape s;
  float *qkv, *y, *probs;
  if (!read_shape(env, argv, &s, fn)) return NULL;
  const int64_t T = s.B * s.S;
  if (!read_exact(env, argv[4], &qkv, T * 3 * s.d, fn, "qkv", "B·S·3·H·hd") ||
      !read_exact(env, argv[5], &y, T * s.d, fn, "y", "B·S·H·hd") ||
      !read_exact(env, argv[6], &probs, s.B * s.H * s.S * s.S, fn, "probs", "B·H·S·S"))
    return NULL;
  for (int64_t b = 0; b < s.B; b++)
    for (int64_t h = 0; h < s.H; h++) forward_head(&s, qkv, y, probs, b, h);
  return NULL;
}

// One head's gradient; G is S·S scratch. With P the probabilities and dP = dY·Vᵀ:
//   dV = Pᵀ·dY   dS = P ⊙ (dP − rowsum(P ⊙ dP)) / √hd   dQ = dS·K   dK = dSᵀ·Q
static void backward_head(const Shape *s, const float *qkv, const float *probs, const float *dy, float *dqkv,
                          float *G, int64_t b, int64_t h) {
  const int64_t S = s->S, hd = s->hd, d = s->d, ld = 3 * d;
  const float scale = (float)(1.0 / sqrt((double)hd));
  const float *Q = qkv + b * S * ld + h * hd, *K = Q + d, *V = Q + 2 * d;
  const float *P = probs + (b * s->H + h) * S * S;
  const float *dY = dy + b * S * d + h * hd;
  float *dQ = dqkv + b * S * ld + h * hd, *dK = dQ + d, *dV = dQ + 2 * d;
  for (int64_t r0 = 0; r0 < S; r0 += ROWS) {
    const int64_t r1 = min64(S, r0 + ROWS), rows = r1 - r0;
    mm(0, 1, rows, r1, hd, 1.0f, dY + r0 * d, d, V, ld, G + r0 * S, S);  // dP for keys 0 .. r1-1
    softmax_grad_block(P, G, S, r0, r1, scale);
    mm(0, 0, rows, hd, r1, 1.0f, G + r0 * S, S, K, ld, dQ + r0 * ld, ld);
  }
  // Keys/values j0 .. j1-1 receive from queries j0 .. S-1 only (rows above are masked: P and dS are 0 there).
  for (int64_t j0 = 0; j0 < S; j0 += ROWS) {
    const int64_t j1 = min64(S, j0 + ROWS), n = S - j0;
    mm(1, 0, j1 - j0, hd, n, 1.0f, P + j0 * S + j0, S, dY + j0 * d, d, dV + j0 * ld, ld);
    mm(1, 0, j1 - j0, hd, n, 1.0f, G + j0 * S + j0, S, Q + j0 * ld, ld, dK + j0 * ld, ld);
  }
}

// attentionBackward(B, S, H, hd, qkv [T, 3d], probs [B, H, S, S], dy [T, d], dqkv [T, 3d]): writes dqkv.
static napi_value backward(napi_env env, napi_callback_info info) {
  const char *fn = "attention.backward";
  LS_ARGS(8, "attention.backward: expected 8 arguments (B, S, H, hd, qkv, probs, dy, dqkv)");
  Shape s;
  float *qkv, *probs, *dy, *dqkv;
  if (!read_shape(env, argv, &s, fn)) return NULL;
  const int64_t T = s.B * s.S;
  if (!read_exact(env, argv[4], &qkv, T * 3 * s.d, fn, "qkv", "B·S·3·H·hd") ||
      !read_exact(env, argv[5], &probs, s.B * s.H * s.S * s.S, fn, "probs", "B·H·S·S") ||
      !read_exact(env, argv[6], &dy, T * s.d, fn, "dy", "B·S·H·hd") ||
      !read_exact(env, argv[7], &dqkv, T * 3 * s.d, fn, "dqkv", "B·S·3·H·hd"))
    return NULL;
  if (T == 0) return NULL;
  float *G = malloc((size_t)(s.S * s.S) * sizeof(float));
  if (!G) {
    napi_throw_error(env, NULL, "attention.backward: out of memory for the S·S scratch");
    return NULL;
  }
  for (int64_t b = 0; b < s.B; b++)
    for (int64_t h = 0; h < s.H; h++) backward_head(&s, qkv, probs, dy, dqkv, G, b, h);
  free(G);
  return NULL;
}

napi_status ls_register_attention(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"attentionForward", NULL, forward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"attentionBackward", NULL, backward, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
