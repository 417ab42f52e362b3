#!/usr/bin/env bash
# Runs issue 9's GPU measurement on a device-tool machine from .device-kit/ (built here by
# `node scripts/device-kit.mjs`), in one call: device run with carry [".device-kit"] and
#   bash scripts/device-run.sh
# It writes to $OUT (or ./device-out where OUT is unset, to try it here): the machine (nvidia-smi, the Vulkan
# drivers seen), `egym bench dense --backends wasm webgpu` (dense.json: per batch size, and the batch from which the
# GPU is faster than wasm), `egym bench agents --backends wasm` (agents.json: that machine's CPU for comparison),
# and every command's output (log.txt). A step that fails is logged and the next runs.
# KIT=<folder> runs a kit elsewhere (to test one copied away from this checkout's node_modules); DENSE_ARGS and
# AGENTS_ARGS add options to the two benchmarks (--batches, --seconds; --user-steps); NODE_BIN runs a kit built
# without Node.
set -u
KIT=${KIT:-.device-kit}
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
LOG=$OUT/log.txt
: >"$LOG"
say() { echo "== $*" | tee -a "$LOG"; }
if [ ! -f "$KIT/egym.mjs.xz" ]; then echo "device-run: no kit at $KIT (node scripts/device-kit.mjs builds it)" | tee -a "$LOG"; exit 2; fi
if [ ! -f "$KIT/node.xz" ] && [ -z "${NODE_BIN:-}" ]; then echo "device-run: the kit at $KIT has no Node (built with --no-node): set NODE_BIN" | tee -a "$LOG"; exit 2; fi

W=$(mktemp -d /tmp/egym-kit.XXXXXX)
trap 'rm -rf "$W"' EXIT
cp -r "$KIT"/. "$W"/
xz -d "$W/egym.mjs.xz" "$W/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
if [ -f "$W/node.xz" ]; then
  xz -d "$W/node.xz"
  chmod +x "$W/node"
  NODE=$W/node
else
  NODE=$NODE_BIN
fi
say "node $("$NODE" -v) on $(uname -srm); $(nproc) cores"

# The Vulkan loader, where the machine has none (the device tool's notes: unpack it into /, then ldconfig).
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then
  say "no libvulkan.so.1: unpacking the kit's"
  for f in "$W"/gl/*.deb; do [ -f "$f" ] && dpkg -x "$f" / 2>&1 | tee -a "$LOG"; done
  ldconfig 2>&1 | tee -a "$LOG"
fi
# NVIDIA's Vulkan driver, where the device mounts it outside the loader's search path.
for d in /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d; do
  [ -d "$d" ] && say "Vulkan ICDs in $d: $(ls "$d" | tr '\n' ' ')"
done
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  say "VK_DRIVER_FILES=$VK_DRIVER_FILES"
fi
if command -v nvidia-smi >/dev/null; then nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1; say "nvidia-smi: $(head -c 2000 "$OUT/nvidia-smi.txt" | grep -m1 -o 'NVIDIA [A-Z0-9 ]*' || echo 'no GPU listed')"; fi

# The measurements: a dense training step per backend and batch size (webgpu reads results asynchronously, so it
# runs there; agents cannot), then the agents on that machine's CPU (wasm).
cd "$W"
say "egym bench dense --backends wasm webgpu"
"$NODE" run.mjs bench dense --backends wasm webgpu ${DENSE_ARGS:-} --out "$OUT/dense.json" 2>&1 | tee -a "$LOG"
say "egym bench agents --backends wasm"
"$NODE" run.mjs bench agents --backends wasm ${AGENTS_ARGS:-} --out "$OUT/agents.json" 2>&1 | tee -a "$LOG"
say "done; files in $OUT: $(ls "$OUT" | tr '\n' ' ')"
