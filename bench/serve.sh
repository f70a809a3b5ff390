#!/bin/bash
# serve.sh measures how `classify serve` scales with concurrent requests
# (issue 15: texts per second at concurrency 8 at least 1.7 x concurrency
# 1 on 2 cores, for single texts and batches of 32).
#
# It starts one server on 127.0.0.1 pinned to SERVE_CPUS (GOMAXPROCS = their
# count, which sizes the Predictor's pool of replicas, and --max-concurrent
# 8 per core; serve then adds its --spare-procs 1), with SERVE_FLAGS added
# (e.g. "--spare-procs 0": GOMAXPROCS as many as the replicas, the server
# before it; "--coalesce 0 --max-concurrent 2": no dynamic batching), then,
# RUNS rounds, each round in turn for every batch size in BATCHES and every
# concurrency in CONCS, puts a bounded closed-loop load on POST /v1/predict
# with bench/load (CONC workers, one request in flight each, WARMUP then
# DURATION measured) and records texts/s, requests/s, latencies, the
# CPU use in cores of the server and of the load generator, the
# machine's idle cores (from /proc) and the load average before the run.
# It prints the medians, the ratio of each concurrency to the first, and
# every run. On a busy machine the CPU column shows whether the server
# could use both cores at all: the ratio can only show on a quiet one.
#
# The model is the reference BiLSTM trained EPOCHS epochs on rt-polarity
# (GloVe 50d, classify's defaults), or CHECKPOINT when given; the texts
# are rt-polarity's test sentences (about 20 tokens).
#
# Usage: bench/serve.sh                (RUNS=3 DURATION=10s CONCS="1 8" BATCHES="1 32")
#        SERVE_FLAGS="--spare-procs 0" bench/serve.sh
#        RUNS=5 DURATION=20s SERVE_CPUS=2,3 LOAD_CPUS=4-7 bench/serve.sh
# On a machine of 2 cores the load generator shares them with the server
# (LOAD_CPUS empty); on a larger one give it other CPUs.
# Not part of CI: its numbers depend on the machine's load.
set -euo pipefail

RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONCS=${CONCS:-1 8}
BATCHES=${BATCHES:-1 32}
EPOCHS=${EPOCHS:-1}
SERVE_CPUS=${SERVE_CPUS:-0,1}
LOAD_CPUS=${LOAD_CPUS:-}
SERVE_FLAGS=${SERVE_FLAGS:-}
PORT=${PORT:-$((18000 + $$ % 1000))}
root=$(cd "$(dirname "$0")/.." && pwd)
DATA=${CLASSIFY_DATA:-$root/../shared/data}

W=$(mktemp -d)
server=
cleanup() {
	if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
	rm -rf "$W"
}
trap cleanup EXIT INT TERM
(cd "$root" && go build -o "$W/classify" ./cmd/classify && go build -o "$W/load" ./bench/load)
cut -f2 "$DATA/rt-polarity/test.tsv" >"$W/texts.txt"

ck=${CHECKPOINT:-}
if [ -z "$ck" ]; then
	ck=$W/ck
	echo "training the model: $EPOCHS epoch(s) on rt-polarity" >&2
	"$W/classify" train --data "$DATA/rt-polarity/train.tsv" --vectors "$DATA/glove/glove.6B.50d.top10k.txt" \
		--epochs "$EPOCHS" --out "$ck" >/dev/null 2>&1
fi

ncpu() { # the number of CPUs in a taskset list such as 0,1 or 2-5
	local n=0 part
	IFS=, read -ra parts <<<"$1"
	for part in "${parts[@]}"; do
		if [[ $part == *-* ]]; then n=$((n + ${part#*-} - ${part%-*} + 1)); else n=$((n + 1)); fi
	done
	echo $n
}
GOMAXPROCS=$(ncpu "$SERVE_CPUS") taskset -c "$SERVE_CPUS" "$W/classify" serve --checkpoint "rt=$ck" \
	--addr "127.0.0.1:$PORT" --max-texts 256 $SERVE_FLAGS 2>"$W/serve.log" &
server=$!
for _ in $(seq 1 600); do
	curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
	kill -0 "$server" 2>/dev/null || { cat "$W/serve.log" >&2; exit 1; }
	sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "serve.sh: the server is not ready" >&2; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; } # the server's user + system time
idle_ticks() { awk '$1 == "cpu" {print $5 + $6; exit}' /proc/stat; } # the machine's idle + iowait time, all CPUs
loadgen=("$W/load")
[ -n "$LOAD_CPUS" ] && loadgen=(taskset -c "$LOAD_CPUS" "$W/load")
R=$W/results.jsonl
for i in $(seq 1 "$RUNS"); do
	for b in $BATCHES; do
		for c in $CONCS; do
			l=$(cut -d' ' -f1 /proc/loadavg)
			t0=$(cpu_ticks)
			i0=$(idle_ticks)
			s0=$(date +%s.%N)
			line=$("${loadgen[@]}" -url "http://127.0.0.1:$PORT/v1/predict" -texts "$W/texts.txt" \
				-concurrency "$c" -batch "$b" -warmup "$WARMUP" -duration "$DURATION")
			# The server's CPU time and the whole machine's idle time over the
			# whole run (warm-up included), in cores.
			wall=$(echo "$(date +%s.%N) - $s0" | bc -l)
			cores=$(echo "($(cpu_ticks) - $t0) / $(getconf CLK_TCK) / $wall" | bc -l)
			idle=$(echo "($(idle_ticks) - $i0) / $(getconf CLK_TCK) / $wall" | bc -l)
			echo "${line%\}},\"load\":$l,\"round\":$i,\"server_cores\":$(printf %.2f "$cores"),\"idle_cores\":$(printf %.2f "$idle")}" | tee -a "$R" >&2
		done
	done
done
kill "$server"
wait "$server" 2>/dev/null || true
server=

echo
echo "classify serve ${SERVE_FLAGS:+($SERVE_FLAGS) }server on CPUs $SERVE_CPUS (GOMAXPROCS $(ncpu "$SERVE_CPUS")), load generator on ${LOAD_CPUS:-the same CPUs}; $RUNS rounds of $DURATION each"
uptime
python3 - "$R" "$CONCS" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
concs = [int(c) for c in sys.argv[2].split()]
print()
print("| texts per request | concurrency | texts/s (median) | requests/s | p50 ms | p99 ms | x concurrency %d | server CPU (cores) | load generator CPU | idle CPU | runs (texts/s) | load |" % concs[0])
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
for b in sorted({r["batch"] for r in runs}):
    base = None
    for c in concs:
        rs = [r for r in runs if r["batch"] == b and r["concurrency"] == c]
        if not rs:
            continue
        med = lambda k: statistics.median(r[k] for r in rs)
        tps = med("texts_per_second")
        base = base or tps
        errs = sum(r["errors"] for r in rs)
        print(f"| {b} | {c} | {tps:.0f} | {med('requests_per_second'):.0f} | {med('p50_ms'):.1f} | {med('p99_ms'):.1f} | "
              f"{tps / base:.2f} | {med('server_cores'):.2f} | {med('cpu_cores'):.2f} | {med('idle_cores'):.2f} | "
              f"{', '.join('%.0f' % r['texts_per_second'] for r in rs)} | "
              f"{', '.join(str(r['load']) for r in rs)} |" + (f" {errs} errors" if errs else ""))
EOF
