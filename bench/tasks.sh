#!/usr/bin/env bash
# tasks.sh trains classify, fastText and the PyTorch reference side by side
# on the data sets of SPEC section 6 (issue #12) and prints a table of the
# test scores (accuracy; micro-F1 for reuters) and seconds per epoch: mean,
# sample standard deviation, min and max over the seeds.
#
#   classify  train --data T/train.tsv --test T/test.tsv --seed S
#             --vectors glove.6B.100d.top100k.txt.gz --freeze-embeddings=false
#             (reuters: --multi-label), every other flag at its default, plus
#             $FLAGS (or $FLAGS_<task>, e.g. FLAGS_reuters)
#   fastText  supervised -wordNgrams 2 -epoch 25 -thread 1 -seed S
#             (reuters: -loss ova, labels of probability >= 0.5 from
#             predict-prob, micro-F1 computed here), input made by
#             ../shared/bench/fasttext_format.py (our tokenization)
#   torch     torch_reference.py --threads $THREADS --seed S train --bucket
#             --pool max --dropout 0.3 --trainable-embeddings, same vectors
#             (reuters: --multi-label)
#
# rt-polarity is the README's main command instead: glove.6B.50d.top10k.txt,
# frozen embeddings, classify's defaults (the reference: --bucket --pool max
# --dropout 0.3).
#
# reuters/test.tsv has three labels that train.tsv lacks (cottonseed,
# f-cattle, sfr, on three examples); classify and the reference refuse such a
# file (SPEC section 2), so every tool is tested on a copy without those
# three labels (the examples stay, with their other labels).
#
# Seeds run in the outer loop (all tasks and tools for the first seed first),
# tools of one task one after another, so the seconds per epoch of one task
# are measured side by side at the same load (printed with each run).
#
# Usage: bench/tasks.sh                              (all tasks, tools, SEEDS="42 1 2")
#        TASKS="reuters" TOOLS=classify FLAGS="--max-len 300 --epochs 20" bench/tasks.sh
#        SEEDS=42 TOOLS="classify fasttext" RESULTS=/tmp/t.jsonl bench/tasks.sh
#        CLASSIFY=/tmp/m/classify bench/tasks.sh     (an already built binary)
#        TABLE=/tmp/t.jsonl bench/tasks.sh           (only the table of earlier runs)
# Needs go, python3, fasttext (apt-get install fasttext) and /usr/bin/python3
# with python3-torch. Not part of CI: it takes hours on a loaded machine.
set -euo pipefail

SEEDS=${SEEDS:-42 1 2}
TASKS=${TASKS:-trec sst5 ag_news reuters rt-polarity}
TOOLS=${TOOLS:-classify fasttext torch}
THREADS=${THREADS:-2}
FLAGS=${FLAGS:-}
here=$(cd "$(dirname "$0")" && pwd)
DATA=${CLASSIFY_DATA:-$here/../../shared/data}
REFERENCE=${TORCH_REFERENCE:-$here/../../shared/bench/torch_reference.py}
FTFORMAT=$here/../../shared/bench/fasttext_format.py

table() {
	/usr/bin/env python3 - "$@" <<'EOF'
import json, statistics, sys
runs = [json.loads(l) for f in sys.argv[1:] for l in open(f) if l.strip()]
groups = {}
for r in runs:
    groups.setdefault((r["task"], r["tool"], r["flags"].strip()), []).append(r)
def stats(xs):
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{statistics.mean(xs):.4f} | {sd:.4f} | {min(xs):.4f} | {max(xs):.4f}"
print("| task | tool | flags | metric | seeds | per seed | mean | sd | min | max | s/epoch (mean) | load (mean) |")
print("| --- | --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for (task, tool, flags), rs in groups.items():
    vs = [r["value"] for r in rs]
    eps = [r["epoch_s"] for r in rs]
    print(f"| {task} | {tool} | `{flags or '(defaults)'}` | {rs[0]['metric']} | {' '.join(str(r['seed']) for r in rs)} | "
          f"{', '.join(f'{v:.4f}' for v in vs)} | {stats(vs)} | {statistics.mean(eps):.3g} | "
          f"{statistics.mean(r['load'] for r in rs):.1f} |")
EOF
}
if [ -n "${TABLE:-}" ]; then
	table $TABLE
	exit 0
fi

for f in "$REFERENCE" "$FTFORMAT"; do
	[ -e "$f" ] || { echo "tasks.sh: $f is missing" >&2; exit 1; }
done
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
if [ -n "${CLASSIFY:-}" ]; then
	B=$CLASSIFY
else
	(cd "$here/.." && go build -o "$W/classify" ./cmd/classify)
	B=$W/classify
fi
R=${RESULTS:-$W/results.jsonl} # one {"task","tool","flags","seed","metric","value","epoch_s","load"} a line
touch "$R"

load() { cut -d' ' -f1 /proc/loadavg; }
record() { # task tool flags seed metric value epoch_s load
	local flags=${3//\\/\\\\}
	printf '{"task":"%s","tool":"%s","flags":"%s","seed":%s,"metric":"%s","value":%s,"epoch_s":%s,"load":%s}\n' \
		"$1" "$2" "${flags//\"/\\\"}" "$4" "$5" "$6" "$7" "$8" >>"$R"
	printf '%-11s %-8s %-40s seed %-3s %s %s  %s s/epoch  load %s  %s\n' "$1" "$2" "${3:-(defaults)}" "$4" "$5" "$6" "$7" "$8" "$(date -u +%H:%M:%S)" >&2
}

# prepare TASK sets train, test, vectors, the flags of each tool and the
# fastText files for TASK.
prepare() {
	train=$DATA/$1/train.tsv test=$DATA/$1/test.tsv
	vectors=$DATA/glove/glove.6B.100d.top100k.txt.gz
	cflags=(--freeze-embeddings=false) tflags=(--bucket --pool max --dropout 0.3 --trainable-embeddings)
	ftflags=(-wordNgrams 2 -epoch 25) metric=accuracy
	case $1 in
	reuters)
		cflags+=(--multi-label) tflags+=(--multi-label) ftflags+=(-loss ova) metric=micro_f1
		if [ ! -e "$W/reuters-test.tsv" ]; then
			python3 - "$train" "$test" "$W/reuters-test.tsv" <<'EOF'
import sys
seen = set()
for line in open(sys.argv[1], encoding="utf-8"):
    seen.update(line.split("\t", 1)[0].split(","))
dropped = 0
with open(sys.argv[3], "w", encoding="utf-8") as out:
    for line in open(sys.argv[2], encoding="utf-8"):
        labels, text = line.split("\t", 1)
        keep = [l for l in labels.split(",") if l in seen]
        dropped += len(labels.split(",")) - len(keep)
        assert keep, line
        out.write(",".join(keep) + "\t" + text)
print(f"tasks.sh: reuters test: {dropped} labels unseen in training dropped", file=sys.stderr)
EOF
		fi
		test=$W/reuters-test.tsv
		;;
	rt-polarity)
		vectors=$DATA/glove/glove.6B.50d.top10k.txt cflags=() tflags=(--bucket --pool max --dropout 0.3)
		;;
	esac
	local v=FLAGS_${1//-/_}
	extra=${!v:-$FLAGS}
	if [ ! -e "$W/$1.ft-train.txt" ]; then
		python3 "$FTFORMAT" "$train" "$W/$1.ft-train.txt"
		python3 "$FTFORMAT" "$test" "$W/$1.ft-test.txt" --text-only
		cut -f1 "$test" >"$W/$1.truth.txt"
	fi
	for f in "$train" "$test" "$vectors"; do
		[ -e "$f" ] || { echo "tasks.sh: $f is missing" >&2; exit 1; }
	done
}

run_classify() { # task seed
	local out=$W/train.txt flags="${cflags[*]}${extra:+ $extra}"
	# shellcheck disable=SC2086 # extra is a list of words on purpose
	if ! "$B" train --data "$train" --vectors "$vectors" --test "$test" --seed "$2" --out "$W/ck" \
		"${cflags[@]}" $extra >"$out" 2>&1; then
		echo "tasks.sh: classify $1 seed $2 failed, left out: $(tail -3 "$out")" >&2
		rm -rf "$W/ck"
		return
	fi
	local v
	if [ "$metric" = micro_f1 ]; then
		v=$(awk '/^test /{t=1} t && $1=="micro" && $2=="f1" {print $3; exit}' "$out")
	else
		v=$(awk '/^test /{t=1} t && $1=="accuracy" {print $2; exit}' "$out")
	fi
	local ep
	ep=$(python3 -c 'import json,sys; h=json.load(open(sys.argv[1])); print(sum(e["seconds"] for e in h)/len(h))' "$W/ck/history.json")
	record "$1" classify "$flags" "$2" "$metric" "$v" "$ep" "$(load)"
	rm -rf "$W/ck"
}

run_fasttext() { # task seed
	local s e
	s=$(date +%s.%N)
	fasttext supervised -input "$W/$1.ft-train.txt" -output "$W/ft" "${ftflags[@]}" -thread 1 -seed "$2" -verbose 0 >"$W/ft.log" 2>&1 ||
		{ echo "tasks.sh: fasttext $1 seed $2 failed: $(tail -3 "$W/ft.log")" >&2; return; }
	e=$(date +%s.%N)
	if [ "$metric" = micro_f1 ]; then
		fasttext predict-prob "$W/ft.bin" "$W/$1.ft-test.txt" -1 0.5 >"$W/ft.pred"
	else
		fasttext predict "$W/ft.bin" "$W/$1.ft-test.txt" >"$W/ft.pred"
	fi
	local v
	v=$(python3 - "$W/$1.truth.txt" "$W/ft.pred" "$metric" <<'EOF'
import sys
truth = [l.rstrip("\n").split(",") for l in open(sys.argv[1], encoding="utf-8")]
preds = []
for l in open(sys.argv[2], encoding="utf-8"):
    f = l.split()
    # predict-prob: label prob label prob ...; predict: label
    preds.append({w[len("__label__"):] for w in f if w.startswith("__label__")})
assert len(truth) == len(preds), (len(truth), len(preds))
if sys.argv[3] == "micro_f1":
    tp = fp = fn = 0
    for t, p in zip(truth, preds):
        t = {x.replace(" ", "_") for x in t}
        tp += len(t & p); fp += len(p - t); fn += len(t - p)
    print(f"{2 * tp / (2 * tp + fp + fn):.4f}")
else:
    print(f"{sum({t[0].replace(' ', '_')} == p for t, p in zip(truth, preds)) / len(truth):.4f}")
EOF
)
	record "$1" fasttext "${ftflags[*]} -thread 1" "$2" "$metric" "$v" "$(echo "($e - $s) / 25" | bc -l | cut -c1-6)" "$(load)"
}

run_torch() { # task seed
	local out=$W/torch.txt
	if ! /usr/bin/python3 "$REFERENCE" --threads "$THREADS" --seed "$2" train --train "$train" --test "$test" \
		--vectors "$vectors" "${tflags[@]}" >"$out" 2>"$W/torch.err"; then
		echo "tasks.sh: reference $1 seed $2 failed: $(tail -3 "$W/torch.err")" >&2
		return
	fi
	local v ep
	read -r v ep < <(python3 - "$out" "$metric" <<'EOF'
import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print(s["test_micro_f1" if sys.argv[2] == "micro_f1" else "test_accuracy"], s["seconds_per_epoch"])
EOF
)
	record "$1" torch "--threads $THREADS ${tflags[*]}" "$2" "$metric" "$v" "$ep" "$(load)"
}

for seed in $SEEDS; do
	for task in $TASKS; do
		prepare "$task"
		for tool in $TOOLS; do
			"run_$tool" "$task" "$seed"
		done
	done
done
table "$R"
