# node-gyp build of the native matmul addon, written to native/build/Release/blas.node (see docs/native.md).
{
  "targets": [
    {
      "target_name": "blas",
      "sources": ["blas.c", "experts.c", "attention.c", "fused.c", "adamw.c", "vmath.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O3", "-fno-math-errno"],
      "conditions": [
        ["OS=='linux'", {
          "include_dirs": ["/usr/include/x86_64-linux-gnu", "/usr/include/aarch64-linux-gnu", "/usr/include/openblas"],
          "libraries": ["-lopenblas"]
        }],
        ["OS=='mac'", {
          "defines": ["LOADSCOPE_ACCELERATE"],
          "link_settings": {"libraries": ["-framework Accelerate"]}
        }]
      ]
    }
  ]
}
