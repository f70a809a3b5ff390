#!/bin/bash
# imdb.sh times training on long documents (issue 15): IMDB reviews cut at
# MAX_LEN tokens (400), the reference BiLSTM with GloVe 100d, embeddings
# frozen and fine-tuned, against the PyTorch reference, RUNS rounds, each
# round running in turn for every mode in MODES (frozen, finetuned):
#
#   classify   classify train --max-len 400 --val-split 0 --epochs EPOCHS
#              [--freeze-embeddings=false]           (seconds per epoch from history.json)
#   torchN     torch_reference.py --threads N train --bucket --max-len 400
#              --pool max --dropout 0.3 [--trainable-embeddings] --epochs EPOCHS
#              (classify's defaults; N in TORCH_THREADS, 1 and 2)
#
# Both sides train on the first TRAIN_N reviews of imdb/train.tsv (0: all
# 25,000; the file is shuffled) and test on the first TEST_N of
# imdb/test.tsv, and run under /usr/bin/time -v for their peak RSS. It
# prints seconds per epoch, peak RSS and test accuracy of every run, the
# load average before each, and per mode the ratio of classify's median
# to PyTorch's best thread count.
#
# PyTorch 1.13 at 2 threads is many times slower than at 1 on long
# sequences on a busy machine; TORCH_EPOCH_LIMIT=S stops its epochs after S
# seconds (torch_reference.py --epoch-limit) and reports its estimated
# seconds per epoch (seconds per step so far x steps per epoch), no accuracy.
#
# With ACC_EPOCHS=N (default 0: skipped) it then trains the fine-tuned
# BiLSTM on all of imdb/train.tsv for N epochs (with ACC_FLAGS, default
# "--val-split 0.1 --early-stopping 1": the best epoch by validation loss
# is kept) and tests it on all of imdb/test.tsv: the accuracy figure
# (deterministic: --seed 42), with its seconds per epoch and peak RSS.
#
# Usage: bench/imdb.sh                       (RUNS=1 EPOCHS=1 TRAIN_N=4000 TEST_N=1000)
#        RUNS=3 TRAIN_N=0 TORCH_EPOCH_LIMIT=600 bench/imdb.sh
#        RUNS=0 ACC_EPOCHS=4 bench/imdb.sh   (the accuracy run alone)
# Needs /usr/bin/time and, for the reference, /usr/bin/python3 with
# python3-torch. Not part of CI: it takes long, and its times depend on
# the machine's load.
set -euo pipefail

RUNS=${RUNS:-1}
EPOCHS=${EPOCHS:-1}
TRAIN_N=${TRAIN_N:-4000}
TEST_N=${TEST_N:-1000}
MAX_LEN=${MAX_LEN:-400}
MODES=${MODES:-frozen finetuned}
TORCH_THREADS=${TORCH_THREADS-1 2} # empty: no reference run
TORCH_EPOCH_LIMIT=${TORCH_EPOCH_LIMIT:-0}
ACC_EPOCHS=${ACC_EPOCHS:-0}
ACC_FLAGS=${ACC_FLAGS:---val-split 0.1 --early-stopping 1}
root=$(cd "$(dirname "$0")/.." && pwd)
DATA=${CLASSIFY_DATA:-$root/../shared/data}
REF=${TORCH_REFERENCE:-$root/../shared/bench/torch_reference.py}
VECTORS=$DATA/glove/glove.6B.100d.top100k.txt.gz
for f in "$DATA/imdb/train.tsv" "$DATA/imdb/test.tsv" "$VECTORS" /usr/bin/time; do
	[ -e "$f" ] || { echo "imdb.sh: $f is missing" >&2; exit 1; }
done
torch=0
[ -e "$REF" ] && /usr/bin/python3 -c 'import torch' 2>/dev/null && torch=1

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT INT TERM
(cd "$root" && go build -o "$W/classify" ./cmd/classify)
if [ "$TRAIN_N" = 0 ]; then cp "$DATA/imdb/train.tsv" "$W/train.tsv"; else head -n "$TRAIN_N" "$DATA/imdb/train.tsv" >"$W/train.tsv"; fi
if [ "$TEST_N" = 0 ]; then cp "$DATA/imdb/test.tsv" "$W/test.tsv"; else head -n "$TEST_N" "$DATA/imdb/test.tsv" >"$W/test.tsv"; fi

peak() { awk -F': ' '/Maximum resident/ {printf "%.0f", $2 / 1024}' "$W/time.txt"; }
load() { cut -d' ' -f1 /proc/loadavg; }
R=$W/results.jsonl # one JSON object a run

# classify_train MODE EPOCHS TRAIN TEST FLAGS... runs classify train and records it.
classify_train() {
	local mode=$1 epochs=$2 trainf=$3 testf=$4 l
	shift 4
	local flags=()
	[ "$mode" = finetuned ] && flags=(--freeze-embeddings=false)
	l=$(load)
	rm -rf "$W/ck"
	/usr/bin/time -v -o "$W/time.txt" "$W/classify" train --data "$trainf" --test "$testf" --vectors "$VECTORS" \
		--max-len "$MAX_LEN" --epochs "$epochs" --out "$W/ck" "${flags[@]}" "$@" >"$W/train.txt" 2>"$W/train.err" ||
		{ cat "$W/train.err" >&2; exit 1; }
	/usr/bin/python3 - "$W/ck/history.json" "$W/train.txt" "$mode" "$(peak)" "$l" "$(wc -l <"$trainf")" <<'EOF' | tee -a "$R" >&2
import json, re, sys
h = json.load(open(sys.argv[1]))
acc = re.search(r"^\s*accuracy\s+([0-9.]+)", open(sys.argv[2]).read(), re.M).group(1)
print(json.dumps({"side": "classify", "mode": sys.argv[3], "train": int(sys.argv[6]), "epochs": len(h),
                  "epoch_s": sum(e["seconds"] for e in h) / len(h), "epoch_runs": [round(e["seconds"], 1) for e in h],
                  "val_accuracy": [e.get("val_accuracy") for e in h],
                  "test_accuracy": float(acc), "rss_mib": int(sys.argv[4]), "load": float(sys.argv[5])}))
EOF
}

for i in $(seq 1 "$RUNS"); do
	for mode in $MODES; do
		classify_train "$mode" "$EPOCHS" "$W/train.tsv" "$W/test.tsv" --val-split 0
		[ $torch = 1 ] || continue
		for th in $TORCH_THREADS; do
			flags=()
			[ "$mode" = finetuned ] && flags=(--trainable-embeddings)
			[ "$TORCH_EPOCH_LIMIT" != 0 ] && flags+=(--epoch-limit "$TORCH_EPOCH_LIMIT")
			l=$(load)
			/usr/bin/time -v -o "$W/time.txt" /usr/bin/python3 "$REF" --threads "$th" train --train "$W/train.tsv" --test "$W/test.tsv" \
				--vectors "$VECTORS" --bucket --max-len "$MAX_LEN" --pool max --dropout 0.3 --epochs "$EPOCHS" "${flags[@]}" >"$W/torch.txt"
			/usr/bin/python3 - "$W/torch.txt" "$mode" "$th" "$(peak)" "$l" "$(wc -l <"$W/train.tsv")" <<'EOF' | tee -a "$R" >&2
import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
stopped = s.get("stopped", False)
print(json.dumps({"side": "torch" + sys.argv[3], "mode": sys.argv[2], "train": int(sys.argv[6]),
                  "epoch_s": s["estimated_seconds_per_epoch"] if stopped else s["seconds_per_epoch"],
                  "estimated": stopped, "test_accuracy": None if stopped else s["test_accuracy"],
                  "rss_mib": int(sys.argv[4]), "load": float(sys.argv[5])}))
EOF
		done
	done
done

if [ "$ACC_EPOCHS" != 0 ]; then
	echo "accuracy run: fine-tuned, all of imdb/train.tsv, $ACC_EPOCHS epochs, $ACC_FLAGS" >&2
	# shellcheck disable=SC2086 # ACC_FLAGS is a list of flags
	classify_train finetuned "$ACC_EPOCHS" "$DATA/imdb/train.tsv" "$DATA/imdb/test.tsv" $ACC_FLAGS
fi

echo
echo "IMDB, --max-len $MAX_LEN, GloVe 6B 100d; $RUNS round(s) of $EPOCHS epoch(s) on $(wc -l <"$W/train.tsv") training reviews, tested on $(wc -l <"$W/test.tsv"); $(nproc) CPUs"
uptime
/usr/bin/python3 - "$R" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print()
print("| mode | side | training reviews | s/epoch (median) | runs | peak RSS MiB | test accuracy | load |")
print("| --- | --- | ---: | ---: | --- | ---: | --- | --- |")
groups = {}
for r in rows:
    groups.setdefault((r["mode"], r["side"], r["train"]), []).append(r)
med = {}
for (mode, side, n), rs in groups.items():
    m = statistics.median(r["epoch_s"] for r in rs)
    med[(mode, side, n)] = m
    est = " (estimated)" if any(r.get("estimated") for r in rs) else ""
    accs = ", ".join("-" if r["test_accuracy"] is None else "%.4f" % r["test_accuracy"] for r in rs)
    runs = ", ".join("%.1f" % r["epoch_s"] for r in rs)
    print(f"| {mode} | {side} | {n} | {m:.1f}{est} | {runs} | "
          f"{max(r['rss_mib'] for r in rs)} | {accs} | {', '.join(str(r['load']) for r in rs)} |")
print()
for (mode, side, n), m in med.items():
    if side != "classify":
        continue
    torch = {s: v for (md, s, nn), v in med.items() if md == mode and nn == n and s.startswith("torch")}
    if torch:
        best = min(torch, key=torch.get)
        rss = max(r["rss_mib"] for r in groups[(mode, side, n)])
        trss = max(r["rss_mib"] for r in groups[(mode, best, n)])
        print(f"{mode}, {n} reviews: classify / PyTorch's best ({best}) seconds per epoch {m / torch[best]:.2f} (goal <= 0.5), "
              f"peak RSS {rss} / {trss} MiB = {rss / trss:.2f} (goal < 1)")
EOF
