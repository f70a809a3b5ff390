#!/bin/bash
# compare.sh runs classify and the PyTorch reference side by side, RUNS
# times each, interleaved, and prints the medians and the ratios
# (ours / PyTorch) that issue #6 asks for (SPEC section 6):
#
#   step      classify bench            vs torch_reference.py step (T=100 B=32 D=100 H=128)
#   epoch     classify train            vs torch_reference.py train --bucket --pool max --dropout 0.3
#                                                (seconds per epoch, test accuracy; the
#                                                reference with classify's defaults)
#   predict   classify predict < texts  vs the reference's predict_sentences_per_second
#   memory    peak RSS of both training runs (/usr/bin/time -v)
#
# Both sides train on all of rt-polarity/train.tsv (classify with
# --val-split 0, as the reference has no validation split) for EPOCHS
# epochs and are tested on rt-polarity/test.tsv. classify predict is timed
# as a whole process (start, checkpoint load, tokenizing, output) on the
# test texts; the reference times its evaluation loop alone.
#
# Usage: bench/compare.sh            (RUNS=3 EPOCHS=3 THREADS=2 by default)
#        RUNS=5 EPOCHS=10 TAGS=openblas RESULTS=/tmp/runs.jsonl bench/compare.sh
# Needs go, /usr/bin/python3 with python3-torch, and /usr/bin/time (apt-get
# install time). Not part of CI: it takes minutes and its numbers depend on
# the machine's load, which it prints before every run.
set -euo pipefail

RUNS=${RUNS:-3}
EPOCHS=${EPOCHS:-3}
THREADS=${THREADS:-2}
TAGS=${TAGS:-}
DATA=${CLASSIFY_DATA:-$(cd "$(dirname "$0")/../.." && pwd)/shared/data}
REF=${TORCH_REFERENCE:-$(cd "$(dirname "$0")/../.." && pwd)/shared/bench/torch_reference.py}
TRAIN=$DATA/rt-polarity/train.tsv
TEST=$DATA/rt-polarity/test.tsv
VECTORS=$DATA/glove/glove.6B.50d.top10k.txt
for f in "$TRAIN" "$TEST" "$VECTORS" "$REF" /usr/bin/time /usr/bin/python3; do
	[ -e "$f" ] || { echo "compare.sh: $f is missing" >&2; exit 1; }
done

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
(cd "$(dirname "$0")/.." && go build ${TAGS:+-tags "$TAGS"} -o "$W/classify" ./cmd/classify)
cut -f2 "$TEST" >"$W/texts.txt"
R=${RESULTS:-$W/results.jsonl} # every measurement, one JSON object a line
: >"$R"

# peak prints the peak RSS in MiB that /usr/bin/time -v wrote to $1.
peak() { awk -F: '/Maximum resident/ {printf "%.1f", $2/1024}' "$1"; }
load() { cut -d' ' -f1 /proc/loadavg; }

for i in $(seq 1 "$RUNS"); do
	echo "run $i/$RUNS (load $(load))" >&2

	ms=$("$W/classify" bench | sed -n 's/.*"median_ms_per_step":\([0-9.]*\).*/\1/p')
	echo "{\"side\":\"classify\",\"what\":\"step_ms\",\"value\":$ms,\"load\":$(load)}" >>"$R"
	ms=$(/usr/bin/python3 "$REF" --threads "$THREADS" step | tail -1 | sed -n 's/.*"median_ms_per_step": \([0-9.]*\).*/\1/p')
	echo "{\"side\":\"torch\",\"what\":\"step_ms\",\"value\":$ms,\"load\":$(load)}" >>"$R"

	/usr/bin/time -v -o "$W/time.txt" "$W/classify" train --data "$TRAIN" --vectors "$VECTORS" --test "$TEST" \
		--val-split 0 --epochs "$EPOCHS" --out "$W/ck" >"$W/train.txt"
	/usr/bin/python3 - "$W/ck/history.json" "$W/train.txt" "$(peak "$W/time.txt")" "$(load)" >>"$R" <<'EOF'
import json, re, sys
h = json.load(open(sys.argv[1]))
acc = re.search(r"^\s*accuracy\s+([0-9.]+)", open(sys.argv[2]).read(), re.M).group(1)
for what, v in (("epoch_s", sum(e["seconds"] for e in h) / len(h)), ("test_accuracy", float(acc)), ("train_peak_rss_mib", float(sys.argv[3]))):
    print(json.dumps({"side": "classify", "what": what, "value": v, "load": float(sys.argv[4])}))
EOF
	n=$(wc -l <"$W/texts.txt")
	s=$(date +%s.%N)
	"$W/classify" predict --checkpoint "$W/ck" <"$W/texts.txt" >/dev/null
	e=$(date +%s.%N)
	echo "{\"side\":\"classify\",\"what\":\"predict_per_s\",\"value\":$(echo "$n / ($e - $s)" | bc -l),\"load\":$(load)}" >>"$R"

	/usr/bin/time -v -o "$W/time.txt" /usr/bin/python3 "$REF" --threads "$THREADS" train --train "$TRAIN" --test "$TEST" \
		--vectors "$VECTORS" --bucket --pool max --dropout 0.3 --epochs "$EPOCHS" >"$W/torch.txt"
	/usr/bin/python3 - "$W/torch.txt" "$(peak "$W/time.txt")" "$(load)" >>"$R" <<'EOF'
import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
for what, v in (("epoch_s", s["seconds_per_epoch"]), ("test_accuracy", s["test_accuracy"]),
                ("train_peak_rss_mib", float(sys.argv[2])), ("predict_per_s", s["predict_sentences_per_second"])):
    print(json.dumps({"side": "torch", "what": what, "value": v, "load": float(sys.argv[3])}))
EOF
done

/usr/bin/python3 - "$R" "$RUNS" "$EPOCHS" "$THREADS" "${TAGS:-default}" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def values(side, what):
    return [r["value"] for r in rows if r["side"] == side and r["what"] == what]
loads = [r["load"] for r in rows]
print(f"runs {sys.argv[2]}, epochs {sys.argv[3]}, torch threads {sys.argv[4]}, classify build {sys.argv[5]}; "
      f"load average during the runs: median {statistics.median(loads):.2f}, min {min(loads):.2f}, max {max(loads):.2f}")
print(f"{'measure':<22} {'classify (median)':>18} {'torch (median)':>16} {'ours/torch':>11}  goal")
goals = {"step_ms": "<= 0.5", "epoch_s": "<= 0.5", "predict_per_s": ">= 2", "train_peak_rss_mib": "< 1", "test_accuracy": "~ 1"}
for what in ("step_ms", "epoch_s", "test_accuracy", "predict_per_s", "train_peak_rss_mib"):
    ours, theirs = statistics.median(values("classify", what)), statistics.median(values("torch", what))
    print(f"{what:<22} {ours:>18.4g} {theirs:>16.4g} {ours / theirs:>11.3f}  {goals[what]}")
print("all runs:", json.dumps({f"{s}/{w}": values(s, w) for s in ("classify", "torch") for w in goals}))
EOF
