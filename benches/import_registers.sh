#!/bin/sh
# Times `shine import` on raw registers written by `shine simulate --raw`, for the
# target "a 2,000,000-person raw simulation imports within 2 minutes and 8 GB".
# Usage: benches/import_registers.sh [POOL] [RUNS]   (default 200000 persons, 3 runs)
# Prints wall-clock seconds and peak resident memory of every run; take the median.
set -eu
POOL=${1:-200000}
RUNS=${2:-3}
SHINE=${SHINE:-target/release/shine}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
/usr/bin/time -f "simulate --raw: %e s, %M KB" "$SHINE" simulate --quiet --raw \
    --referred 350 --pool "$POOL" --seed 3 --out "$WORK/raw"
du -sh "$WORK/raw"
i=1
while [ "$i" -le "$RUNS" ]; do
    /usr/bin/time -f "import run $i: %e s, %M KB" "$SHINE" import --quiet --force \
        --registers "$WORK/raw" --out "$WORK/extracts"
    i=$((i + 1))
done
