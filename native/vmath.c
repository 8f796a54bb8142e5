// The addon's view of vmath.h for tests: e^x and σ over a Float32Array, so JS can hold them to float64 references.
#include <stdio.h>

#include "loadscope.h"
#include "vmath.h"

// Runs f over the Float32Array argv[0] into argv[1] (the same length); throws naming `fn` otherwise.
static napi_value map(napi_env env, napi_callback_info info, const char *fn, int which) {
  size_t argc = 2;
  napi_value argv[2];
  char what[64];
  float *x, *y;
  size_t nx, ny;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) {
    snprintf(what, sizeof what, "%s: expected (x, y)", fn);
    napi_throw_type_error(env, NULL, what);
    return NULL;
  }
  snprintf(what, sizeof what, "%s: x", fn);
  if (!ls_get_f32(env, argv[0], &x, &nx, what)) return NULL;
  snprintf(what, sizeof what, "%s: y", fn);
  if (!ls_get_f32(env, argv[1], &y, &ny, what)) return NULL;
  if (nx != ny) {
    snprintf(what, sizeof what, "%s: x and y differ in length", fn);
    napi_throw_range_error(env, NULL, what);
    return NULL;
  }
  // the same inline functions the kernels' loops use (compiled here for baseline x86-64)
  for (size_t i = 0; i < nx; i++) y[i] = which == 0 ? ls_exp_nonpositive(x[i]) : ls_sigmoid(x[i]);
  return NULL;
}

// vmathExp(x, y): y = e^x for x ≤ 0 (vmath.h's ls_exp_nonpositive)
static napi_value vmath_exp(napi_env env, napi_callback_info info) { return map(env, info, "vmathExp", 0); }
// vmathSigmoid(x, y): y = σ(x) (vmath.h's ls_sigmoid)
static napi_value vmath_sigmoid(napi_env env, napi_callback_info info) { return map(env, info, "vmathSigmoid", 1); }

napi_status ls_register_vmath(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"vmathExp", NULL, vmath_exp, NULL, NULL, NULL, napi_enumerable, NULL},
      {"vmathSigmoid", NULL, vmath_sigmoid, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
