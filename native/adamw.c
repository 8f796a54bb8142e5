// AdamW with global-norm clipping over every parameter in one call (the "Fused loss, RMSNorm and AdamW"
// section of docs/native.md). Registered by fused.c as adamW; the JS twin is train/optimizer.ts jsAdamW.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "loadscope.h"

// Must round exactly like jsAdamW: no fused multiply-add contraction in this file (binding.gyp's
// -fno-math-errno lets sqrt inline and vectorise; it only drops errno writes).
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
// after the pragma: its no-contraction setting must cover the clones below too
#include "vmath.h"

// Σg² keeps LANES float64 partial sums, element j of every parameter going to sum j mod LANES, combined
// pairwise at the end: the adds no longer wait on each other (a single running sum was most of the
// kernel's time) and, with the order fixed, jsAdamW sums the same way and gets the same norm.
#define LANES 8

LS_CLONES static void sum_squares(const float *restrict g, size_t n, double *restrict acc) {
  size_t j = 0;
  for (; j + LANES <= n; j += LANES)
    for (int l = 0; l < LANES; l++) acc[l] += (double)g[j + l] * (double)g[j + l];
  for (; j < n; j++) acc[j % LANES] += (double)g[j] * (double)g[j];
}

// One parameter's update (see adam_w); restrict: weights, grads and moments are separate arrays, which
// lets the loop vectorise. IEEE division and square root round the same in vector lanes, so the result
// does not depend on the CPU's vector width.
LS_CLONES static void update(float *restrict w, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                             double s, double kp, double step, double rc2, double b1, double b2, double eps) {
  const double k1 = 1 - b1, k2 = 1 - b2;
  for (size_t j = 0; j < n; j++) {
    const double gj = (double)g[j] * s;
    const double mj = b1 * (double)m[j] + k1 * gj;
    const double vj = b2 * (double)v[j] + k2 * gj * gj;
    m[j] = (float)mj;
    v[j] = (float)vj;
    w[j] = (float)((double)w[j] * kp - (step * mj) / (sqrt(vj) * rc2 + eps));
  }
}

static napi_value range_error(napi_env env, const char *msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

// The i-th Float32Array of a JS array argument (what: e.g. "fused.adamW: weights").
static int array_f32(napi_env env, napi_value arr, uint32_t i, float **data, size_t *len, const char *what) {
  napi_value el;
  char msg[96];
  snprintf(msg, sizeof msg, "%s[%u]", what, i);
  if (napi_get_element(env, arr, i, &el) != napi_ok) {
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return ls_get_f32(env, el, data, len, msg);
}

static int array_length(napi_env env, napi_value arr, uint32_t *n, const char *what) {
  bool is;
  if (napi_is_array(env, arr, &is) != napi_ok || !is || napi_get_array_length(env, arr, n) != napi_ok) {
    napi_throw_type_error(env, NULL, what);
    return 0;
  }
  return 1;
}

// adamW(weights[], grads[], m[], v[], keep number[], step, rc2, beta1, beta2, eps, clip, c)
// → the global norm of the gradients scaled by c (c = 1/k averages k micro-batches' summed gradients).
// Per parameter i and element j, in double, moments and weights stored float32:
//   norm = c·√Σgrad² (summed in LANES partial sums, as jsAdamW does);  g = grad·s with s = c·clip/(norm + 1e-6) when clip > 0 and norm > clip, else c
//   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g·g;  w = w·keep_i − step·m/(√v·rc2 + ε)
// with step = lr/(1−β1^t), rc2 = 1/√(1−β2^t), keep_i = 1 − lr·wd (decayed) or 1, computed by the caller.
static napi_value adam_w(napi_env env, napi_callback_info info) {
  LS_ARGS(12, "fused.adamW: expected (weights, grads, m, v, keep, step, rc2, beta1, beta2, eps, clip, gradScale)");
  uint32_t n, n2, n3, n4, n5;
  if (!array_length(env, argv[0], &n, "fused.adamW: weights must be an array of Float32Arrays") ||
      !array_length(env, argv[1], &n2, "fused.adamW: grads must be an array of Float32Arrays") ||
      !array_length(env, argv[2], &n3, "fused.adamW: m must be an array of Float32Arrays") ||
      !array_length(env, argv[3], &n4, "fused.adamW: v must be an array of Float32Arrays") ||
      !array_length(env, argv[4], &n5, "fused.adamW: keep must be an array of numbers"))
    return NULL;
  if (n2 != n || n3 != n || n4 != n || n5 != n) return range_error(env, "fused.adamW: weights, grads, m, v and keep differ in length");
  double step, rc2, b1, b2, eps, clip, c;
  if (!ls_get_f64(env, argv[5], &step, "fused.adamW: step") || !ls_get_f64(env, argv[6], &rc2, "fused.adamW: rc2") ||
      !ls_get_f64(env, argv[7], &b1, "fused.adamW: beta1") || !ls_get_f64(env, argv[8], &b2, "fused.adamW: beta2") ||
      !ls_get_f64(env, argv[9], &eps, "fused.adamW: eps") || !ls_get_f64(env, argv[10], &clip, "fused.adamW: clip") ||
      !ls_get_f64(env, argv[11], &c, "fused.adamW: gradScale"))
    return NULL;
  float **ptr = calloc((size_t)n * 4 + 1, sizeof(float *));
  size_t *len = calloc((size_t)n + 1, sizeof(size_t));
  double *keep = calloc((size_t)n + 1, sizeof(double));
  napi_value result = NULL;
  if (!ptr || !len || !keep) {
    range_error(env, "fused.adamW: out of memory for the parameter table");
    goto done;
  }
  // Every view is read and checked before anything is written: a bad argument changes nothing.
  for (uint32_t i = 0; i < n; i++) {
    size_t lw, lg, lm, lv;
    napi_value k;
    if (!array_f32(env, argv[0], i, &ptr[4 * i], &lw, "fused.adamW: weights") ||
        !array_f32(env, argv[1], i, &ptr[4 * i + 1], &lg, "fused.adamW: grads") ||
        !array_f32(env, argv[2], i, &ptr[4 * i + 2], &lm, "fused.adamW: m") ||
        !array_f32(env, argv[3], i, &ptr[4 * i + 3], &lv, "fused.adamW: v"))
      goto done;
    if (lg != lw || lm != lw || lv != lw) {
      char msg[96];
      snprintf(msg, sizeof msg, "fused.adamW: parameter %u's weight, grad, m and v differ in length", i);
      range_error(env, msg);
      goto done;
    }
    if (napi_get_element(env, argv[4], i, &k) != napi_ok || !ls_get_f64(env, k, &keep[i], "fused.adamW: keep[i]")) goto done;
    len[i] = lw;
  }
  double acc[LANES] = {0};
  for (uint32_t i = 0; i < n; i++) sum_squares(ptr[4 * i + 1], len[i], acc);
  const double ss = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  const double norm = sqrt(ss) * c;
  const double s = (clip > 0 && norm > clip ? clip / (norm + 1e-6) : 1.0) * c;
  for (uint32_t i = 0; i < n; i++)
    update(ptr[4 * i], ptr[4 * i + 1], ptr[4 * i + 2], ptr[4 * i + 3], len[i], s, keep[i], step, rc2, b1, b2, eps);
  if (napi_create_double(env, norm, &result) != napi_ok) result = NULL;
done:
  free(ptr);
  free(len);
  free(keep);
  return result;
}

napi_status ls_register_adamw(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"adamW", NULL, adam_w, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
