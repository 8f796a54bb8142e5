// Fused sparse MoE expert FFN (SwiGLU experts over rows grouped by expert), forward and backward, on cblas_sgemm.
//
// Shape legend: T tokens, d model width, E experts, h expert hidden width, N routed rows (grouped by expert:
// expert 0's countE[0] rows first). tokN[r] is the token of row r; gatesTE[t, e] the gate of (token, expert).
// Expert e owns columns e·h … e·h+h−1 of w1/w3 [d, E·h] and rows e·h … of w2 [E·h, d]: the gemms address them
// with leading dimension E·h, so no weight is copied. Per expert, with Xe its rows of x:
//   A = Xe·W1e   B = Xe·W3e   H = silu(A)⊙B   Ye = H·W2e   y[tok] += gate·Ye
// `saved` ([A | B | Ye], N·(2h+d) floats, JS-owned) carries the activations from forward to backward:
// keeping them costs no arithmetic, recomputing them would cost two of the five gemms again.
// Backward, with dYe = gate·dy[tok]:
//   dgate = dy[tok]·Ye   dH = dYe·W2eᵀ   dW2e = Hᵀ·dYe   dA = dH⊙B⊙σ(A)(1 + A(1−σ(A)))   dB = dH⊙silu(A)
//   dW1e = Xeᵀ·dA   dW3e = Xeᵀ·dB   dx[tok] += dA·W1eᵀ + dB·W3eᵀ
// Every output buffer is written in full (zeros for tokens and experts without rows). Single thread: the
// caller sets OpenBLAS's threads (blas.c).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadscope.h"
#include "vmath.h"

#ifdef LOADSCOPE_ACCELERATE
#define ACCELERATE_NEW_LAPACK
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

typedef struct {
  int64_t T, d, E, h, N;
  float *x, *w1, *w3, *w2, *gates, *saved;
  int32_t *tokN, *countE;
} Problem;

static int range_error(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return 0;
}

// Reads the arguments both directions share: (T, d, E, h, x, w1, w3, w2, gatesTE, tokN, countE, saved) from
// argv[0..11], checking every length against the shapes and the plan (counts sum to N, tokens < T).
static int read_problem(napi_env env, napi_value *argv, Problem *p, const char *fn) {
  char what[96];
  size_t lx, l1, l3, l2, lg, ls, ltok, lcount;
#define NAME(s) (snprintf(what, sizeof what, "%s: %s", fn, s), what)
  if (!ls_get_i64(env, argv[0], &p->T, NAME("T")) || !ls_get_i64(env, argv[1], &p->d, NAME("d")) ||
      !ls_get_i64(env, argv[2], &p->E, NAME("E")) || !ls_get_i64(env, argv[3], &p->h, NAME("h")) ||
      !ls_get_f32(env, argv[4], &p->x, &lx, NAME("x")) || !ls_get_f32(env, argv[5], &p->w1, &l1, NAME("w1")) ||
      !ls_get_f32(env, argv[6], &p->w3, &l3, NAME("w3")) || !ls_get_f32(env, argv[7], &p->w2, &l2, NAME("w2")) ||
      !ls_get_f32(env, argv[8], &p->gates, &lg, NAME("gatesTE")) ||
      !ls_get_i32(env, argv[9], &p->tokN, &ltok, NAME("tokN")) ||
      !ls_get_i32(env, argv[10], &p->countE, &lcount, NAME("countE")) ||
      !ls_get_f32(env, argv[11], &p->saved, &ls, NAME("saved")))
    return 0;
#undef NAME
  const int64_t T = p->T, d = p->d, E = p->E, h = p->h;
  // every gemm dimension and leading dimension must fit an int; E·h is the widest
  if (T > INT32_MAX || d > INT32_MAX || E > INT32_MAX || h > INT32_MAX || E * h > INT32_MAX)
    return range_error(env, "experts: a dimension exceeds 2^31-1");
  if ((int64_t)lx != T * d) return range_error(env, "experts: x must hold T·d floats");
  if ((int64_t)l1 != d * E * h || (int64_t)l3 != d * E * h) return range_error(env, "experts: w1 and w3 must hold d·E·h floats");
  if ((int64_t)l2 != E * h * d) return range_error(env, "experts: w2 must hold E·h·d floats");
  if ((int64_t)lg != T * E) return range_error(env, "experts: gatesTE must hold T·E floats");
  if ((int64_t)lcount != E) return range_error(env, "experts: countE must hold E counts");
  int64_t N = 0;
  for (int64_t e = 0; e < E; e++) {
    if (p->countE[e] < 0) return range_error(env, "experts: countE has a negative count");
    N += p->countE[e];
  }
  if (N != (int64_t)ltok) return range_error(env, "experts: countE must sum to tokN's length");
  for (int64_t r = 0; r < N; r++)
    if (p->tokN[r] < 0 || p->tokN[r] >= T) return range_error(env, "experts: tokN has a token outside 0 … T−1");
  if ((int64_t)ls != N * (2 * h + d)) return range_error(env, "experts: saved must hold N·(2h+d) floats");
  p->N = N;
  return 1;
}

static int check_len(napi_env env, size_t len, int64_t want, const char *msg) {
  return (int64_t)len == want ? 1 : range_error(env, msg);
}

// C[m, n] = op(A)·op(B) with explicit leading dimensions (row-major); an empty sum gives zeros.
static void gemm(int transA, int transB, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
                 const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (beta == 0.0f)
      for (int64_t i = 0; i < m; i++) memset(c + i * ldc, 0, (size_t)n * sizeof(float));
    return;
  }
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, (int)m, (int)n,
              (int)k, 1.0f, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

static int64_t max_count(const Problem *p) {
  int64_t m = 0;
  for (int64_t e = 0; e < p->E; e++)
    if (p->countE[e] > m) m = p->countE[e];
  return m;
}

// Xe = x[tokN[off … off+n)]
static void gather_rows(const Problem *p, int64_t off, int64_t n, float *xe) {
  for (int64_t i = 0; i < n; i++) memcpy(xe + i * p->d, p->x + (int64_t)p->tokN[off + i] * p->d, (size_t)p->d * sizeof(float));
}

// The SwiGLU element-wise steps, over n = rows·h values each: plain restrict loops on ls_sigmoid so they
// vectorise (per CPU, LS_CLONES); with libm's expf they were a third of the forward pass.
// H = silu(A)⊙B
LS_CLONES static void swiglu(int64_t n, const float *restrict a, const float *restrict b, float *restrict hid) {
  for (int64_t i = 0; i < n; i++) hid[i] = a[i] * ls_sigmoid(a[i]) * b[i];
}

// σ(A) kept for the gradient, and H again (for dW2e), from the saved A and B
LS_CLONES static void swiglu_saved(int64_t n, const float *restrict a, const float *restrict b, float *restrict sig,
                                   float *restrict hid) {
  for (int64_t i = 0; i < n; i++) {
    const float s = ls_sigmoid(a[i]);
    sig[i] = s;
    hid[i] = a[i] * s * b[i];
  }
}

// dA = dH⊙B⊙σ(A)(1 + A(1−σ(A))) over dH in place, dB = dH⊙silu(A)
LS_CLONES static void swiglu_grad(int64_t n, const float *restrict a, const float *restrict b, const float *restrict sig,
                                  float *restrict dh, float *restrict db) {
  for (int64_t i = 0; i < n; i++) {
    const float s = sig[i], gh = dh[i];
    dh[i] = gh * b[i] * s * (1.0f + a[i] * (1.0f - s));
    db[i] = gh * a[i] * s;
  }
}

// y[tok] += gate·Ye over an expert's n rows (gate 1 when gates is NULL: dx[tok] += dXe).
LS_CLONES static void scatter_rows(const Problem *p, int64_t off, int64_t n, int64_t e, const float *restrict ye,
                                   float *restrict y) {
  const int64_t d = p->d;
  for (int64_t i = 0; i < n; i++) {
    const int64_t t = p->tokN[off + i];
    const float g = e >= 0 ? p->gates[t * p->E + e] : 1.0f;
    float *restrict yt = y + t * d;
    const float *restrict yr = ye + i * d;
    for (int64_t j = 0; j < d; j++) yt[j] += g * yr[j];
  }
}

// dYe = gate·dy[tok] and dgate[tok, e] += dy[tok]·Ye over an expert's n rows; the dot keeps eight float
// running sums so it vectorises.
LS_CLONES static void gate_grads(const Problem *p, int64_t off, int64_t n, int64_t e, const float *restrict dy,
                                 const float *restrict ye, float *restrict dye, float *restrict dg) {
  const int64_t d = p->d, E = p->E;
  for (int64_t i = 0; i < n; i++) {
    const int64_t t = p->tokN[off + i];
    const float g = p->gates[t * E + e];
    const float *restrict dyt = dy + t * d, *restrict yr = ye + i * d;
    float *restrict dyr = dye + i * d;
    float acc[8] = {0};
    int64_t j = 0;
    for (; j + 8 <= d; j += 8)
      for (int l = 0; l < 8; l++) acc[l] += dyt[j + l] * yr[j + l];
    for (; j < d; j++) acc[0] += dyt[j] * yr[j];
    for (j = 0; j < d; j++) dyr[j] = g * dyt[j];
    // += : a token routed twice to one expert gets both slots' gate gradients
    dg[t * E + e] += ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  }
}

// expertsForward(T, d, E, h, x, w1, w3, w2, gatesTE, tokN, countE, saved, y)
static napi_value experts_forward(napi_env env, napi_callback_info info) {
  LS_ARGS(13, "experts.forward: expected 13 arguments (T, d, E, h, x, w1, w3, w2, gatesTE, tokN, countE, saved, y)");
  Problem p;
  float *y;
  size_t ly;
  if (!read_problem(env, argv, &p, "experts.forward") || !ls_get_f32(env, argv[12], &y, &ly, "experts.forward: y") ||
      !check_len(env, ly, p.T * p.d, "experts: y must hold T·d floats"))
    return NULL;
  const int64_t d = p.d, E = p.E, h = p.h, N = p.N, Eh = E * h;
  memset(y, 0, (size_t)(p.T * d) * sizeof(float));
  if (N == 0) return NULL;
  const int64_t nmax = max_count(&p);
  float *xe = malloc((size_t)(nmax * (d + h)) * sizeof(float));
  if (!xe) {
    napi_throw_error(env, NULL, "experts.forward: out of memory for the scratch rows");
    return NULL;
  }
  float *hid = xe + nmax * d;
  float *savedA = p.saved, *savedB = p.saved + N * h, *savedY = p.saved + 2 * N * h;
  for (int64_t e = 0, off = 0; e < E; off += p.countE[e], e++) {
    const int64_t n = p.countE[e];
    if (n == 0) continue;
    float *a = savedA + off * h, *b = savedB + off * h, *ye = savedY + off * d;
    gather_rows(&p, off, n, xe);
    gemm(0, 0, n, h, d, xe, d, p.w1 + e * h, Eh, 0.0f, a, h);
    gemm(0, 0, n, h, d, xe, d, p.w3 + e * h, Eh, 0.0f, b, h);
    swiglu(n * h, a, b, hid);
    gemm(0, 0, n, d, h, hid, h, p.w2 + e * h * d, d, 0.0f, ye, d);
    scatter_rows(&p, off, n, e, ye, y);
  }
  free(xe);
  return NULL;
}

// expertsBackward(T, d, E, h, x, w1, w3, w2, gatesTE, tokN, countE, saved, dy, dx, dw1, dw3, dw2, dgatesTE)
static napi_value experts_backward(napi_env env, napi_callback_info info) {
  LS_ARGS(18, "experts.backward: expected 18 arguments (T, d, E, h, x, w1, w3, w2, gatesTE, tokN, countE, saved, dy, dx, dw1, dw3, dw2, dgatesTE)");
  Problem p;
  float *dy, *dx, *dw1, *dw3, *dw2, *dg;
  size_t ldy, ldx, l1, l3, l2, lg;
  if (!read_problem(env, argv, &p, "experts.backward") ||
      !ls_get_f32(env, argv[12], &dy, &ldy, "experts.backward: dy") || !ls_get_f32(env, argv[13], &dx, &ldx, "experts.backward: dx") ||
      !ls_get_f32(env, argv[14], &dw1, &l1, "experts.backward: dw1") || !ls_get_f32(env, argv[15], &dw3, &l3, "experts.backward: dw3") ||
      !ls_get_f32(env, argv[16], &dw2, &l2, "experts.backward: dw2") || !ls_get_f32(env, argv[17], &dg, &lg, "experts.backward: dgatesTE"))
    return NULL;
  const int64_t T = p.T, d = p.d, E = p.E, h = p.h, N = p.N, Eh = E * h;
  if (!check_len(env, ldy, T * d, "experts: dy must hold T·d floats") || !check_len(env, ldx, T * d, "experts: dx must hold T·d floats") ||
      !check_len(env, l1, d * Eh, "experts: dw1 and dw3 must hold d·E·h floats") ||
      !check_len(env, l3, d * Eh, "experts: dw1 and dw3 must hold d·E·h floats") ||
      !check_len(env, l2, Eh * d, "experts: dw2 must hold E·h·d floats") || !check_len(env, lg, T * E, "experts: dgatesTE must hold T·E floats"))
    return NULL;
  memset(dx, 0, (size_t)(T * d) * sizeof(float));
  memset(dg, 0, (size_t)(T * E) * sizeof(float));
  // experts without rows get zero weight gradients; the others' slices are written whole by their gemms
  for (int64_t e = 0; e < E; e++) {
    if (p.countE[e] > 0) continue;
    for (int64_t r = 0; r < d; r++) {
      memset(dw1 + r * Eh + e * h, 0, (size_t)h * sizeof(float));
      memset(dw3 + r * Eh + e * h, 0, (size_t)h * sizeof(float));
    }
    memset(dw2 + e * h * d, 0, (size_t)(h * d) * sizeof(float));
  }
  if (N == 0) return NULL;
  const int64_t nmax = max_count(&p);
  // scratch: Xe and dYe (later dXe) [n, d]; H (later dB), dH (later dA) and σ(A) [n, h]
  float *xe = malloc((size_t)(nmax * (2 * d + 3 * h)) * sizeof(float));
  if (!xe) {
    napi_throw_error(env, NULL, "experts.backward: out of memory for the scratch rows");
    return NULL;
  }
  float *dye = xe + nmax * d, *hid = dye + nmax * d, *dh = hid + nmax * h, *sig = dh + nmax * h;
  const float *savedA = p.saved, *savedB = p.saved + N * h, *savedY = p.saved + 2 * N * h;
  for (int64_t e = 0, off = 0; e < E; off += p.countE[e], e++) {
    const int64_t n = p.countE[e];
    if (n == 0) continue;
    const float *a = savedA + off * h, *b = savedB + off * h, *ye = savedY + off * d;
    gate_grads(&p, off, n, e, dy, ye, dye, dg);
    swiglu_saved(n * h, a, b, sig, hid);
    gemm(0, 1, n, h, d, dye, d, p.w2 + e * h * d, d, 0.0f, dh, h);   // dH = dYe·W2eᵀ
    gemm(1, 0, h, d, n, hid, h, dye, d, 0.0f, dw2 + e * h * d, d);  // dW2e = Hᵀ·dYe
    swiglu_grad(n * h, a, b, sig, dh, hid);  // dh becomes dA, hid dB
    gather_rows(&p, off, n, xe);
    gemm(1, 0, d, h, n, xe, d, dh, h, 0.0f, dw1 + e * h, Eh);   // dW1e = Xeᵀ·dA
    gemm(1, 0, d, h, n, xe, d, hid, h, 0.0f, dw3 + e * h, Eh);  // dW3e = Xeᵀ·dB
    gemm(0, 1, n, d, h, dh, h, p.w1 + e * h, Eh, 0.0f, dye, d);  // dXe = dA·W1eᵀ + dB·W3eᵀ
    gemm(0, 1, n, d, h, hid, h, p.w3 + e * h, Eh, 1.0f, dye, d);
    scatter_rows(&p, off, n, -1, dye, dx);
  }
  free(xe);
  return NULL;
}

napi_status ls_register_experts(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"expertsForward", NULL, experts_forward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"expertsBackward", NULL, experts_backward, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
