#!/usr/bin/env bash
# Checks classify against PyTorch with ../shared/bench/parity.py: forward
# probabilities of a trained checkpoint (parity.py predict) and one epoch of
# Adam from an --epochs 0 checkpoint (parity.py train), each to 1e-4.
#
#   binary      rt-polarity, every --pool x --pos-encoding
#   multiclass  trec (6 classes), --pool max, sinusoidal
#   multilabel  reuters with --multi-label, --pool max, sinusoidal
#
# parity.py models neither dropout nor class weights, so every checkpoint
# is trained with --dropout 0 (the default is 0.3) and no --class-weight.
# Needs Debian's python3-torch; not part of CI.
#
#   go build -o /tmp/classify ./cmd/classify && bench/parity.sh /tmp/classify
#   ONLY="multiclass multilabel" bench/parity.sh /tmp/classify
set -u
B=${1:?usage: bench/parity.sh CLASSIFY_BINARY}
ONLY=${ONLY:-binary multiclass multilabel}
here=$(cd "$(dirname "$0")" && pwd)
D=${CLASSIFY_DATA:-$here/../../shared/data}
P=$here/../../shared/bench/parity.py
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail=0

# check NAME DATA TEXTS TRAIN-FLAGS...: trains an --epochs 0 and an
# --epochs 2 checkpoint on DATA and runs both parity.py checks.
check() {
  local name=$1 data=$2 texts=$3
  shift 3
  local common=(--data "$data" --vectors "$D/glove/glove.6B.50d.top10k.txt" --hidden 32 --dropout 0 "$@")
  rm -rf "$W/ck0" "$W/ck2"
  "$B" train "${common[@]}" --epochs 0 --out "$W/ck0" >"$W/log" 2>&1 || { echo "$name: train --epochs 0 failed: $(tail -2 "$W/log")"; fail=1; return; }
  "$B" train "${common[@]}" --epochs 2 --out "$W/ck2" >"$W/log" 2>&1 || { echo "$name: train --epochs 2 failed: $(tail -2 "$W/log")"; fail=1; return; }
  local p t pr tr
  p=$(/usr/bin/python3 "$P" predict "$B" "$W/ck2" "$texts" 2>&1); pr=$?
  t=$(/usr/bin/python3 "$P" train "$B" "$W/ck0" "$data" 2>&1); tr=$?
  [ $pr = 0 ] && [ $tr = 0 ] || fail=1
  printf '%-28s predict rc=%d %s | train rc=%d %s\n' "$name" $pr \
    "$(echo "$p" | grep -o '"max_abs_diff": [^,}]*' || echo "$p" | tail -1)" $tr \
    "$(echo "$t" | grep -o '"max_abs_diff": [^,}]*' || echo "$t" | tail -1)"
  [ $tr = 0 ] || echo "  per tensor: $(echo "$t" | grep -o '"per_tensor": .*')"
}

for task in $ONLY; do
  case $task in
  binary)
    head -320 "$D/rt-polarity/train.tsv" >"$W/rt.tsv"
    head -300 "$D/rt-polarity/test.tsv" | cut -f2 >"$W/rt.txt"
    for pool in last mean max; do
      for pos in sinusoidal learned none; do
        check "binary $pool $pos" "$W/rt.tsv" "$W/rt.txt" --pool $pool --pos-encoding $pos
      done
    done
    ;;
  multiclass)
    head -320 "$D/trec/train.tsv" >"$W/trec.tsv"
    head -300 "$D/trec/test.tsv" | cut -f2 >"$W/trec.txt"
    check "multiclass trec max" "$W/trec.tsv" "$W/trec.txt"
    ;;
  multilabel)
    head -240 "$D/reuters/train.tsv" >"$W/reuters.tsv"
    head -200 "$D/reuters/test.tsv" | cut -f2 >"$W/reuters.txt"
    check "multilabel reuters max" "$W/reuters.tsv" "$W/reuters.txt" --multi-label
    ;;
  esac
done
exit $fail
