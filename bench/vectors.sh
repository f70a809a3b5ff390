#!/bin/sh
# bench/vectors.sh: word vectors side by side with fastText on the texts of
# the IMDB reviews (issue 16), in three stages:
#
#   analogy  classify vectors train (skipgram, cbow, glove, fasttext)
#            against fasttext skipgram / cbow (-minn 0 -maxn 0 for the
#            word-only runs, its subword default for ft-subword), same
#            corpus, tokens, dimension, epochs and threads, one run after
#            the other; then each one's analogy accuracy (classify vectors
#            eval, first 30000 words), words/s/thread as each program
#            reports it, words per CPU-second (corpus words × epochs / the
#            user+system time of the whole run), wall time, peak memory
#            (/usr/bin/time -v) and the load average when the run ended.
#   near     the first NEAR_WORDS (900000) words of the same texts
#            (NEAR_SOURCE=imdb) or of reuters/train.tsv (NEAR_SOURCE=reuters:
#            news, where weekdays are common; the reviews name them rarely):
#            skipgram, cbow and glove, each with its default epochs,
#            dimension NEAR_DIM (50), min-count 5; their analogy accuracy
#            and the ten nearest words of each of NEAR_PROBES (monday
#            sunday saturday he we two).
#   tasks    classify train on rt-polarity and sst5 (train.tsv, scored on
#            test.tsv) with the analogy stage's imdb vectors (sg, cbow,
#            glove, fasttext: whichever that stage wrote into OUT) and with
#            the GloVe subsets glove.6B.50d.top10k.txt and
#            glove.6B.100d.top100k.txt.gz, frozen and then fine-tuned
#            (--freeze-embeddings=false), every other flag at its default,
#            per seed of SEEDS; test accuracy a line.
#
#   bench/vectors.sh                                  # every stage
#   STAGES=analogy THREADS=1 RUNS="sg ft-sg" bench/vectors.sh
#   LINES=10000 STAGES=analogy bench/vectors.sh       # the first 10,000 reviews
#   STAGES=tasks OUT=/tmp/classify-vectors-abc bench/vectors.sh  # reuse vectors
#
# Environment: CLASSIFY_DATA (default ../shared/data), STAGES (analogy near
# tasks), OUT (work folder, default a new temporary one; never the
# repository). analogy: LINES (reviews of train.tsv then test.tsv, default
# all 49877, 14.6M tokens), THREADS (1, on both sides, so that per-thread
# rates compare on a shared machine), DIM (100), EPOCHS (5; GloVe keeps its
# default unless GLOVE_EPOCHS is set), SAMPLE (subsampling threshold of
# both sides' word-level runs, default 1e-4, fastText's -t; classify's own
# default for skipgram and cbow is 1e-3), RUNS (subset of: sg cbow glove
# fasttext ft-sg ft-cbow ft-subword; default all), EXTRA (more flags for
# every classify run).
# near: NEAR_WORDS, NEAR_DIM, NEAR_SOURCE, NEAR_PROBES. tasks: TASKS (rt-polarity sst5), SEEDS (42),
# VECS (sg cbow glove fasttext glove50 glove100).
# Needs go, bc, /usr/bin/time and fasttext (apt-get install fasttext) for the
# ft-* runs. Not part of CI: on the full corpus one skip-gram run takes 11
# CPU-minutes, GloVe's 25 epochs and the subword runs longer.
set -eu
cd "$(dirname "$0")/.."
DATA=${CLASSIFY_DATA:-../shared/data}
STAGES=${STAGES:-analogy near tasks}
THREADS=${THREADS:-1}
DIM=${DIM:-100}
EPOCHS=${EPOCHS:-5}
SAMPLE=${SAMPLE:-1e-4}
LINES=${LINES:-49877}
RUNS=${RUNS:-"sg ft-sg cbow ft-cbow glove fasttext ft-subword"}
EXTRA=${EXTRA:-}
NEAR_WORDS=${NEAR_WORDS:-900000}
NEAR_DIM=${NEAR_DIM:-50}
NEAR_SOURCE=${NEAR_SOURCE:-imdb}
NEAR_PROBES=${NEAR_PROBES:-monday sunday saturday he we two}
TASKS=${TASKS:-rt-polarity sst5}
SEEDS=${SEEDS:-42}
VECS=${VECS:-sg cbow glove fasttext glove50 glove100}
OUT=${OUT:-$(mktemp -d /tmp/classify-vectors-XXXXXX)}
mkdir -p "$OUT"
go build -o "$OUT/classify" ./cmd/classify
C="$OUT/classify"

# The corpus: one review a line, as data.Words tokens joined by spaces, so
# that fastText (which splits at white space) sees the very tokens
# classify trains on.
all="$OUT/imdb.txt"
mkcorpus() { # data files... : their texts, one a line, as data.Words tokens
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
	go run "$OUT/mkcorpus/main.go" "$@"
}
[ -s "$all" ] || mkcorpus "$DATA/imdb/train.tsv" "$DATA/imdb/test.tsv" > "$all"

# peak KiB, wall and CPU seconds from a /usr/bin/time -v log
peak() { awk -F': ' '/Maximum resident/ {print $2}' "$1"; }
wall() { awk -F': ' '/Elapsed \(wall/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$1"; }
cpu() { awk -F': ' '/User time|System time/ {s+=$2} END {print s}' "$1"; }
load() { uptime | sed 's/.*load average: //'; }
eval_json() { CLASSIFY_DATA=$DATA "$C" vectors eval --vectors "$1" --json; }

ours() { # corpus name method flags...
	corpus=$1 name=$2 method=$3; shift 3
	/usr/bin/time -v "$C" vectors train --corpus "$corpus" --method "$method" --threads "$THREADS" "$@" $EXTRA --out "$OUT/$name.txt" > "$OUT/$name.log" 2>&1 ||
		{ echo "$name failed:"; tail -3 "$OUT/$name.log"; return 0; }
	wps=$(tr '\r' '\n' < "$OUT/$name.log" | grep -o '[0-9.]*k [a-z]*/s/thread' | tail -1)
	report "$name" "$OUT/$name.txt" "$wps" "$OUT/$name.log" "$(grep -o 'mean cosine.*words [0-9.-]*' "$OUT/$name.log" | awk '{print $NF}')"
}
theirs() { # name command flags...
	name=$1 cmd=$2; shift 2
	/usr/bin/time -v fasttext "$cmd" -input "$corpus" -output "$OUT/$name" -dim "$DIM" -epoch "$EPOCHS" -thread "$THREADS" "$@" > "$OUT/$name.log" 2>&1 ||
		{ echo "$name failed:"; tail -3 "$OUT/$name.log"; return 0; }
	wps=$(tr '\r' '\n' < "$OUT/$name.log" | grep -o 'words/sec/thread: *[0-9]*' | tail -1 | awk '{printf "%.1fk words/s/thread", $2/1000}')
	report "$name" "$OUT/$name.vec" "$wps" "$OUT/$name.log" "$(eval_json "$OUT/$name.vec" | sed 's/.*"mean_cosine":\([0-9.e-]*\).*/\1/' | cut -c1-5)"
}
report() { # name vectors speed timelog cosine  (uses $words, $epochs_of)
	acc=$(eval_json "$2" | sed 's/.*"overall":{"accuracy":\([0-9.e-]*\),"correct":\([0-9]*\),"answered":\([0-9]*\).*"semantic":{"accuracy":\([0-9.e-]*\).*"syntactic":{"accuracy":\([0-9.e-]*\).*/\1 \2 \3 \4 \5/')
	c=$(cpu "$4")
	if [ "$epochs_of" -gt 0 ]; then
		wcpu=$(echo "$words * $epochs_of / $c / 1000" | bc -l | xargs printf '%.1fk')
	else
		wcpu=-
	fi
	set -- "$1" "$3" "$4" "$5" $acc
	printf '%-11s overall %6.2f%% (%s/%s)  semantic %6.2f%%  syntactic %6.2f%%  %-24s %7s words/CPU-s  cpu %5.0fs  wall %5ss  peak %4d MiB  mean cos %s  load %s\n' \
		"$1" "$(echo "$5*100" | bc -l)" "$6" "$7" "$(echo "$8*100" | bc -l)" "$(echo "$9*100" | bc -l)" "$2" "$wcpu" "$c" "$(wall "$3")" $(($(peak "$3") / 1024)) "$4" "$(load)"
}

for stage in $STAGES; do
	case $stage in
	analogy)
		corpus="$OUT/imdb.$LINES.txt"
		[ -s "$corpus" ] || awk -v n="$LINES" 'NR <= n' "$all" > "$corpus"
		words=$(wc -w < "$corpus")
		echo "== analogy: $(wc -l < "$corpus") reviews, $words tokens; threads $THREADS, dim $DIM, epochs $EPOCHS, sample $SAMPLE; $(nproc) CPUs; load $(load)"
		for r in $RUNS; do
			epochs_of=$EPOCHS
			case $r in
			sg) ours "$corpus" sg skipgram --dim "$DIM" --epochs "$EPOCHS" --sample "$SAMPLE" ;;
			cbow) ours "$corpus" cbow cbow --dim "$DIM" --epochs "$EPOCHS" --sample "$SAMPLE" ;;
			glove) epochs_of=0; ours "$corpus" glove glove --dim "$DIM" ${GLOVE_EPOCHS:+--epochs $GLOVE_EPOCHS} ;;
			fasttext) ours "$corpus" fasttext fasttext --dim "$DIM" --epochs "$EPOCHS" ;;
			ft-sg) theirs ft-sg skipgram -minn 0 -maxn 0 -t "$SAMPLE" ;;
			ft-cbow) theirs ft-cbow cbow -minn 0 -maxn 0 -t "$SAMPLE" ;;
			ft-subword) theirs ft-subword skipgram ;;
			*) echo "unknown run $r" >&2; exit 2 ;;
			esac
		done
		;;
	near)
		src=$all
		if [ "$NEAR_SOURCE" = reuters ]; then
			src=$OUT/reuters.txt
			[ -s "$src" ] || mkcorpus "$DATA/reuters/train.tsv" > "$src"
		fi
		corpus="$OUT/$NEAR_SOURCE.near$NEAR_WORDS.txt"
		[ -s "$corpus" ] || awk -v n="$NEAR_WORDS" '{print; w+=NF} w>=n {exit}' "$src" > "$corpus"
		words=$(wc -w < "$corpus")
		echo "== near: $NEAR_SOURCE, $(wc -l < "$corpus") texts, $words tokens; threads $THREADS, dim $NEAR_DIM, each method's default epochs; load $(load)"
		for m in skipgram cbow glove; do
			epochs_of=5
			[ $m = glove ] && epochs_of=0
			ours "$corpus" "near-$NEAR_SOURCE-$m" $m --dim "$NEAR_DIM"
			# shellcheck disable=SC2086 # the probes are words
			CLASSIFY_DATA=$DATA "$C" vectors neighbors --vectors "$OUT/near-$NEAR_SOURCE-$m.txt" --k 10 $NEAR_PROBES 2>&1 | sed "s/^/  near-$NEAR_SOURCE-$m: /"
		done
		;;
	tasks)
		echo "== tasks: $TASKS, seeds $SEEDS, vectors $VECS; load $(load)"
		for task in $TASKS; do
			for v in $VECS; do
				case $v in
				glove50) vf=$DATA/glove/glove.6B.50d.top10k.txt ;;
				glove100) vf=$DATA/glove/glove.6B.100d.top100k.txt.gz ;;
				*) vf=$OUT/$v.txt ;;
				esac
				[ -s "$vf" ] || { echo "$task $v: no $vf, skipped"; continue; }
				for freeze in true false; do
					for seed in $SEEDS; do
						log="$OUT/train-$task-$v-$freeze-$seed.log"
						if ! "$C" train --data "$DATA/$task/train.tsv" --test "$DATA/$task/test.tsv" --vectors "$vf" \
							--freeze-embeddings=$freeze --seed "$seed" --out "$OUT/ck" > "$log" 2>&1; then
							echo "$task $v freeze=$freeze seed $seed failed: $(tail -1 "$log")"
							continue
						fi
						acc=$(awk '/^test /{t=1} t && $1=="accuracy" {print $2; exit}' "$log")
						found=$(grep -o '[0-9]* of [0-9]* words found' "$log" | head -1)
						printf '%-12s %-9s freeze=%-5s seed %-3s test accuracy %s  (%s; load %s)\n' "$task" "$v" "$freeze" "$seed" "$acc" "$found" "$(load)"
						rm -rf "$OUT/ck"
					done
				done
			done
		done
		;;
	*) echo "unknown stage $stage" >&2; exit 2 ;;
	esac
done
echo "vectors and logs in $OUT"
