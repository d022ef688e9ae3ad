#!/usr/bin/env bash
# The whole GPU benchmark in one device call (the lent NVIDIA machine has torch but no Node; ../shared/gpu/pack.sh
# carries Node and Dawn in .gpu/). Here: `node build.mjs && bash ../shared/gpu/pack.sh`; device call with carry
# [".gpu", "dist"] and command `bash .gpu/launch.sh bash bench/gpu-session.sh`. Results land in $OUT (or ./bench-out):
#   gpu.txt (nvidia-smi), torch.json + torch.log (bench/pytorch/bench.py), bench.json + bench.log (instructalign bench
#   with the ratios to PyTorch), each rewritten as figures arrive, so a call cut short keeps what was measured.
# PyTorch runs first and alone (its 560M/1B1 runs take minutes); TORCH_S / OURS_S bound each part (seconds).
set -u
out=${OUT:-bench-out}
mkdir -p "$out"
models=${MODELS:-nano-bloomz,bloomz-560m}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv > "$out/gpu.txt" 2>&1 || true
timeout "${TORCH_S:-240}" python3 bench/pytorch/bench.py --json --out "$out/torch.json" --models "$models" > /dev/null 2> "$out/torch.log"
echo "pytorch exit $?" >> "$out/torch.log"
against=()  # (expanded with ${against[@]+...}: bash before 4.4 treats an empty array as unset under set -u)
[ -s "$out/torch.json" ] && against=(--against "$out/torch.json")
timeout "${OURS_S:-300}" node dist/cli.js bench --json --ablate --out "$out/bench.json" --models "$models" ${against[@]+"${against[@]}"} > "$out/bench-final.json" 2> "$out/bench.log"
echo "instructalign exit $?" >> "$out/bench.log"
tail -n 40 "$out/torch.log" "$out/bench.log"
