#!/usr/bin/env bash
# encoders.sh trains `--model transformer` once per position encoder, and
# the BiLSTM and the CNN next to it, on DATASETS x SEEDS (every flag at
# its model's default, the word vectors VECTORS), scores each on the data
# set's test.tsv and prints a table of test accuracy: the mean over the
# seeds that ran, and the runs behind it.
#
# BIN=path runs that classify binary instead of building this tree's.
#
# Usage: bench/encoders.sh
#        SEEDS=42 DATASETS=rt-polarity bench/encoders.sh
#        RUNS=/tmp/enc bench/encoders.sh     (keeps every log there; a run whose
#                                              log already has a test accuracy is
#                                              not run again, so a stopped run resumes)
#        TABLE_ONLY=1 RUNS=/tmp/enc bench/encoders.sh   (the table of the logs in RUNS)
#
# Runs go seed by seed, then data set by data set, then model by model, so
# that whatever is stopped early leaves whole rows of seed 42 first. Each
# log starts with the command and the load average when it started. Not
# part of CI: one transformer run on rt-polarity takes 2.5-6 minutes on a
# shared 2-core machine, the whole table (54 transformer runs) hours.
set -euo pipefail

SEEDS=${SEEDS:-42 1 2}
DATASETS=${DATASETS:-rt-polarity trec sst5}
ENCODERS=${ENCODERS:-none sinusoidal learned relative rope alibi}
BASELINES=${BASELINES:-bilstm cnn}
here=$(cd "$(dirname "$0")" && pwd)
DATA=${CLASSIFY_DATA:-$here/../../shared/data}
VECTORS=${VECTORS:-$DATA/glove/glove.6B.100d.top100k.txt.gz}
RUNS=${RUNS:-}
if [ -z "$RUNS" ]; then
	RUNS=$(mktemp -d)
	trap 'rm -rf "$RUNS"' EXIT
fi
mkdir -p "$RUNS"

# accuracy LOG prints the test accuracy in a finished log, or nothing.
accuracy() { [ -e "$1" ] && sed -n 's/^  accuracy  *\([0-9.]*\)$/\1/p' "$1" | head -1; }

if [ "${TABLE_ONLY:-0}" != 1 ]; then
	[ -e "$VECTORS" ] || { echo "encoders.sh: $VECTORS is missing" >&2; exit 1; }
	bin=${BIN:-$RUNS/classify}
	[ -n "${BIN:-}" ] || (cd "$here/.." && go build -o "$bin" ./cmd/classify)
	for seed in $SEEDS; do
		for ds in $DATASETS; do
			for f in "$DATA/$ds/train.tsv" "$DATA/$ds/test.tsv"; do
				[ -e "$f" ] || { echo "encoders.sh: $f is missing" >&2; exit 1; }
			done
			for model in $(for e in $ENCODERS; do echo "transformer-$e"; done) $BASELINES; do
				log=$RUNS/$model-$ds-$seed.log
				[ -n "$(accuracy "$log")" ] && continue
				args=(train --data "$DATA/$ds/train.tsv" --test "$DATA/$ds/test.tsv"
					--vectors "$VECTORS" --seed "$seed" --out "$RUNS/ck-$model-$ds-$seed" --overwrite)
				case $model in
				transformer-*) args+=(--model transformer --pos-encoding "${model#transformer-}") ;;
				*) args+=(--model "$model") ;;
				esac
				{
					echo "# classify ${args[*]}"
					echo "# load $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%H:%M:%S)"
				} >"$log"
				if ! "$bin" "${args[@]}" >>"$log" 2>&1; then
					echo "encoders.sh: $model on $ds, seed $seed failed (see $log)" >&2
				fi
				rm -rf "$RUNS/ck-$model-$ds-$seed"
				echo "$model $ds seed $seed: $(accuracy "$log")" >&2
			done
		done
	done
fi

python3 - "$RUNS" "$DATASETS" "$ENCODERS" "$BASELINES" "$SEEDS" <<'EOF'
import os, re, statistics, sys
runs, datasets, encoders, baselines, seeds = sys.argv[1], *[a.split() for a in sys.argv[2:]]
models = [f"transformer-{e}" for e in encoders] + baselines
def acc(model, ds, seed):
    p = os.path.join(runs, f"{model}-{ds}-{seed}.log")
    if not os.path.exists(p):
        return None
    m = re.search(r"^  accuracy +([0-9.]+)$", open(p).read(), re.M)
    return float(m.group(1)) if m else None
print("| model | " + " | ".join(datasets) + " |")
print("| --- |" + " ---: |" * len(datasets))
for model in models:
    cells = []
    for ds in datasets:
        got = [(s, a) for s in seeds if (a := acc(model, ds, s)) is not None]
        if not got:
            cells.append("not run")
            continue
        mean = statistics.mean(a for _, a in got)
        cells.append(f"**{mean:.4f}** (seeds {','.join(s for s, _ in got)}: {', '.join(f'{a:.4f}' for _, a in got)})")
    name = model.replace("transformer-", "transformer, ")
    print(f"| {name} | " + " | ".join(cells) + " |")
EOF
