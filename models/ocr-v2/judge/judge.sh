#!/bin/bash
# Reads the dev sets and seed 80's generated plates with one reader, as RUNS.md's
# "How a run is judged" says, and prints their score-plates figures.
#   judge.sh ALPR_BINARY MODEL_DIR|builtin OUT_DIR
# Dev data: $ALPR_DEV_DATA, else ../shared/data beside the repository; the scorer:
# $SCORE_PLATES, else bin/score-plates beside the data. Seed 80's
# plates are drawn once into $S80 (default OUT_DIR/../s80) by the binary's own
# generator: draw them with main's binary, or a lever's generator judges itself.
set -euo pipefail
BIN=$1 MODEL=$2 OUT=$3
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
DATA=${ALPR_DEV_DATA:-$ROOT/../shared/data}
S80=${S80:-$(dirname "$OUT")/s80}
SCORE=${SCORE_PLATES:-$DATA/../bin/score-plates}
MOD=()
[ "$MODEL" != builtin ] && MOD=(--model "$MODEL")
mkdir -p "$OUT"
"$BIN" read-crops --gpu off "${MOD[@]}" "$DATA/us-crops-dev" > "$OUT/crops.jsonl" 2> "$OUT/crops.err"
"$BIN" recognize --gpu off "${MOD[@]}" "$DATA/us-dev" > "$OUT/us.jsonl" 2> "$OUT/us.err"
"$BIN" recognize --gpu off "${MOD[@]}" "$DATA/eu-dev" > "$OUT/eu.jsonl" 2> "$OUT/eu.err"
[ -d "$S80" ] || "$BIN" synth-plates --out "$S80" --seed 80 --count 3000 > /dev/null
"$BIN" read-crops --gpu off "${MOD[@]}" "$S80" > "$OUT/s80.jsonl" 2> "$OUT/s80.err"
for set in "crops:$DATA/us-crops-dev/groundtruth.csv" "us:$DATA/us-dev" "eu:$DATA/eu-dev" \
    "s80:$S80/groundtruth.csv"; do
    echo "== ${set%%:*}"
    "$SCORE" "$OUT/${set%%:*}.jsonl" "${set#*:}"
done
