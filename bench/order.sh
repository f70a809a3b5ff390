#!/usr/bin/env bash
# order.sh makes a word-order task from real text that a bag of words
# cannot solve, trains `--model transformer` on it once per position
# encoder, and prints each one's test accuracy next to chance.
#
# The task: rt-polarity sentences of at least MIN_WORDS words. Each
# sentence is used once: label 1 is the sentence as it is, label 0 the
# same sentence with its two halves swapped (words n/2.. then 0..n/2-1,
# split on spaces, so both texts have the same words, the same number of
# times). Half of the sentences, drawn at random, are swapped. Training
# texts come from rt-polarity/train.tsv and test texts from test.tsv, so
# no sentence is in both, and no sentence is in a set in both orders: a
# model must read the order to beat chance. With `--pos-encoding none`
# the encoder is blind to order (attention and mean pooling are
# permutation-invariant), so it should stay at chance; the others should
# not. The data go into a temporary folder, drawn with Python's
# random.Random(DATA_SEED): the same files every time.
#
# BIN=path runs that classify binary instead of building this tree's.
#
# Usage: bench/order.sh
#        TRAIN_N=2000 EPOCHS=5 ENCODERS="none rope" bench/order.sh
#        RUNS=/tmp/order bench/order.sh     (keeps data and logs; finished runs are not redone)
# Every train flag but --epochs is the transformer's default; the vectors
# are VECTORS (100-d GloVe). Not part of CI.
set -euo pipefail

ENCODERS=${ENCODERS:-none sinusoidal learned relative rope alibi}
TRAIN_N=${TRAIN_N:-4000}
TEST_N=${TEST_N:-1000}
MIN_WORDS=${MIN_WORDS:-8}
EPOCHS=${EPOCHS:-10}
SEED=${SEED:-42}
DATA_SEED=${DATA_SEED:-7}
here=$(cd "$(dirname "$0")" && pwd)
DATA=${CLASSIFY_DATA:-$here/../../shared/data}
VECTORS=${VECTORS:-$DATA/glove/glove.6B.100d.top100k.txt.gz}
RUNS=${RUNS:-}
if [ -z "$RUNS" ]; then
	RUNS=$(mktemp -d)
	trap 'rm -rf "$RUNS"' EXIT
fi
mkdir -p "$RUNS"
for f in "$DATA/rt-polarity/train.tsv" "$DATA/rt-polarity/test.tsv" "$VECTORS"; do
	[ -e "$f" ] || { echo "order.sh: $f is missing" >&2; exit 1; }
done

python3 - "$DATA/rt-polarity" "$RUNS" "$TRAIN_N" "$TEST_N" "$MIN_WORDS" "$DATA_SEED" <<'EOF'
import os, random, sys
src, out, train_n, test_n, min_words, seed = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
rng = random.Random(seed)
for split, n in (("train", train_n), ("test", test_n)):
    sents = []
    for line in open(os.path.join(src, split + ".tsv"), encoding="utf-8"):
        _, text = line.rstrip("\n").split("\t", 1)
        words = text.split()
        if len(words) >= min_words:
            sents.append(words)
    rng.shuffle(sents)
    if len(sents) < n:
        sys.exit(f"order.sh: {split}.tsv has {len(sents)} sentences of {min_words}+ words, want {n}")
    with open(os.path.join(out, f"order-{split}.tsv"), "w", encoding="utf-8") as f:
        for words in sents[:n]:
            label = rng.randrange(2)
            if label == 0:
                h = len(words) // 2
                words = words[h:] + words[:h]
            f.write(f"{label}\t{' '.join(words)}\n")
EOF

accuracy() { [ -e "$1" ] && sed -n 's/^  accuracy  *\([0-9.]*\)$/\1/p' "$1" | head -1; }
bin=${BIN:-$RUNS/classify}
[ -n "${BIN:-}" ] || (cd "$here/.." && go build -o "$bin" ./cmd/classify)
for e in $ENCODERS; do
	log=$RUNS/order-$e.log
	[ -n "$(accuracy "$log")" ] && continue
	args=(train --model transformer --pos-encoding "$e" --data "$RUNS/order-train.tsv" --test "$RUNS/order-test.tsv"
		--vectors "$VECTORS" --epochs "$EPOCHS" --seed "$SEED" --out "$RUNS/ck-order-$e" --overwrite)
	{
		echo "# classify ${args[*]}"
		echo "# load $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%H:%M:%S)"
	} >"$log"
	"$bin" "${args[@]}" >>"$log" 2>&1 || echo "order.sh: $e failed (see $log)" >&2
	rm -rf "$RUNS/ck-order-$e"
	echo "order $e: $(accuracy "$log")" >&2
done

chance=$(awk -F'\t' '{n[$1]++} END {m = 0; for (k in n) if (n[k] > m) m = n[k]; printf "%.4f", m / NR}' "$RUNS/order-test.tsv")
echo "order task: $TRAIN_N training and $TEST_N test sentences of $MIN_WORDS+ words, seed $SEED, $EPOCHS epochs; chance (the larger class of test) $chance"
echo "| position encoder | test accuracy |"
echo "| --- | ---: |"
for e in $ENCODERS; do
	a=$(accuracy "$RUNS/order-$e.log")
	echo "| $e | ${a:-failed} |"
done
