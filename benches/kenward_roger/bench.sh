#!/usr/bin/env bash
# Whole-process timing of Kenward-Roger: shine mixed --df kenward-roger against lmerTest's
# summary(m, ddf = "Kenward-Roger") (pbkrtest 0.5.2's vcovAdj, which works with dense
# n x n matrices) on the same CSV, y ~ t * group + (t | id), for SIZES subjects x 6 visits.
# GNU time -v, median of RUNS (default 3).
#
#   bash benches/kenward_roger/bench.sh path/to/shine [RUNS] [SIZES...]
set -euo pipefail
shine=$1 runs=${2:-3}
shift $(( $# >= 2 ? 2 : 1 ))
sizes=${*:-"50 200 400"}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

measure() { # label, command... -> "label seconds megabytes"
  local label=$1; shift
  /usr/bin/time -v "$@" >"$work/out" 2>"$work/time"
  local wall mem
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time")
  mem=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$work/time")
  echo "$label $wall $mem"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "| subjects | rows | shine s | shine MB | lmerTest KR s | lmerTest MB | ratio |"
echo "|---|---|---|---|---|---|---|"
for n in $sizes; do
  Rscript "$here/make_data.R" "$work/d$n.csv" "$n"
  rows=$(( $(wc -l <"$work/d$n.csv") - 1 ))
  : >"$work/results"
  for _ in $(seq "$runs"); do
    measure shine "$shine" mixed --quiet --df kenward-roger --formula 'y ~ t * group + (t | id)' \
      --data "$work/d$n.csv" >>"$work/results"
    measure lmertest Rscript "$here/run_lmertest.R" "$work/d$n.csv" >>"$work/results"
  done
  sw=$(awk '$1=="shine" {print $2}' "$work/results" | median)
  sm=$(awk '$1=="shine" {print $3}' "$work/results" | median)
  rw=$(awk '$1=="lmertest" {print $2}' "$work/results" | median)
  rm_=$(awk '$1=="lmertest" {print $3}' "$work/results" | median)
  echo "| $n | $rows | $sw | $sm | $rw | $rm_ | $(awk -v a="$rw" -v b="$sw" 'BEGIN {printf "%.1f", a / b}') |"
done
