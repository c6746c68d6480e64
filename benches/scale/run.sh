#!/usr/bin/env bash
# Scale benchmark: simulate a comparison pool of the given sizes, run the default `analyse`
# (main analysis and its sensitivity analyses) on it and record wall time, peak memory and
# the time of each stage, for one or two shine binaries interleaved so both see the same load.
#
#   bash benches/scale/run.sh POOLS BINARY [OTHER_BINARY] [RUNS]
#     POOLS   comma-separated pool sizes, e.g. 200000,1000000,2000000
#     RUNS    runs per binary and pool (default 3); the table shows medians
#   SCALE_DIR=DIR keeps the simulated extracts between calls (default: a temporary folder)
#
# Prints one Markdown row per pool and binary. Needs GNU time (/usr/bin/time).
set -euo pipefail
IFS=, read -r -a pools <<<"$1"
bins=("$2")
runs=3
if [ $# -ge 3 ]; then
  if [ -x "$3" ]; then bins+=("$3"); runs=${4:-3}; else runs=$3; fi
fi
work=${SCALE_DIR:-$(mktemp -d)}
[ -n "${SCALE_DIR:-}" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
stages=(validate derive match did mixed sensitivity report)

echo "| pool | binary | wall s | peak GB | $(printf '%s s | ' "${stages[@]}")"
echo "|---|---|---|---|$(printf -- '---|%.0s' "${stages[@]}")"
for pool in "${pools[@]}"; do
  data=$work/pool$pool
  if [ ! -f "$data/extract.toml" ]; then
    "${bins[0]}" simulate --pool "$pool" --seed 5 --format parquet --out "$data" --quiet --force
  fi
  for b in "${!bins[@]}"; do : >"$work/times$b"; for s in "${stages[@]}"; do : >"$work/$s$b"; done; done
  for _ in $(seq "$runs"); do
    for b in "${!bins[@]}"; do
      /usr/bin/time -f "%e %M" -o "$work/time" "${bins[$b]}" analyse "$data" \
        --out "$work/out$b" --force 2>"$work/stderr" >/dev/null
      cat "$work/time" >>"$work/times$b"
      for s in "${stages[@]}"; do
        awk -v s="$s" '$1 == s && $3 == "s" {print $2}' "$work/stderr" >>"$work/$s$b"
      done
    done
  done
  for b in "${!bins[@]}"; do
    wall=$(cut -d' ' -f1 "$work/times$b" | median)
    peak=$(cut -d' ' -f2 "$work/times$b" | median)
    row="| $pool | $(basename "${bins[$b]}") | $wall | $(printf '%.2f' "$(echo "$peak / 1048576" | bc -l)") |"
    for s in "${stages[@]}"; do
      v=$(median <"$work/$s$b"); row+=" ${v:-–} |"
    done
    echo "$row"
  done
done
