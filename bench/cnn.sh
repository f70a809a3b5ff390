#!/usr/bin/env bash
# cnn.sh trains `classify train --model cnn` (Kim 2014: its own defaults,
# trainable embeddings) on rt-polarity and trec with 100-d GloVe
# (glove/glove.6B.100d.top100k.txt.gz) once per seed and per flag set, and
# prints the test accuracy of each run, the mean over the seeds, and the
# mean seconds per epoch (history.json) with the load average (issue 13).
#
# Usage: bench/cnn.sh                                   (defaults, seeds 42 1 2)
#        bench/cnn.sh '' '--vocab-size 30000 --val-split 0 --epochs 5'
#        TASKS=trec SEEDS=42 CLASSIFY=/tmp/m/classify bench/cnn.sh '--feature-maps 200'
#        TASKS=trec bench/cnn.sh '--vectors-vocab 30000 --filters 1,2,3,4 --feature-maps 200'
#                                          (trec's 0.92: 0.9224 over seeds 42, 1, 2)
# Needs go (or CLASSIFY, a built binary). Not part of CI: a run takes
# 30-60 s on a quiet 2-core machine.
set -euo pipefail

SEEDS=${SEEDS:-42 1 2}
TASKS=${TASKS:-rt-polarity trec}
here=$(cd "$(dirname "$0")" && pwd)
DATA=${CLASSIFY_DATA:-$here/../../shared/data}
VECTORS=$DATA/glove/glove.6B.100d.top100k.txt.gz
[ -e "$VECTORS" ] || { echo "cnn.sh: $VECTORS is missing" >&2; exit 1; }
[ $# -gt 0 ] || set -- ''

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
B=${CLASSIFY:-}
if [ -z "$B" ]; then
	B=$W/classify
	(cd "$here/.." && go build -o "$B" ./cmd/classify)
fi

printf '| data set | flags | per seed (%s) | mean | s/epoch | load |\n| --- | --- | --- | ---: | ---: | ---: |\n' "$SEEDS"
for task in $TASKS; do
	for flags in "$@"; do
		accs=() secs=()
		for seed in $SEEDS; do
			# shellcheck disable=SC2086 # flags is a list of words on purpose
			if ! "$B" train --model cnn --data "$DATA/$task/train.tsv" --test "$DATA/$task/test.tsv" \
				--vectors "$VECTORS" --seed "$seed" --out "$W/ck" $flags >"$W/out.txt" 2>&1; then
				echo "cnn.sh: $task seed $seed ($flags) failed: $(tail -3 "$W/out.txt")" >&2
				continue
			fi
			accs+=("$(awk '/^test /{t=1} t && $1=="accuracy" {print $2; exit}' "$W/out.txt")")
			secs+=("$(python3 -c 'import json,sys; h=json.load(open(sys.argv[1])); print(sum(e["seconds"] for e in h)/len(h))' "$W/ck/history.json")")
			rm -rf "$W/ck"
		done
		[ ${#accs[@]} -gt 0 ] || continue
		python3 - "$task" "${flags:-(defaults)}" "$(cut -d' ' -f1 /proc/loadavg)" "${accs[*]}" "${secs[*]}" <<'EOF'
import statistics, sys
task, flags, load, accs, secs = sys.argv[1:]
a = [float(x) for x in accs.split()]
s = [float(x) for x in secs.split()]
print(f"| {task} | `{flags}` | {', '.join(f'{x:.4f}' for x in a)} | {statistics.mean(a):.4f} | {statistics.median(s):.2f} | {load} |")
EOF
	done
done
