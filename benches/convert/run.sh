#!/usr/bin/env bash
# Times `shine convert` of a 5,000,000-row SAS register against pandas (read_sas +
# to_parquet) and R haven (read_sas + arrow::write_parquet, or write.csv without arrow):
# wall time, CPU time (user + system: less disturbed by other work on a shared machine)
# and peak memory from GNU time, median of RUNS runs each.
#
#   benches/convert/run.sh [SHINE] [ROWS] [RUNS]
# SHINE defaults to target/release/shine; the register is made once in $WORK. haven with
# write.csv takes minutes and gigabytes per run: HAVEN_RUNS (default RUNS) sets its runs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
shine="${1:-target/release/shine}"
rows="${2:-5000000}"
runs="${3:-3}"
work="${WORK:-$(mktemp -d)}"
register="$work/bef2019.sas7bdat"
[ -f "$register" ] || Rscript "$here/make_register.R" "$register" "$rows"
echo "register: $register ($(du -h "$register" | cut -f1), $rows rows)"

measure() { # name runs command... → "wall_seconds cpu_seconds peak_kb" per run
  local name="$1" n="$2"; shift 2
  for _ in $(seq "$n"); do
    rm -rf "$work/out"; mkdir -p "$work/out"
    /usr/bin/time -v "$@" 2> "$work/time.txt" > /dev/null
    local wall cpu rss
    wall=$(grep "Elapsed (wall clock)" "$work/time.txt" | awk '{print $NF}' |
      awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    cpu=$(grep -E "(User|System) time" "$work/time.txt" | awk '{s += $NF} END {print s}')
    rss=$(grep "Maximum resident set size" "$work/time.txt" | awk '{print $NF}')
    echo "$name $wall $cpu $rss"
  done
}

{
  measure shine "$runs" "$shine" convert "$register" --out "$work/out" --quiet
  measure shine-zstd "$runs" "$shine" convert "$register" --out "$work/out" --compression zstd --quiet
  measure shine-csv "$runs" "$shine" convert "$register" --out "$work/out" --format csv --quiet
  measure pandas "$runs" python3 "$here/pandas_convert.py" "$register" "$work/out/bef2019.parquet"
  measure haven "${HAVEN_RUNS:-$runs}" Rscript "$here/haven_convert.R" "$register" "$work/out/bef2019"
} > "$work/runs.txt"

# Medians per tool, and the ratio of each to shine's Parquet conversion.
python3 - "$work/runs.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, wall, cpu, rss = line.split()
    runs.setdefault(name, []).append((float(wall), float(cpu), int(rss)))
med = lambda values, i: statistics.median(v[i] for v in values)
base_wall, base_cpu = med(runs["shine"], 0), med(runs["shine"], 1)
print("| tool | median wall (s) | median CPU (s) | median peak RSS (MB) | wall / shine | CPU / shine |")
print("|---|---|---|---|---|---|")
for name, values in runs.items():
    wall, cpu, rss = med(values, 0), med(values, 1), med(values, 2) / 1024
    print(f"| {name} | {wall:.1f} | {cpu:.1f} | {rss:.0f} | {wall / base_wall:.1f}× | {cpu / base_cpu:.1f}× |")
PY
