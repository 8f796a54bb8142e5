// Shared declarations of Loadscope's N-API addon: argument readers and each kernel family's registration.
#ifndef LOADSCOPE_NATIVE_H
#define LOADSCOPE_NATIVE_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

// Reads a Float32Array argument (base pointer, length in elements); on failure throws a TypeError naming
// `what` (e.g. "experts.forward: x") and returns 0.
int ls_get_f32(napi_env env, napi_value v, float **data, size_t *length, const char *what);
// Reads an Int32Array argument the same way.
int ls_get_i32(napi_env env, napi_value v, int32_t **data, size_t *length, const char *what);
// Reads a non-negative integer; on failure throws a TypeError naming `what` and returns 0.
int ls_get_i64(napi_env env, napi_value v, int64_t *out, const char *what);
// Reads a number (float64); on failure throws and returns 0.
int ls_get_f64(napi_env env, napi_value v, double *out, const char *what);

// Declares argv[n] and reads exactly n arguments of the current call; otherwise throws a TypeError with `usage`
// and returns NULL from the calling function (needs `env` and `info` in scope).
#define LS_ARGS(n, usage)                                                                  \
  size_t argc = (n);                                                                       \
  napi_value argv[(n)];                                                                    \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != (n)) {    \
    napi_throw_type_error(env, NULL, usage);                                               \
    return NULL;                                                                           \
  }

// Each kernel family adds its functions to the addon's exports (one file each, called from blas.c's init).
napi_status ls_register_experts(napi_env env, napi_value exports);
napi_status ls_register_attention(napi_env env, napi_value exports);
napi_status ls_register_fused(napi_env env, napi_value exports);
// AdamW (adamw.c), registered from ls_register_fused.
napi_status ls_register_adamw(napi_env env, napi_value exports);
// Test hooks for vmath.h's e^x and sigmoid (vmath.c).
napi_status ls_register_vmath(napi_env env, napi_value exports);
#endif
