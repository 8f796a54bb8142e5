#!/usr/bin/env bash
# One-time set-up of a fresh machine: Debian's Chromium and OpenBLAS (when missing), npm ci, then Electron's
# binary. npm ci itself skips the binary so that it succeeds offline; Electron's own installer runs after it
# and, where it cannot download (offline, CI), prints one line and set-up still succeeds (`npm start` then
# serves the app to a browser). ELECTRON_SKIP_BINARY_DOWNLOAD=1 skips that step too.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: chromium (browser tests), Python numpy/torch/scipy (python/ package, bench references),
# OpenBLAS (the native matmul kernels of the CPU training path, src/main/engine/native; without it
# training falls back to TF.js's own wasm kernels) and the Vulkan loader libvulkan1 (the webgpu backend's
# Dawn on Linux; tests use chromium's SwiftShader driver).
need=()
[ -x "${LOADSCOPE_CHROMIUM:-/usr/bin/chromium}" ] || [ "${LOADSCOPE_SKIP_CHROMIUM:-0}" = "1" ] || need+=(chromium)
# Python side (python/, docs/trainers.md): numpy for the writer; torch (below) for the hooks' tests.
/usr/bin/python3 -c 'import numpy' 2>/dev/null || need+=(python3-numpy python3-setuptools python3-pip)
[ -e /usr/include/x86_64-linux-gnu/cblas.h ] || [ -e /usr/include/cblas.h ] || [ -e /usr/include/aarch64-linux-gnu/cblas.h ] || need+=(libopenblas-dev)
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 ' || need+=(libvulkan1)
# python3-torch and python3-scipy: the hooks' tests, the bench's PyTorch reference trainer
# (bench/torch_reference.py) and HiGHS reference solver (bench/highs.py); LOADSCOPE_SKIP_TORCH=1 skips
# both (≈ 1 GiB of packages); the tests that need them then skip and say why.
if [ "${LOADSCOPE_SKIP_TORCH:-0}" != "1" ]; then
  /usr/bin/python3 -c 'import torch' 2>/dev/null || need+=(python3-torch)
  /usr/bin/python3 -c 'import scipy.optimize' 2>/dev/null || need+=(python3-scipy)
fi
if [ ${#need[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  echo "setup: installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
if [ "${ELECTRON_SKIP_BINARY_DOWNLOAD:-0}" != "1" ]; then
  node scripts/electron-binary.mjs --install
fi
