// Fused CPU kernels for training: tied-embedding cross-entropy and RMSNorm (AdamW is in adamw.c).
//
// Shape legend: T tokens, V vocabulary (256 bytes), d model width. Matrices are row-major float32 views
// of TF.js backend memory or plain Float32Arrays; every length is checked here against the shapes and a
// mismatch throws a RangeError before anything is read or written (docs/native.md, "Fused loss, RMSNorm
// and AdamW", has the maths and why each kernel exists).
#include <math.h>
#include <stdlib.h>

#include "loadscope.h"

#ifdef LOADSCOPE_ACCELERATE
#define ACCELERATE_NEW_LAPACK
#include <Accelerate/Accelerate.h>
#else
#include <cblas.h>
#endif

// Not trapping on FP exceptions (results unchanged) lets GCC turn the softmax loops' selects into vector
// code; no FMA contraction keeps RMSNorm rounding like the JS loops it replaces.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off", "no-trapping-math")
#endif
// after the pragmas: vmath.h's inline functions must share them to inline into this file's loops
#include "vmath.h"

static napi_value range_error(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

static napi_value number(napi_env env, double x) {
  napi_value out;
  return napi_create_double(env, x, &out) == napi_ok ? out : NULL;
}

// Shapes bounded so products of two dimensions fit in int64 and each dimension fits BLAS's int.
static int dims_ok(int64_t a, int64_t b, int64_t c) { return a <= INT32_MAX && b <= INT32_MAX && c <= INT32_MAX; }

// max x over n ≥ 1 values, four running maxima (a NaN logit gives a NaN loss either way).
LS_INLINE float max_f32(const float *restrict x, int64_t n) {
  float m0 = x[0], m1 = x[0], m2 = x[0], m3 = x[0];
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    m0 = x[j] > m0 ? x[j] : m0;
    m1 = x[j + 1] > m1 ? x[j + 1] : m1;
    m2 = x[j + 2] > m2 ? x[j + 2] : m2;
    m3 = x[j + 3] > m3 ? x[j + 3] : m3;
  }
  for (; j < n; j++) m0 = x[j] > m0 ? x[j] : m0;
  m0 = m1 > m0 ? m1 : m0;
  m2 = m3 > m2 ? m3 : m2;
  return m2 > m0 ? m2 : m0;
}

// Σ x in double with four running sums (independent additions pipeline; the order is fixed).
LS_INLINE double sum_f64(const float *restrict x, int64_t n) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    s0 += x[j];
    s1 += x[j + 1];
    s2 += x[j + 2];
    s3 += x[j + 3];
  }
  for (; j < n; j++) s0 += x[j];
  return (s0 + s1) + (s2 + s3);
}

// Row-wise softmax of the logits in place and the summed cross-entropy; per CPU (LS_CLONES) so the e^x
// and scaling loops use the machine's vector width.
LS_CLONES static double softmax_loss(int64_t T, int64_t V, float *restrict p, const int32_t *restrict tg) {
  double loss = 0.0;
  for (int64_t t = 0; t < T; t++) {
    float *restrict z = p + t * V;
    const float max = max_f32(z, V);
    const float target = z[tg[t]];
    for (int64_t j = 0; j < V; j++) z[j] = ls_exp_nonpositive(z[j] - max);
    const double sum = sum_f64(z, V);
    const float inv = (float)(1.0 / sum);
    for (int64_t j = 0; j < V; j++) z[j] *= inv;
    loss += log(sum) + (double)max - (double)target;
  }
  return loss;
}

// lmLossForward(T, V, d, x [T·d], wte [V·d], targets [T] int32, probs [T·V]) → mean cross-entropy.
// probs gets softmax(x·wteᵀ) for the backward pass. Loss per row: log Σ exp(z − max) + max − z[target].
static napi_value lm_loss_forward(napi_env env, napi_callback_info info) {
  LS_ARGS(7, "fused.lmLossForward: expected (T, V, d, x, wte, targets, probs)");
  int64_t T, V, d;
  float *x, *w, *p;
  int32_t *tg;
  size_t nx, nw, nt, np;
  if (!ls_get_i64(env, argv[0], &T, "fused.lmLossForward: T") || !ls_get_i64(env, argv[1], &V, "fused.lmLossForward: V") ||
      !ls_get_i64(env, argv[2], &d, "fused.lmLossForward: d") || !ls_get_f32(env, argv[3], &x, &nx, "fused.lmLossForward: x") ||
      !ls_get_f32(env, argv[4], &w, &nw, "fused.lmLossForward: wte") ||
      !ls_get_i32(env, argv[5], &tg, &nt, "fused.lmLossForward: targets") ||
      !ls_get_f32(env, argv[6], &p, &np, "fused.lmLossForward: probs"))
    return NULL;
  if (!dims_ok(T, V, d) || T == 0 || V == 0) return range_error(env, "fused.lmLossForward: T and V must be in 1..2^31-1, d at most 2^31-1");
  if ((int64_t)nx != T * d || (int64_t)nw != V * d || (int64_t)nt != T || (int64_t)np != T * V)
    return range_error(env, "fused.lmLossForward: x, wte, targets or probs does not have T·d, V·d, T or T·V elements");
  for (int64_t t = 0; t < T; t++)
    if (tg[t] < 0 || tg[t] >= V) return range_error(env, "fused.lmLossForward: a target is outside 0..V-1");
  if (d == 0) {
    for (int64_t i = 0; i < T * V; i++) p[i] = 0.0f;
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)T, (int)V, (int)d, 1.0f, x, (int)d, w, (int)d, 0.0f, p, (int)V);
  }
  return number(env, softmax_loss(T, V, p, tg) / (double)T);
}

// lmLossBackward(T, V, d, scale, probs, targets, x, wte, dx [T·d], dwte [V·d]): with the loss gradient
// dz = (p − onehot(target))·scale (scale = upstream gradient / T), written over probs,
// dx = dz·wte and dwte = dzᵀ·x.
static napi_value lm_loss_backward(napi_env env, napi_callback_info info) {
  LS_ARGS(10, "fused.lmLossBackward: expected (T, V, d, scale, probs, targets, x, wte, dx, dwte)");
  int64_t T, V, d;
  double scale;
  float *p, *x, *w, *dx, *dw;
  int32_t *tg;
  size_t np, nt, nx, nw, ndx, ndw;
  if (!ls_get_i64(env, argv[0], &T, "fused.lmLossBackward: T") || !ls_get_i64(env, argv[1], &V, "fused.lmLossBackward: V") ||
      !ls_get_i64(env, argv[2], &d, "fused.lmLossBackward: d") || !ls_get_f64(env, argv[3], &scale, "fused.lmLossBackward: scale") ||
      !ls_get_f32(env, argv[4], &p, &np, "fused.lmLossBackward: probs") ||
      !ls_get_i32(env, argv[5], &tg, &nt, "fused.lmLossBackward: targets") ||
      !ls_get_f32(env, argv[6], &x, &nx, "fused.lmLossBackward: x") || !ls_get_f32(env, argv[7], &w, &nw, "fused.lmLossBackward: wte") ||
      !ls_get_f32(env, argv[8], &dx, &ndx, "fused.lmLossBackward: dx") ||
      !ls_get_f32(env, argv[9], &dw, &ndw, "fused.lmLossBackward: dwte"))
    return NULL;
  if (!dims_ok(T, V, d)) return range_error(env, "fused.lmLossBackward: a dimension exceeds 2^31-1");
  if ((int64_t)np != T * V || (int64_t)nt != T || (int64_t)nx != T * d || (int64_t)nw != V * d || (int64_t)ndx != T * d ||
      (int64_t)ndw != V * d)
    return range_error(env, "fused.lmLossBackward: probs, targets, x, wte, dx or dwte has the wrong number of elements");
  for (int64_t t = 0; t < T; t++)
    if (tg[t] < 0 || tg[t] >= V) return range_error(env, "fused.lmLossBackward: a target is outside 0..V-1");
  const float s = (float)scale;
  for (int64_t i = 0; i < T * V; i++) p[i] *= s;
  for (int64_t t = 0; t < T; t++) p[t * V + tg[t]] -= s;
  if (d == 0) return NULL;
  if (T == 0) {
    for (int64_t i = 0; i < V * d; i++) dw[i] = 0.0f;
    return NULL;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)T, (int)d, (int)V, 1.0f, p, (int)V, w, (int)d, 0.0f, dx, (int)d);
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)V, (int)d, (int)T, 1.0f, p, (int)V, x, (int)d, 0.0f, dw, (int)d);
  return NULL;
}

// 1/√(mean(x²) + ε) of one row, summed in double over four running sums (independent adds pipeline).
LS_INLINE double inv_rms(const float *restrict x, int64_t d, double eps) {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  int64_t j = 0;
  for (; j + 4 <= d; j += 4) {
    s0 += (double)x[j] * (double)x[j];
    s1 += (double)x[j + 1] * (double)x[j + 1];
    s2 += (double)x[j + 2] * (double)x[j + 2];
    s3 += (double)x[j + 3] * (double)x[j + 3];
  }
  for (; j < d; j++) s0 += (double)x[j] * (double)x[j];
  return 1.0 / sqrt(((s0 + s1) + (s2 + s3)) / (double)d + eps);
}

// The row loops of both RMSNorm directions, per CPU (LS_CLONES); restrict lets the element loops vectorise.
LS_CLONES static void rms_forward_rows(int64_t T, int64_t d, double eps, const float *restrict x, const float *restrict g,
                                       float *restrict y) {
  for (int64_t t = 0; t < T; t++) {
    const float *restrict xt = x + t * d;
    float *restrict yt = y + t * d;
    const double r = inv_rms(xt, d, eps);
    for (int64_t j = 0; j < d; j++) yt[j] = (float)((double)xt[j] * r * (double)g[j]);
  }
}

LS_CLONES static void rms_backward_rows(int64_t T, int64_t d, double eps, const float *restrict x, const float *restrict g,
                                        const float *restrict dy, float *restrict dx, double *restrict acc) {
  for (int64_t t = 0; t < T; t++) {
    const float *restrict xt = x + t * d, *restrict dyt = dy + t * d;
    float *restrict dxt = dx + t * d;
    const double r = inv_rms(xt, d, eps);
    double q0 = 0.0, q1 = 0.0, q2 = 0.0, q3 = 0.0;
    int64_t j = 0;
    for (; j + 4 <= d; j += 4) {
      q0 += (double)dyt[j] * (double)g[j] * (double)xt[j];
      q1 += (double)dyt[j + 1] * (double)g[j + 1] * (double)xt[j + 1];
      q2 += (double)dyt[j + 2] * (double)g[j + 2] * (double)xt[j + 2];
      q3 += (double)dyt[j + 3] * (double)g[j + 3] * (double)xt[j + 3];
    }
    for (; j < d; j++) q0 += (double)dyt[j] * (double)g[j] * (double)xt[j];
    for (j = 0; j < d; j++) acc[j] += (double)dyt[j] * (double)xt[j] * r;
    const double c = r * r * r * ((q0 + q1) + (q2 + q3)) / (double)d;
    for (j = 0; j < d; j++) dxt[j] = (float)(r * (double)dyt[j] * (double)g[j] - (double)xt[j] * c);
  }
}

// rmsNormForward(T, d, eps, x [T·d], g [d], y [T·d]): y = x · r · g per row.
static napi_value rms_norm_forward(napi_env env, napi_callback_info info) {
  LS_ARGS(6, "fused.rmsNormForward: expected (T, d, eps, x, g, y)");
  int64_t T, d;
  double eps;
  float *x, *g, *y;
  size_t nx, ng, ny;
  if (!ls_get_i64(env, argv[0], &T, "fused.rmsNormForward: T") || !ls_get_i64(env, argv[1], &d, "fused.rmsNormForward: d") ||
      !ls_get_f64(env, argv[2], &eps, "fused.rmsNormForward: eps") || !ls_get_f32(env, argv[3], &x, &nx, "fused.rmsNormForward: x") ||
      !ls_get_f32(env, argv[4], &g, &ng, "fused.rmsNormForward: g") || !ls_get_f32(env, argv[5], &y, &ny, "fused.rmsNormForward: y"))
    return NULL;
  if (!dims_ok(T, d, 0) || d == 0) return range_error(env, "fused.rmsNormForward: d must be in 1..2^31-1");
  if ((int64_t)nx != T * d || (int64_t)ng != d || (int64_t)ny != T * d)
    return range_error(env, "fused.rmsNormForward: x, g or y does not have T·d, d or T·d elements");
  rms_forward_rows(T, d, eps, x, g, y);
  return NULL;
}

// rmsNormBackward(T, d, eps, x, g, dy, dx [T·d], dg [d]): r recomputed per row, then
// dg = Σ_t dy·x·r (double) and dx = r·dy·g − x·r³·(Σ_j dy_j·g_j·x_j)/d.
static napi_value rms_norm_backward(napi_env env, napi_callback_info info) {
  LS_ARGS(8, "fused.rmsNormBackward: expected (T, d, eps, x, g, dy, dx, dg)");
  int64_t T, d;
  double eps;
  float *x, *g, *dy, *dx, *dg;
  size_t nx, ng, ndy, ndx, ndg;
  if (!ls_get_i64(env, argv[0], &T, "fused.rmsNormBackward: T") || !ls_get_i64(env, argv[1], &d, "fused.rmsNormBackward: d") ||
      !ls_get_f64(env, argv[2], &eps, "fused.rmsNormBackward: eps") || !ls_get_f32(env, argv[3], &x, &nx, "fused.rmsNormBackward: x") ||
      !ls_get_f32(env, argv[4], &g, &ng, "fused.rmsNormBackward: g") || !ls_get_f32(env, argv[5], &dy, &ndy, "fused.rmsNormBackward: dy") ||
      !ls_get_f32(env, argv[6], &dx, &ndx, "fused.rmsNormBackward: dx") || !ls_get_f32(env, argv[7], &dg, &ndg, "fused.rmsNormBackward: dg"))
    return NULL;
  if (!dims_ok(T, d, 0) || d == 0) return range_error(env, "fused.rmsNormBackward: d must be in 1..2^31-1");
  if ((int64_t)nx != T * d || (int64_t)ng != d || (int64_t)ndy != T * d || (int64_t)ndx != T * d || (int64_t)ndg != d)
    return range_error(env, "fused.rmsNormBackward: x, g, dy, dx or dg does not have T·d, d, T·d, T·d or d elements");
  double *acc = calloc((size_t)d, sizeof(double));
  if (!acc) return range_error(env, "fused.rmsNormBackward: out of memory for d partial sums");
  rms_backward_rows(T, d, eps, x, g, dy, dx, acc);
  for (int64_t j = 0; j < d; j++) dg[j] = (float)acc[j];
  free(acc);
  return NULL;
}

napi_status ls_register_fused(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"lmLossForward", NULL, lm_loss_forward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"lmLossBackward", NULL, lm_loss_backward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rmsNormForward", NULL, rms_norm_forward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"rmsNormBackward", NULL, rms_norm_backward, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_status status = napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return status == napi_ok ? ls_register_adamw(env, exports) : status;
}
