#!/usr/bin/env bash
# transformer_step.sh times one training step of the Transformer encoder
# (B=32, T=100, dim 128, 4 heads, 2 pre-norm layers, feed-forward 512,
# dropout 0.1, a final norm; forward, loss = the sum of the outputs,
# backward) side by side with PyTorch's nn.TransformerEncoder at the same
# shapes, RUNS rounds, each round running in turn:
#
#   go1     layers.BenchmarkTransformerEncoder/full on 1 thread (-test.cpu 1)
#   go2     the same on 2 threads (-test.cpu 2)
#   torch1  bench/transformer_reference.py --threads 1
#   torch2  bench/transformer_reference.py --threads 2
#
# and prints the median wall ms per step of each (CPU ms too), the load
# average before each run, and the ratios of ours to PyTorch's best thread
# count: go2 (Go's default, every core) and the better of go1 and go2.
#
# Usage: bench/transformer_step.sh          (RUNS=3 STEPS=20)
#        RUNS=5 STEPS=30 bench/transformer_step.sh
# Needs go, and /usr/bin/python3 with torch for the reference. Not part of
# CI: a minute or two of runs whose numbers depend on the machine's load.
set -euo pipefail

RUNS=${RUNS:-3}
STEPS=${STEPS:-20}
here=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT INT TERM
(cd "$here/.." && go test -c -o "$W/layers.test" ./layers)
torch=0
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then torch=1; fi

load() { cut -d' ' -f1 /proc/loadavg; }
R=$W/results.txt # side wall_ms cpu_ms load, one run a line
rec() { echo "$1 $2 $3 $4" | tee -a "$R" >&2; }
for i in $(seq 1 "$RUNS"); do
	for th in 1 2; do
		l=$(load)
		out=$("$W/layers.test" -test.run '^$' -test.bench 'TransformerEncoder/full$' -test.cpu "$th" -test.benchtime "${STEPS}x" | grep '^BenchmarkTransformerEncoder')
		wall=$(echo "$out" | awk '{for (i = 1; i <= NF; i++) if ($(i+1) == "ns/op") printf "%.2f", $i / 1e6}')
		cpu=$(echo "$out" | awk '{for (i = 1; i <= NF; i++) if ($(i+1) == "cpu-ms/op") print $i}')
		rec go$th "$wall" "${cpu:-0}" "$l"
	done
	if [ $torch = 1 ]; then
		for th in 1 2; do
			l=$(load)
			out=$(/usr/bin/python3 "$here/transformer_reference.py" --threads "$th" --steps "$STEPS")
			wall=$(echo "$out" | sed -n 's/.*"median_ms": *\([0-9.]*\).*/\1/p')
			cpu=$(echo "$out" | sed -n 's/.*"cpu_ms": *\([0-9.]*\).*/\1/p')
			rec torch$th "$wall" "$cpu" "$l"
		done
	fi
done
python3 - "$R" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    side, wall, cpu, load = line.split()
    runs.setdefault(side, []).append((float(wall), float(cpu), float(load)))
med = {s: statistics.median(w for w, _, _ in r) for s, r in runs.items()}
cpu = {s: statistics.median(c for _, c, _ in r) for s, r in runs.items()}
for s, r in runs.items():
    print(f"{s:7s} median {med[s]:8.1f} ms/step (cpu {cpu[s]:7.1f} ms)  runs {', '.join(f'{w:.1f}' for w, _, _ in r)}  load {', '.join(f'{l:.1f}' for _, _, l in r)}")
if "torch1" in med:
    best = min(("torch1", "torch2"), key=med.get)
    ours = min(("go1", "go2"), key=med.get)
    print(f"go2/torch-best {med['go2']/med[best]:.2f}  best-go/torch-best {med[ours]/med[best]:.2f} ({ours} against {best}, {med[best]:.1f} ms)")
    print(f"cpu time per step, go1/torch1 {cpu['go1']/cpu['torch1']:.2f}")
EOF
