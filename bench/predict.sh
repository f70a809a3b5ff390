#!/bin/bash
# predict.sh measures bulk prediction on a file of LINES lines (issue 15:
# `classify predict` on 1,000,000 lines, lines per second and a peak memory
# that does not grow with the input), next to fastText and the PyTorch
# reference, RUNS rounds, each round running in turn:
#
#   classify   classify predict --checkpoint CK --input F --output OUT
#              (the reference BiLSTM, every core), on SMALL lines, then LINES
#   fasttext   fasttext predict-prob MODEL.bin F  (Debian's fastText, a
#              bag-of-words model with bigrams trained by `fasttext supervised`
#              on the same rt-polarity training set), on SMALL, then LINES
#   torchN     the BiLSTM reference's prediction rate: torch_reference.py
#              --threads N train ... --epochs 1, its predict_sentences_per_second
#              (its evaluation loop over rt-polarity's test set, N = 1 and 2)
#
# The input is rt-polarity's 10,662 sentences repeated to LINES lines
# (about 21 tokens each); fastText reads them tokenized by
# ../shared/bench/fasttext_format.py --text-only, as SPEC's tokenizer splits
# them. Every command is timed as a whole process (start, model load,
# reading, scoring, writing) with /usr/bin/time -v, which also gives the
# peak RSS; the load average before each run is printed with it.
#
# Usage: bench/predict.sh                  (RUNS=1 LINES=1000000 SMALL=100000)
#        RUNS=3 EPOCHS=2 CHECKPOINT=checkpoints/rt bench/predict.sh
# Needs /usr/bin/time, fasttext (apt-get install fasttext) and, for the
# reference, /usr/bin/python3 with python3-torch; a side whose tool is
# missing is left out. Not part of CI: its numbers depend on the load.
set -euo pipefail

RUNS=${RUNS:-1}
LINES=${LINES:-1000000}
SMALL=${SMALL:-100000}
EPOCHS=${EPOCHS:-1}
FASTTEXT_ARGS=${FASTTEXT_ARGS:--wordNgrams 2 -epoch 10}
TORCH_THREADS=${TORCH_THREADS-1 2} # empty: no reference run
root=$(cd "$(dirname "$0")/.." && pwd)
DATA=${CLASSIFY_DATA:-$root/../shared/data}
BENCH=${SHARED_BENCH:-$root/../shared/bench}
RT=$DATA/rt-polarity
for f in "$RT/train.tsv" "$RT/test.tsv" "$RT/rt-polarity.tsv" "$DATA/glove/glove.6B.50d.top10k.txt" /usr/bin/time; do
	[ -e "$f" ] || { echo "predict.sh: $f is missing" >&2; exit 1; }
done
fasttext=0
command -v fasttext >/dev/null && [ -e "$BENCH/fasttext_format.py" ] && fasttext=1
torch=0
[ -e "$BENCH/torch_reference.py" ] && /usr/bin/python3 -c 'import torch' 2>/dev/null && torch=1

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT INT TERM
(cd "$root" && go build -o "$W/classify" ./cmd/classify)

ck=${CHECKPOINT:-}
if [ -z "$ck" ]; then
	ck=$W/ck
	echo "training the BiLSTM: $EPOCHS epoch(s) on rt-polarity" >&2
	"$W/classify" train --data "$RT/train.tsv" --vectors "$DATA/glove/glove.6B.50d.top10k.txt" \
		--epochs "$EPOCHS" --out "$ck" >/dev/null 2>&1
fi

# The inputs: rt-polarity's sentences repeated, as label<TAB>text so that
# fasttext_format.py can tokenize them; classify reads the text column.
awk -v n="$LINES" -F'\t' '{l[NR] = $0} END {for (i = 0; i < n; i++) print l[i % NR + 1]}' "$RT/rt-polarity.tsv" >"$W/big.tsv"
head -n "$SMALL" "$W/big.tsv" >"$W/small.tsv"
for s in big small; do cut -f2 "$W/$s.tsv" >"$W/$s.txt"; done
if [ $fasttext = 1 ]; then
	echo "training fastText: fasttext supervised $FASTTEXT_ARGS" >&2
	python3 "$BENCH/fasttext_format.py" "$RT/train.tsv" "$W/ft-train.txt"
	fasttext supervised -input "$W/ft-train.txt" -output "$W/ft" $FASTTEXT_ARGS -verbose 0 >/dev/null
	for s in big small; do python3 "$BENCH/fasttext_format.py" "$W/$s.tsv" "$W/$s.ft.txt" --text-only; done
fi

R=$W/results.txt # side lines seconds rss_kib load
timed() { # timed SIDE LINES CMD... runs CMD under /usr/bin/time -v and records it
	local side=$1 n=$2 l
	shift 2
	l=$(cut -d' ' -f1 /proc/loadavg)
	/usr/bin/time -v -o "$W/time.txt" "$@"
	local wall rss
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$W/time.txt")
	rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$W/time.txt")
	echo "$side $n $wall $rss $l" | tee -a "$R" >&2
}
for i in $(seq 1 "$RUNS"); do
	for s in small big; do
		n=$(wc -l <"$W/$s.txt")
		timed classify "$n" sh -c 'exec "$@" 2>"$0"' "$W/progress.txt" \
			"$W/classify" predict --checkpoint "$ck" --input "$W/$s.txt" --output "$W/out.txt"
		# Every line has its prediction, in order.
		[ "$(wc -l <"$W/out.txt")" = "$n" ] || { echo "predict.sh: classify wrote $(wc -l <"$W/out.txt") lines for $n" >&2; exit 1; }
		if [ $fasttext = 1 ]; then
			timed fasttext "$n" sh -c 'exec fasttext predict-prob "$1" "$2" >"$3"' sh "$W/ft.bin" "$W/$s.ft.txt" "$W/out.txt"
			[ "$(wc -l <"$W/out.txt")" = "$n" ] || { echo "predict.sh: fasttext wrote $(wc -l <"$W/out.txt") lines for $n" >&2; exit 1; }
		fi
	done
	if [ $torch = 1 ]; then
		for th in $TORCH_THREADS; do
			l=$(cut -d' ' -f1 /proc/loadavg)
			rate=$(/usr/bin/python3 "$BENCH/torch_reference.py" --threads "$th" train --train "$RT/train.tsv" --test "$RT/test.tsv" \
				--vectors "$DATA/glove/glove.6B.50d.top10k.txt" --bucket --pool max --dropout 0.3 --epochs 1 |
				tail -1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["predict_sentences_per_second"])')
			echo "torch$th $(wc -l <"$RT/test.tsv") $rate rate $l" | tee -a "$R" >&2
		done
	fi
done

echo
echo "bulk prediction, $RUNS round(s); $(nproc) CPUs"
uptime
python3 - "$R" <<'EOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    side, n, v, rss, load = line.split()
    rows.setdefault((side, int(n)), []).append((float(v), rss, float(load)))
print()
print("| side | lines | seconds (median) | lines/s | peak RSS MiB | runs (s) | load |")
print("| --- | ---: | ---: | ---: | ---: | --- | --- |")
for (side, n), rs in sorted(rows.items()):
    loads = ", ".join(f"{l:.1f}" for _, _, l in rs)
    if rs[0][1] == "rate":  # the reference reports its rate, not a time
        rate = statistics.median(v for v, _, _ in rs)
        print(f"| {side} (evaluation loop only) | {n} | | {rate:.0f} | | | {loads} |")
        continue
    sec = statistics.median(v for v, _, _ in rs)
    rss = max(int(r) for _, r, _ in rs) / 1024
    print(f"| {side} | {n} | {sec:.2f} | {n / sec:.0f} | {rss:.0f} | {', '.join(f'{v:.2f}' for v, _, _ in rs)} | {loads} |")
EOF
