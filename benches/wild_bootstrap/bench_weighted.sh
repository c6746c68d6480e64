#!/usr/bin/env bash
# Whole-process timing of the weighted wild cluster bootstrap: shine did --weights w
# --bootstrap wild against wildboottest on the √w-scaled dummy design (the only way it
# takes weights), on the 100,000-row, 20-cluster panel of bench.sh with a weight column
# (WCR, Rademacher, B = 9999, y ~ treated_post + x | practice + period, CRV1 by
# practice); and the cost of the bootstrap inside `analyse --demo` (the plan's
# outcomes.linear_bootstrap "wild" against "none"). GNU time -v, median of RUNS (3).
#
#   bash benches/wild_bootstrap/bench_weighted.sh path/to/shine [RUNS]
set -euo pipefail
shine=$1 runs=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$here/make_panel.py" "$work/plain.csv"
python3 - "$work/plain.csv" "$work/panel.csv" <<'PY'
import sys
import numpy as np
import pandas as pd
df = pd.read_csv(sys.argv[1])
rng = np.random.default_rng(7)
df["w"] = rng.uniform(0.2, 1.0, len(df)).round(6)
df.to_csv(sys.argv[2], index=False)
PY
printf '[outcomes]\nlinear_bootstrap = "none"\n' >"$work/none.toml"
printf '[outcomes]\nlinear_bootstrap = "wild"\n' >"$work/wild.toml"

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
  measure shine_weighted "$shine" did --data "$work/panel.csv" --formula 'y ~ treated_post + x | practice + period' \
    --weights w --vcov cluster:practice --bootstrap wild --bootstrap-reps 9999 --seed 1 --quiet >>"$work/results"
  measure wildboottest_weighted python3 "$here/run_wildboottest_weighted.py" "$work/panel.csv" >>"$work/results"
  measure analyse_demo_no_bootstrap "$shine" analyse --demo --plan "$work/none.toml" --force --quiet --out "$work/a" >>"$work/results"
  measure analyse_demo_bootstrap "$shine" analyse --demo --plan "$work/wild.toml" --force --quiet --out "$work/b" >>"$work/results"
done
echo "| run | median wall s | median peak MB |"
echo "|---|---|---|"
for label in shine_weighted wildboottest_weighted analyse_demo_no_bootstrap analyse_demo_bootstrap; do
  w=$(awk -v l=$label '$1==l {print $2}' "$work/results" | median)
  m=$(awk -v l=$label '$1==l {print $3}' "$work/results" | median)
  echo "| $label | $w | $m |"
done
