#!/usr/bin/env bash
# Checks classify against PyTorch with ../shared/bench/parity.py for every
# --pool x --pos-encoding: forward probabilities of a trained checkpoint
# (parity.py predict) and one epoch of Adam from an --epochs 0 checkpoint
# (parity.py train). Needs Debian's python3-torch; not part of CI.
#
#   go build -o /tmp/classify ./cmd/classify && bench/parity.sh /tmp/classify
set -u
B=${1:?usage: bench/parity.sh CLASSIFY_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
D=${CLASSIFY_DATA:-$here/../../shared/data}
P=$here/../../shared/bench/parity.py
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
head -320 "$D/rt-polarity/train.tsv" > "$W/small.tsv"
head -300 "$D/rt-polarity/test.tsv" | cut -f2 > "$W/texts.txt"
fail=0
for pool in last mean max; do
  for pos in sinusoidal learned none; do
    common=(--data "$W/small.tsv" --vectors "$D/glove/glove.6B.50d.top10k.txt" --pool $pool --pos-encoding $pos --hidden 32)
    "$B" train "${common[@]}" --epochs 0 --out "$W/ck0" >/dev/null || { echo "train --epochs 0 failed"; exit 1; }
    "$B" train "${common[@]}" --epochs 2 --out "$W/ck2" >/dev/null || { echo "train --epochs 2 failed"; exit 1; }
    p=$(/usr/bin/python3 "$P" predict "$B" "$W/ck2" "$W/texts.txt"); pr=$?
    t=$(/usr/bin/python3 "$P" train "$B" "$W/ck0" "$W/small.tsv"); tr=$?
    [ $pr = 0 ] && [ $tr = 0 ] || fail=1
    printf '%-5s %-10s predict rc=%d %s | train rc=%d %s\n' $pool $pos $pr \
      "$(echo "$p" | grep -o '"max_abs_diff": [^,}]*')" $tr "$(echo "$t" | grep -o '"max_abs_diff": [^,}]*')"
  done
done
exit $fail
