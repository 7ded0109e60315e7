#!/usr/bin/env bash
# The one prepared script for a machine with a GPU and no network
# (a device machine lent to a session). Prepare here with `npm run gpu:bundle`
# and carry out/gpu-bundle; there, from the repository root:
#
#   bash scripts/gpu-machine.sh            # results in $OUT (or ./gpu-results)
#
# What it can and cannot run offline:
# - WebGPU: bundled in onnxruntime-node's libonnxruntime.so.1; needs only a
#   Vulkan loader (carried in the bundle if the machine has none) and the GPU
#   driver's Vulkan ICD (an NVIDIA container needs NVIDIA_DRIVER_CAPABILITIES
#   to include "graphics"; otherwise Dawn finds no adapter and says so).
# - CUDA: onnxruntime-node fetches its CUDA provider from NuGet, which no
#   machine here reaches. It runs only if the machine already holds
#   libonnxruntime_providers_cuda.so of the same ONNX Runtime version (1.30.0),
#   e.g. from a pip onnxruntime-gpu 1.30.0 wheel, plus CUDA 12 and cuDNN 9:
#   the script looks for it and says what it found.
# - Node.js ≥ 18 must be on the machine (not carried: ~100 MB).
set -u
bundle=out/gpu-bundle
out=${OUT:-gpu-results}
mkdir -p "$out"
log() { echo "gpu-machine: $*" | tee -a "$out/setup.log"; }

if ! command -v node >/dev/null; then log "no node on this machine; install Node.js ≥ 18 (cannot be fetched offline)"; exit 1; fi
log "node $(node --version)"
if [ ! -f "$bundle/gpu-providers.cjs" ]; then log "$bundle is missing: run npm run gpu:bundle where the registries are reachable, and carry it"; exit 1; fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee -a "$out/setup.log"

# Vulkan loader: the system's, else the carried one.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  if [ -f "$bundle/vulkan/libvulkan.so.1" ]; then
    export LD_LIBRARY_PATH="$PWD/$bundle/vulkan${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    log "using the carried Vulkan loader"
  else
    log "no Vulkan loader: WebGPU will find no adapter"
  fi
fi
icd=$(ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null | tr '\n' ' ')
log "Vulkan ICDs: ${icd:-none found}"
# The NVIDIA container runtime mounts the ICD library but not always its JSON manifest.
if [ -z "$icd" ] && ldconfig -p 2>/dev/null | grep -q 'libGLX_nvidia.so.0'; then
  mkdir -p "$out/icd"
  printf '{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3"}}\n' >"$out/icd/nvidia_icd.json"
  export VK_ICD_FILENAMES="$PWD/$out/icd/nvidia_icd.json"
  log "wrote an NVIDIA ICD manifest for libGLX_nvidia.so.0"
fi

# CUDA provider libraries of the same ONNX Runtime version, if the machine has them.
ortbin="$bundle/node_modules/onnxruntime-node/bin/napi-v6/linux/x64"
cuda=$(timeout 120 find / -xdev -name 'libonnxruntime_providers_cuda.so' 2>/dev/null | head -n 1)
if [ -n "$cuda" ]; then
  version=$(strings "$cuda" 2>/dev/null | grep -m1 -oE '^1\.[0-9]+\.[0-9]+$' || true)
  log "found $cuda (version string: ${version:-unknown}); needs 1.30.0"
  cp "$cuda" "$(dirname "$cuda")/libonnxruntime_providers_shared.so" "$ortbin/" 2>/dev/null && log "copied the CUDA provider next to the binding"
else
  log "CUDA: no libonnxruntime_providers_cuda.so on this machine; its rows will say why CUDA could not start"
fi

node "$bundle/gpu-providers.cjs" --json "$out/providers.json" 2>&1 | tee "$out/providers.txt"
