#!/usr/bin/env bash
# One-time set-up of a fresh machine: Debian's Chromium for the browser tests (when missing) and npm ci.
# Electron's binary download is skipped: it cannot download on offline machines, and nothing here needs it
# (the app also runs headless as `loadscope serve`). Unset ELECTRON_SKIP_BINARY_DOWNLOAD to get the window.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: chromium (browser tests) and OpenBLAS (the native matmul kernels of the CPU training
# path, src/main/engine/native; without it training falls back to TF.js's own wasm kernels), and the
# Vulkan loader libvulkan1 (the webgpu backend's Dawn on Linux; tests use chromium's SwiftShader driver).
need=()
[ -x "${LOADSCOPE_CHROMIUM:-/usr/bin/chromium}" ] || [ "${LOADSCOPE_SKIP_CHROMIUM:-0}" = "1" ] || need+=(chromium)
[ -e /usr/include/x86_64-linux-gnu/cblas.h ] || [ -e /usr/include/cblas.h ] || [ -e /usr/include/aarch64-linux-gnu/cblas.h ] || need+=(libopenblas-dev)
ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 ' || need+=(libvulkan1)
if [ ${#need[@]} -gt 0 ] && command -v apt-get >/dev/null; then
  echo "setup: installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  ELECTRON_SKIP_BINARY_DOWNLOAD="${ELECTRON_SKIP_BINARY_DOWNLOAD:-1}" npm ci --no-audit --no-fund
fi
