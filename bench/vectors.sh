#!/bin/sh
# bench/vectors.sh: word vectors side by side with fastText on the texts of
# the IMDB reviews: classify vectors train (skipgram, cbow, glove, fasttext)
# against fasttext skipgram / cbow (-minn 0 -maxn 0 for word-only runs,
# its subword default for the fasttext method), same corpus, dimension,
# epochs, threads; then analogy accuracy of each (classify vectors eval,
# first 30000 words), words/second/thread as each reports it, wall time and
# peak memory (/usr/bin/time -v).
#
#   bench/vectors.sh                      # every run, the first $LINES reviews
#   LINES=3100 RUNS="sg cbow glove" bench/vectors.sh
#
# Environment: CLASSIFY_DATA (default ../shared/data), LINES (reviews of
# train.tsv then test.tsv to use, default all 49877, about 14.6M tokens),
# THREADS (2), DIM (100), EPOCHS (5; GloVe keeps its default unless
# GLOVE_EPOCHS is set), SAMPLE (subsampling threshold of both sides'
# word-level runs, default 1e-4, fastText's -t; classify's own default for
# skipgram and cbow is 1e-3), RUNS (subset of: sg cbow glove fasttext ft-sg ft-cbow
# ft-subword), EXTRA (more flags for every classify run), OUT (work folder).
# Needs fasttext (apt-get install fasttext) for the ft-* runs.
set -eu
cd "$(dirname "$0")/.."
DATA=${CLASSIFY_DATA:-../shared/data}
THREADS=${THREADS:-2}
DIM=${DIM:-100}
EPOCHS=${EPOCHS:-5}
SAMPLE=${SAMPLE:-1e-4}
LINES=${LINES:-49877}
RUNS=${RUNS:-"sg ft-sg cbow ft-cbow glove fasttext ft-subword"}
EXTRA=${EXTRA:-}
OUT=${OUT:-$(mktemp -d /tmp/classify-vectors-XXXXXX)}
mkdir -p "$OUT"
go build -o "$OUT/classify" ./cmd/classify
C="$OUT/classify"

# The corpus: one review a line, as data.Words tokens joined by spaces, so
# that fastText sees the very tokens classify trains on.
corpus="$OUT/imdb.$LINES.txt"
if [ ! -s "$corpus" ]; then
	mkdir -p "$OUT/mkcorpus"
	cat > "$OUT/mkcorpus/main.go" <<'GO'
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/classify/classify/data"
)

func main() {
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer w.Flush()
	for _, p := range os.Args[1:] {
		ex, err := data.Load(p, data.LoadOptions{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for _, e := range ex {
			fmt.Fprintln(w, strings.Join(data.Words(e.Text), " "))
		}
	}
}
GO
	go run "$OUT/mkcorpus/main.go" "$DATA/imdb/train.tsv" "$DATA/imdb/test.tsv" | awk -v n="$LINES" 'NR <= n' > "$corpus"
fi
echo "corpus: $(wc -l < "$corpus") reviews, $(wc -w < "$corpus") tokens; threads $THREADS, dim $DIM, epochs $EPOCHS; $(nproc) CPUs"
echo "load before: $(uptime)"

# peak KIB and wall SECONDS from a /usr/bin/time -v log
peak() { awk -F': ' '/Maximum resident/ {print $2}' "$1"; }
wall() { awk -F': ' '/Elapsed \(wall/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$1"; }

ours() { # name method flags...
	name=$1; method=$2; shift 2
	/usr/bin/time -v "$C" vectors train --corpus "$corpus" --method "$method" --dim "$DIM" --threads "$THREADS" "$@" $EXTRA --out "$OUT/$name.txt" > "$OUT/$name.log" 2>&1
	wps=$(tr '\r' '\n' < "$OUT/$name.log" | grep -o '[0-9.]*k [a-z]*/s/thread' | tail -1)
	report "$name" "$OUT/$name.txt" "$wps" "$OUT/$name.log" "$(grep -o 'mean cosine.*words [0-9.-]*' "$OUT/$name.log" | awk '{print $NF}')"
}
theirs() { # name command flags...
	name=$1; cmd=$2; shift 2
	/usr/bin/time -v fasttext "$cmd" -input "$corpus" -output "$OUT/$name" -dim "$DIM" -epoch "$EPOCHS" -thread "$THREADS" "$@" > "$OUT/$name.log" 2>&1
	wps=$(tr '\r' '\n' < "$OUT/$name.log" | grep -o 'words/sec/thread: *[0-9]*' | tail -1 | awk '{printf "%.1fk words/s/thread", $2/1000}')
	report "$name" "$OUT/$name.vec" "$wps" "$OUT/$name.log" "$(CLASSIFY_DATA=$DATA "$C" vectors eval --vectors "$OUT/$name.vec" --json | sed 's/.*"mean_cosine":\([0-9.e-]*\).*/\1/' | cut -c1-5)"
}
report() { # name vectors speed timelog cosine
	acc=$(CLASSIFY_DATA=$DATA "$C" vectors eval --vectors "$2" --json | sed 's/.*"overall":{"accuracy":\([0-9.e-]*\),"correct":\([0-9]*\),"answered":\([0-9]*\).*"semantic":{"accuracy":\([0-9.e-]*\).*"syntactic":{"accuracy":\([0-9.e-]*\).*/\1 \2 \3 \4 \5/')
	set -- "$1" "$3" "$4" "$5" $acc
	printf '%-11s overall %6.2f%% (%s/%s)  semantic %6.2f%%  syntactic %6.2f%%  %-24s wall %5ss  peak %4d MiB  mean cos %s\n' \
		"$1" "$(echo "$5*100" | bc -l)" "$6" "$7" "$(echo "$8*100" | bc -l)" "$(echo "$9*100" | bc -l)" "$2" "$(wall "$3")" $(($(peak "$3") / 1024)) "$4"
}

for r in $RUNS; do
	case $r in
	sg) ours sg skipgram --epochs "$EPOCHS" --sample "$SAMPLE" ;;
	cbow) ours cbow cbow --epochs "$EPOCHS" --sample "$SAMPLE" ;;
	glove) ours glove glove ${GLOVE_EPOCHS:+--epochs $GLOVE_EPOCHS} ;;
	fasttext) ours fasttext fasttext --epochs "$EPOCHS" ;;
	ft-sg) theirs ft-sg skipgram -minn 0 -maxn 0 -t "$SAMPLE" ;;
	ft-cbow) theirs ft-cbow cbow -minn 0 -maxn 0 -t "$SAMPLE" ;;
	ft-subword) theirs ft-subword skipgram ;;
	*) echo "unknown run $r" >&2; exit 2 ;;
	esac
done
echo "load after: $(uptime)"
echo "vectors and logs in $OUT"
