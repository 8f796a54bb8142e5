// Loadscope's native matmul addon: N-API (ABI-stable, loads in Node and Electron) over cblas_sgemm (OpenBLAS; Accelerate on macOS).
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>

#include "loadscope.h"

#ifdef LOADSCOPE_ACCELERATE
// macOS (binding.gyp): Apple's Accelerate has the same cblas_sgemm and sizes its own thread pool, so the
// OpenBLAS thread calls become no-ops that report one thread as the caller asked (untested here: no Mac).
#define ACCELERATE_NEW_LAPACK
#include <Accelerate/Accelerate.h>
static int accelerate_threads = 1;
static void openblas_set_num_threads(int num_threads) { accelerate_threads = num_threads; }
static int openblas_get_num_threads(void) { return accelerate_threads; }
static char *openblas_get_config(void) { return "Apple Accelerate"; }
#else
#include <cblas.h>
// OpenBLAS extensions (declared in its cblas.h; repeated here so another CBLAS header still compiles).
extern void openblas_set_num_threads(int num_threads);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);
#endif

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, NULL, "blas: N-API call failed: " #call); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

// Reads a typed array of the given type: base pointer and length in elements; throws naming `what` otherwise.
static int get_typed(napi_env env, napi_value v, napi_typedarray_type want, const char *type_name, void **data,
                     size_t *length, const char *what) {
  napi_typedarray_type type;
  size_t len, byte_offset;
  void *ptr;
  napi_value buf;
  char msg[128];
  if (napi_get_typedarray_info(env, v, &type, &len, &ptr, &buf, &byte_offset) != napi_ok || type != want) {
    snprintf(msg, sizeof msg, "%s must be %s", what, type_name);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  *data = ptr;  // napi already adds byte_offset to ptr
  *length = len;
  return 1;
}

int ls_get_f32(napi_env env, napi_value v, float **data, size_t *length, const char *what) {
  return get_typed(env, v, napi_float32_array, "a Float32Array", (void **)data, length, what);
}

int ls_get_i32(napi_env env, napi_value v, int32_t **data, size_t *length, const char *what) {
  return get_typed(env, v, napi_int32_array, "an Int32Array", (void **)data, length, what);
}

int ls_get_i64(napi_env env, napi_value v, int64_t *out, const char *what) {
  char msg[128];
  if (napi_get_value_int64(env, v, out) != napi_ok || *out < 0) {
    snprintf(msg, sizeof msg, "%s must be a non-negative integer", what);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

int ls_get_f64(napi_env env, napi_value v, double *out, const char *what) {
  char msg[128];
  if (napi_get_value_double(env, v, out) != napi_ok) {
    snprintf(msg, sizeof msg, "%s must be a number", what);
    napi_throw_type_error(env, NULL, msg);
    return 0;
  }
  return 1;
}

// Highest element index + 1 that `batch` matrices of `size` elements `stride` apart touch.
static int64_t extent(int64_t batch, int64_t stride, int64_t size) {
  return batch == 0 || size == 0 ? 0 : (batch - 1) * stride + size;
}

// gemm(batch, m, n, k, transA, transB, a, strideA, b, strideB, c): for i < batch,
// c[i*m*n ..] = op(a[i*strideA ..]) · op(b[i*strideB ..]), all row-major; stride 0 broadcasts one matrix.
static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 11) {
    napi_throw_type_error(env, NULL, "blas.gemm: expected 11 arguments (batch, m, n, k, transA, transB, a, strideA, b, strideB, c)");
    return NULL;
  }
  int64_t batch, m, n, k, strideA, strideB;
  bool transA, transB;
  float *a, *b, *c;
  size_t lenA, lenB, lenC;
  if (!ls_get_i64(env, argv[0], &batch, "blas.gemm: batch") || !ls_get_i64(env, argv[1], &m, "blas.gemm: m") ||
      !ls_get_i64(env, argv[2], &n, "blas.gemm: n") || !ls_get_i64(env, argv[3], &k, "blas.gemm: k"))
    return NULL;
  if (napi_get_value_bool(env, argv[4], &transA) != napi_ok || napi_get_value_bool(env, argv[5], &transB) != napi_ok) {
    napi_throw_type_error(env, NULL, "blas.gemm: transA and transB must be booleans");
    return NULL;
  }
  if (!ls_get_f32(env, argv[6], &a, &lenA, "blas.gemm: a") || !ls_get_i64(env, argv[7], &strideA, "blas.gemm: strideA") ||
      !ls_get_f32(env, argv[8], &b, &lenB, "blas.gemm: b") || !ls_get_i64(env, argv[9], &strideB, "blas.gemm: strideB") ||
      !ls_get_f32(env, argv[10], &c, &lenC, "blas.gemm: c"))
    return NULL;
  if (m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) {
    napi_throw_range_error(env, NULL, "blas.gemm: a matrix dimension exceeds 2^31-1");
    return NULL;
  }
  // Bounds are checked here, not trusted from JS: a wrong view must throw, never scribble on memory.
  if (extent(batch, strideA, m * k) > (int64_t)lenA || extent(batch, strideB, k * n) > (int64_t)lenB ||
      extent(batch, m * n, m * n) > (int64_t)lenC) {
    napi_throw_range_error(env, NULL, "blas.gemm: a, b or c is too short for the given batch, shapes and strides");
    return NULL;
  }
  const int lda = transA ? (int)m : (int)k;
  const int ldb = transB ? (int)k : (int)n;
  for (int64_t i = 0; i < batch; i++) {
    float *ci = c + i * m * n;
    if (k == 0) {  // an empty sum: BLAS leaves C alone when k is 0, TF.js returns zeros
      for (int64_t j = 0; j < m * n; j++) ci[j] = 0.0f;
      continue;
    }
    if (m == 0 || n == 0) continue;
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, (int)m,
                (int)n, (int)k, 1.0f, a + i * strideA, lda, b + i * strideB, ldb, 0.0f, ci, (int)n);
  }
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t threads;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || napi_get_value_int32(env, argv[0], &threads) != napi_ok || threads < 1) {
    napi_throw_type_error(env, NULL, "blas.setThreads: expected a positive integer");
    return NULL;
  }
  openblas_set_num_threads(threads);
  return NULL;
}

static napi_value get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &out));
  return out;
}

static napi_value get_config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  CHECK(napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &out));
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gemm", NULL, gemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"getThreads", NULL, get_threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"config", NULL, get_config, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  CHECK(ls_register_experts(env, exports));
  CHECK(ls_register_attention(env, exports));
  CHECK(ls_register_fused(env, exports));
  CHECK(ls_register_vmath(env, exports));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
