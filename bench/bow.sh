#!/usr/bin/env bash
# bench/bow.sh: classify train --model bow against fastText supervised at
# the same word n-gram order and epochs, on rt-polarity, ag_news and trec:
# test accuracy and training wall time of each (a whole process, the
# checkpoint or model written), run alternately, each with the load
# average; then classify predict against fasttext predict-prob over
# 100,000 lines (test texts repeated), lines per second of a whole process.
# Last, the median of the rounds of each, and ours over fastText's: the
# time of training, the lines a second of prediction. Issue 13's bars:
# training at most fastText's time with 2 threads each, prediction at
# least its lines a second.
#
#   bench/bow.sh [ROUNDS]      (env: NGRAMS=2 EPOCHS=5 THREADS=2 FT_THREADS=2 DATA=../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-1}
NGRAMS=${NGRAMS:-2}
EPOCHS=${EPOCHS:-5}
THREADS=${THREADS:-2}
FT_THREADS=${FT_THREADS:-2}
DATA=${DATA:-${CLASSIFY_DATA:-../shared/data}}
FORMAT=${FORMAT:-$DATA/../bench/fasttext_format.py}
[ -f "$FORMAT" ] || FORMAT=/work/shared/bench/fasttext_format.py
LINES=100000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/classify" ./cmd/classify

now() { date +%s.%N; }
load() { uptime | sed 's/.*load average: //'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

results="$work/results"
printf '%-12s %-9s %5s %9s %9s  %s\n' task tool round accuracy train_s "load (1, 5, 15 min)"
for task in rt-polarity ag_news trec; do
	python3 "$FORMAT" "$DATA/$task/train.tsv" "$work/$task.ft.train"
	python3 "$FORMAT" "$DATA/$task/test.tsv" "$work/$task.ft.test"
	for round in $(seq "$ROUNDS"); do
		l=$(load); t0=$(now)
		"$work/classify" train --model bow --data "$DATA/$task/train.tsv" --val-split 0 --ngrams "$NGRAMS" --epochs "$EPOCHS" \
			--threads "$THREADS" --out "$work/$task.ck" --overwrite >/dev/null 2>&1
		t1=$(now)
		acc=$("$work/classify" eval --checkpoint "$work/$task.ck" --data "$DATA/$task/test.tsv" --json | python3 -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["accuracy"])')
		printf '%-12s %-9s %5d %9s %9s  %s\n' "$task" classify "$round" "$acc" "$(secs "$t0" "$t1")" "$l"
		echo "train $task classify $(secs "$t0" "$t1")" >> "$results"

		l=$(load); t0=$(now)
		fasttext supervised -input "$work/$task.ft.train" -output "$work/$task.ft" -wordNgrams "$NGRAMS" -epoch "$EPOCHS" \
			-thread "$FT_THREADS" -verbose 0 >/dev/null 2>&1
		t1=$(now)
		acc=$(fasttext test "$work/$task.ft.bin" "$work/$task.ft.test" | awk '/^P@1/ { printf "%.4f", $2 }')
		printf '%-12s %-9s %5d %9s %9s  %s\n' "$task" fasttext "$round" "$acc" "$(secs "$t0" "$t1")" "$l"
		echo "train $task fasttext $(secs "$t0" "$t1")" >> "$results"
	done
done

# Prediction: 100,000 lines of rt-polarity's test texts, repeated; a whole
# process each, the model loaded included.
task=rt-polarity
cut -f2- "$DATA/$task/test.tsv" | sed '/^text$/d' > "$work/texts"
python3 "$FORMAT" "$DATA/$task/test.tsv" "$work/ft.texts" --text-only
rep() { awk -v n="$LINES" '{ a[NR] = $0 } END { for (i = 0; i < n; i++) print a[i % NR + 1] }' "$1"; }
rep "$work/texts" > "$work/lines"
rep "$work/ft.texts" > "$work/ft.lines"
printf '\n%-9s %5s %9s %9s  %s\n' tool round seconds lines/s "load (1, 5, 15 min)"
for round in $(seq "$ROUNDS"); do
	l=$(load); t0=$(now)
	"$work/classify" predict --checkpoint "$work/$task.ck" < "$work/lines" > "$work/out"
	t1=$(now)
	n=$(wc -l < "$work/out")
	printf '%-9s %5d %9s %9.0f  %s\n' classify "$round" "$(secs "$t0" "$t1")" "$(awk -v n="$n" -v s="$(secs "$t0" "$t1")" 'BEGIN { print n / s }')" "$l"
	echo "predict lines/s classify $(awk -v n="$n" -v s="$(secs "$t0" "$t1")" 'BEGIN { print n / s }')" >> "$results"
	l=$(load); t0=$(now)
	fasttext predict-prob "$work/$task.ft.bin" "$work/ft.lines" > "$work/ft.out"
	t1=$(now)
	n=$(wc -l < "$work/ft.out")
	printf '%-9s %5d %9s %9.0f  %s\n' fasttext "$round" "$(secs "$t0" "$t1")" "$(awk -v n="$n" -v s="$(secs "$t0" "$t1")" 'BEGIN { print n / s }')" "$l"
	echo "predict lines/s fasttext $(awk -v n="$n" -v s="$(secs "$t0" "$t1")" 'BEGIN { print n / s }')" >> "$results"
done

# Medians of the rounds, and ours over fastText's.
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '\n%-8s %-12s %10s %10s %7s\n' what task classify fasttext ratio
for key in "train rt-polarity" "train ag_news" "train trec" "predict lines/s"; do
	ours=$(awk -v k="$key" '$1 " " $2 == k && $3 == "classify" { print $4 }' "$results" | median)
	theirs=$(awk -v k="$key" '$1 " " $2 == k && $3 == "fasttext" { print $4 }' "$results" | median)
	printf '%-8s %-12s %10s %10s %7.2f\n' $key "$ours" "$theirs" "$(awk -v a="$ours" -v b="$theirs" 'BEGIN { print a / b }')"
done
