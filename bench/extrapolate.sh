#!/usr/bin/env bash
# extrapolate.sh tests the claim of the ALiBi and RoPE papers that a model
# trained on short sequences reads longer ones: `--model transformer` is
# trained once per position encoder at `--max-len 64` on TRAIN_N imdb
# training reviews, then scored on TEST_N imdb test reviews of 65 to 256
# tokens twice: as trained (each review cut to its first 64 tokens) and
# reading up to 256 tokens (a copy of the checkpoint whose config.json says
# max_len 256; nothing else changes). A learned position table has rows
# for positions 0-63 only, so that copy does not load: the script reports
# the error classify gives. The sinusoidal table is a function of the
# position and is made for 256; relative positions clip distances at
# --max-relative; RoPE and ALiBi are functions of the position too.
#
# Token counts come from classify's own tokenizer (`classify tokenize`,
# with the tokenizer of a checkpoint written by `train --epochs 0`). The
# samples are drawn with Python's random.Random(DATA_SEED), the same every
# time, into a temporary folder.
#
# BIN=path runs that classify binary instead of building this tree's.
#
# Usage: bench/extrapolate.sh
#        TRAIN_N=2000 EPOCHS=2 ENCODERS="none alibi" bench/extrapolate.sh
#        RUNS=/tmp/ext bench/extrapolate.sh   (keeps data and logs; finished runs are not redone)
# Every other train flag is the transformer's default; the vectors are
# VECTORS (100-d GloVe). Not part of CI.
set -euo pipefail

ENCODERS=${ENCODERS:-none sinusoidal learned relative rope alibi}
TRAIN_N=${TRAIN_N:-4000}
TEST_N=${TEST_N:-1000}
EPOCHS=${EPOCHS:-4}
SEED=${SEED:-42}
DATA_SEED=${DATA_SEED:-7}
TRAIN_LEN=${TRAIN_LEN:-64}
EVAL_LEN=${EVAL_LEN:-256}
here=$(cd "$(dirname "$0")" && pwd)
DATA=${CLASSIFY_DATA:-$here/../../shared/data}
VECTORS=${VECTORS:-$DATA/glove/glove.6B.100d.top100k.txt.gz}
RUNS=${RUNS:-}
if [ -z "$RUNS" ]; then
	RUNS=$(mktemp -d)
	trap 'rm -rf "$RUNS"' EXIT
fi
mkdir -p "$RUNS"
for f in "$DATA/imdb/train.tsv" "$DATA/imdb/test.tsv" "$VECTORS"; do
	[ -e "$f" ] || { echo "extrapolate.sh: $f is missing" >&2; exit 1; }
done
bin=${BIN:-$RUNS/classify}
[ -n "${BIN:-}" ] || (cd "$here/.." && go build -o "$bin" ./cmd/classify)

# The training sample.
python3 - "$DATA/imdb/train.tsv" "$RUNS/ext-train.tsv" "$TRAIN_N" "$DATA_SEED" <<'EOF'
import random, sys
src, out, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
lines = open(src, encoding="utf-8").read().splitlines()
random.Random(seed).shuffle(lines)
open(out, "w", encoding="utf-8").write("\n".join(lines[:n]) + "\n")
EOF

# The test sample: reviews of TRAIN_LEN+1 to EVAL_LEN tokens.
if [ ! -s "$RUNS/ext-test.tsv" ]; then
	# The tokenizer's checkpoint cuts texts at max_len: one more than
	# EVAL_LEN tells the longer ones apart.
	"$bin" train --model transformer --data "$RUNS/ext-train.tsv" --epochs 0 --max-len "$((EVAL_LEN + 1))" \
		--out "$RUNS/ck-tokenizer" --overwrite >/dev/null
	cut -f2- "$DATA/imdb/test.tsv" | "$bin" tokenize --checkpoint "$RUNS/ck-tokenizer" --json >"$RUNS/test-tokens.jsonl"
	python3 - "$DATA/imdb/test.tsv" "$RUNS/test-tokens.jsonl" "$RUNS/ext-test.tsv" "$TEST_N" "$DATA_SEED" "$TRAIN_LEN" "$EVAL_LEN" <<'EOF'
import json, random, sys
src, toks, out = sys.argv[1:4]
n, seed, lo, hi = map(int, sys.argv[4:])
lines = open(src, encoding="utf-8").read().splitlines()
counts = [len(json.loads(l)["tokens"]) for l in open(toks, encoding="utf-8")]
if len(counts) != len(lines):
    sys.exit(f"extrapolate.sh: {len(lines)} test lines, {len(counts)} tokenized")
keep = [l for l, c in zip(lines, counts) if lo < c <= hi]
random.Random(seed).shuffle(keep)
if len(keep) < n:
    sys.exit(f"extrapolate.sh: {len(keep)} test reviews of {lo+1}-{hi} tokens, want {n}")
open(out, "w", encoding="utf-8").write("\n".join(keep[:n]) + "\n")
print(f"test: {n} of the {len(keep)} imdb test reviews of {lo+1}-{hi} tokens", file=sys.stderr)
EOF
	rm -rf "$RUNS/ck-tokenizer" "$RUNS/test-tokens.jsonl"
fi

accuracy() { [ -e "$1" ] && sed -n 's/^  accuracy  *\([0-9.]*\)$/\1/p' "$1" | head -1; }
for e in $ENCODERS; do
	log=$RUNS/ext-$e.log
	ck=$RUNS/ck-ext-$e
	if [ -z "$(accuracy "$log")" ]; then
		args=(train --model transformer --pos-encoding "$e" --data "$RUNS/ext-train.tsv" --max-len "$TRAIN_LEN"
			--vectors "$VECTORS" --epochs "$EPOCHS" --seed "$SEED" --out "$ck" --overwrite)
		{
			echo "# classify ${args[*]}"
			echo "# load $(cut -d' ' -f1-3 /proc/loadavg) at $(date -u +%H:%M:%S)"
		} >"$log"
		if ! "$bin" "${args[@]}" >>"$log" 2>&1; then
			echo "extrapolate.sh: $e failed (see $log)" >&2
			continue
		fi
		echo "# eval at max_len $TRAIN_LEN" >>"$log"
		"$bin" eval --checkpoint "$ck" --data "$RUNS/ext-test.tsv" >>"$log" 2>&1 || true
		rm -rf "$ck-long"
		cp -r "$ck" "$ck-long"
		python3 - "$ck-long/config.json" "$EVAL_LEN" <<'EOF'
import json, sys
p, n = sys.argv[1], int(sys.argv[2])
c = json.load(open(p))
c["model"]["max_len"] = n
json.dump(c, open(p, "w"), indent=2)
EOF
		"$bin" eval --checkpoint "$ck-long" --data "$RUNS/ext-test.tsv" >"$RUNS/ext-$e-long.log" 2>&1 || true
		rm -rf "$ck" "$ck-long"
	fi
	echo "extrapolate $e: $(accuracy "$log") / $(accuracy "$RUNS/ext-$e-long.log")" >&2
done

echo "trained at --max-len $TRAIN_LEN on $TRAIN_N imdb reviews, seed $SEED, $EPOCHS epochs; scored on $TEST_N imdb test reviews of $((TRAIN_LEN + 1))-$EVAL_LEN tokens"
echo "| position encoder | reading $TRAIN_LEN tokens | reading up to $EVAL_LEN tokens |"
echo "| --- | ---: | ---: |"
for e in $ENCODERS; do
	a=$(accuracy "$RUNS/ext-$e.log")
	b=$(accuracy "$RUNS/ext-$e-long.log")
	if [ -z "$b" ] && [ -e "$RUNS/ext-$e-long.log" ]; then
		b="refused: $(grep -m1 -i 'error\|classify' "$RUNS/ext-$e-long.log" | cut -c1-160)"
	fi
	echo "| $e | ${a:-failed} | ${b:-failed} |"
done
