#!/usr/bin/env bash
# Whole-process timing of the wild cluster bootstrap: shine did --bootstrap wild against
# pyfixest + wildboottest on the same 100,000-row, 20-cluster panel (WCR, Rademacher,
# B = 9999, the same model y ~ treated_post + x | practice + period, CRV1 by practice).
# GNU time -v, median of RUNS (default 3). pyfixest's wildboottest works on the
# dummy-expanded design, so unit fixed effects (10,000 levels) are out of its reach
# here; shine's run with them is timed too.
#
#   bash benches/wild_bootstrap/bench.sh path/to/shine [RUNS]
set -euo pipefail
shine=$1 runs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/make_panel.py" "$work/panel.csv"

measure() { # label, command... → "label seconds megabytes"
  local label=$1; shift
  /usr/bin/time -v "$@" >"$work/out" 2>"$work/time"
  local wall mem
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time")
  mem=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$work/time")
  echo "$label $wall $mem"
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

: >"$work/results"
for _ in $(seq "$runs"); do
  measure shine "$shine" did --data "$work/panel.csv" --formula 'y ~ treated_post + x | practice + period' \
    --vcov cluster:practice --bootstrap wild --bootstrap-reps 9999 --seed 1 --quiet >>"$work/results"
  measure shine_unit_fe "$shine" did --data "$work/panel.csv" --formula 'y ~ treated_post + x | unit + period' \
    --vcov cluster:practice --bootstrap wild --bootstrap-reps 9999 --seed 1 --quiet >>"$work/results"
  measure wildboottest python3 "$here/run_wildboottest.py" "$work/panel.csv" >>"$work/results"
done
echo "| run | median wall s | median peak MB |"
echo "|---|---|---|"
for label in shine shine_unit_fe wildboottest; do
  w=$(awk -v l=$label '$1==l {print $2}' "$work/results" | median)
  m=$(awk -v l=$label '$1==l {print $3}' "$work/results" | median)
  echo "| $label | $w | $m |"
done
