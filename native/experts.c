// Placeholder for the fused experts kernels (filled in by the CPU-speed work, issue #11).
#include "loadscope.h"

napi_status ls_register_experts(napi_env env, napi_value exports) {
  (void)env;
  (void)exports;
  return napi_ok;
}
