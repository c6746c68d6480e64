#!/bin/sh
# Times `shine import` on raw registers written by `shine simulate --raw`, for the
# target "a 2,000,000-person raw simulation imports within 2 minutes and 8 GB".
# Usage: benches/import_registers.sh [POOL] [RUNS]   (default 200000 persons, 3 runs)
# SHINE is the binary to time (default target/release/shine); with BEFORE set to another
# binary (an earlier build), both are timed on the same registers, alternating, and their
# five tables are compared byte for byte.
# Prints wall-clock seconds, CPU seconds (user + system) and peak resident memory of
# every run, then the medians. With RAW set to a folder of raw registers already
# written, that folder is used instead of a new simulation.
set -eu
POOL=${1:-200000}
RUNS=${2:-3}
SHINE=${SHINE:-target/release/shine}
BEFORE=${BEFORE:-}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RAW=${RAW:-$WORK/raw}
if [ ! -d "$RAW" ]; then
    /usr/bin/time -f "simulate --raw: %e s, %M KB" "$SHINE" simulate --quiet --raw \
        --referred 350 --pool "$POOL" --seed 3 --out "$RAW"
fi
du -sh "$RAW"

# time_import LABEL BINARY OUT: one run, its line appended to $WORK/LABEL.
time_import() {
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/last" "$2" import --quiet --force \
        --registers "$RAW" --out "$3"
    read -r wall user sys kb <"$WORK/last"
    cpu=$(awk "BEGIN { print $user + $sys }")
    echo "$1: wall $wall s, CPU $cpu s, peak $kb KB"
    echo "$wall $cpu $kb" >>"$WORK/$1.times"
}

median() { # column of $WORK/LABEL
    cut -d' ' -f"$2" "$WORK/$1.times" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

i=1
while [ "$i" -le "$RUNS" ]; do
    if [ -n "$BEFORE" ]; then
        time_import before "$BEFORE" "$WORK/before"
    fi
    time_import after "$SHINE" "$WORK/after"
    i=$((i + 1))
done
for label in before after; do
    [ -f "$WORK/$label.times" ] || continue
    echo "$label (median of $RUNS): wall $(median $label 1) s, CPU $(median $label 2) s, peak $(median $label 3) KB"
done
if [ -n "$BEFORE" ]; then
    for t in persons covariates referrals contacts proms; do
        cmp "$WORK/before/$t.parquet" "$WORK/after/$t.parquet" && echo "$t.parquet: identical"
    done
fi
