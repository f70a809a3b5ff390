#!/bin/bash
# step.sh times one training step of the reference model (B=32 D=100 H=128,
# SEQ_LENS tokens) side by side, RUNS rounds, each round running in turn:
#
#   base     classify bench built from BASE_REV (default: where this branch left main)
#   avx512   classify bench of this tree (the kernel the CPU has)
#   avx2     the same binary with CLASSIFY_SIMD=avx2 (the AVX2 kernel)
#   torch1   torch_reference.py --threads 1 step   (when PyTorch is installed)
#   torch2   torch_reference.py --threads 2 step
#
# and prints the median ms per step of each, the load average before each
# run, and the ratios to base and to PyTorch's best thread count.
#
# Usage: bench/step.sh                      (RUNS=3 SEQ_LENS="100 400")
#        RUNS=5 SEQ_LENS=100 BASE_REV=HEAD~3 STEPS=20 bench/step.sh
# Not part of CI: minutes of runs whose numbers depend on the machine's load.
set -euo pipefail

RUNS=${RUNS:-3}
SEQ_LENS=${SEQ_LENS:-100 400}
STEPS=${STEPS:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
BASE_REV=${BASE_REV:-$(git -C "$(dirname "$0")" merge-base HEAD main)}

REF=${TORCH_REFERENCE:-$root/../shared/bench/torch_reference.py}

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT INT TERM
(cd "$root" && go build -o "$W/new" ./cmd/classify)
mkdir "$W/base"
(cd "$root" && git archive "$BASE_REV" | tar -x -C "$W/base")
(cd "$W/base" && go build -o "$W/old" ./cmd/classify)
torch=0
if [ -e "$REF" ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then torch=1; fi

load() { cut -d' ' -f1 /proc/loadavg; }
ms() { sed -n 's/.*"median_ms_per_step": *\([0-9.]*\).*/\1/p' | tail -1; }
R=$W/results.txt # T side ms load, one run a line
rec() { echo "$1 $2 $3 $4" | tee -a "$R" >&2; }
for i in $(seq 1 "$RUNS"); do
	for T in $SEQ_LENS; do
		args=(bench --seq-len "$T" --steps "$STEPS")
		l=$(load); rec "$T" base "$("$W/old" "${args[@]}" | ms)" "$l"
		l=$(load); rec "$T" avx512 "$("$W/new" "${args[@]}" | ms)" "$l"
		l=$(load); rec "$T" avx2 "$(CLASSIFY_SIMD=avx2 "$W/new" "${args[@]}" | ms)" "$l"
		if [ $torch = 1 ]; then
			for th in 1 2; do
				l=$(load)
				rec "$T" torch$th "$(/usr/bin/python3 "$REF" --threads $th step --seq-len "$T" --steps "$STEPS" | ms)" "$l"
			done
		fi
	done
done
python3 - "$R" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    T, side, ms, load = line.split()
    runs.setdefault(int(T), {}).setdefault(side, []).append((float(ms), float(load)))
for T, sides in sorted(runs.items()):
    med = {s: statistics.median(v for v, _ in r) for s, r in sides.items()}
    print(f"T={T}")
    for s, r in sides.items():
        loads = ", ".join(f"{l:.1f}" for _, l in r)
        print(f"  {s:7s} median {med[s]:9.1f} ms/step  runs {', '.join(f'{v:.1f}' for v, _ in r)}  load {loads}")
    print(f"  avx512/base {med['avx512']/med['base']:.2f}  avx2/base {med['avx2']/med['base']:.2f}  avx512/avx2 {med['avx512']/med['avx2']:.2f}")
    if "torch1" in med:
        best = min(med["torch1"], med["torch2"])
        print(f"  avx512/torch-best {med['avx512']/best:.2f}  base/torch-best {med['base']/best:.2f}  (torch best: {best:.1f} ms)")
EOF
