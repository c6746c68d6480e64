#!/usr/bin/env bash
# Times `shine convert` of a 5,000,000-row SAS register against pandas (read_sas +
# to_parquet) and R haven (read_sas + arrow::write_parquet, or write.csv without arrow):
# wall time and peak memory from GNU time, median of RUNS runs each.
#
#   benches/convert/run.sh [SHINE] [ROWS] [RUNS]
# SHINE defaults to target/release/shine; the register is made once in $WORK.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
shine="${1:-target/release/shine}"
rows="${2:-5000000}"
runs="${3:-3}"
work="${WORK:-$(mktemp -d)}"
register="$work/bef2019.sas7bdat"
[ -f "$register" ] || Rscript "$here/make_register.R" "$register" "$rows"
echo "register: $register ($(du -h "$register" | cut -f1), $rows rows)"

measure() { # name command... → "seconds peak_kb" per run
  local name="$1"; shift
  for _ in $(seq "$runs"); do
    rm -rf "$work/out"; mkdir -p "$work/out"
    /usr/bin/time -v "$@" 2> "$work/time.txt" > /dev/null
    local wall rss
    wall=$(grep "Elapsed (wall clock)" "$work/time.txt" | awk '{print $NF}' |
      awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
    rss=$(grep "Maximum resident set size" "$work/time.txt" | awk '{print $NF}')
    echo "$name $wall $rss"
  done
}

{
  measure shine "$shine" convert "$register" --out "$work/out" --quiet
  measure shine-csv "$shine" convert "$register" --out "$work/out" --format csv --quiet
  measure pandas python3 "$here/pandas_convert.py" "$register" "$work/out/bef2019.parquet"
  measure haven Rscript "$here/haven_convert.R" "$register" "$work/out/bef2019"
} > "$work/runs.txt"

# Medians per tool, and the ratio of each to shine's Parquet conversion.
python3 - "$work/runs.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, wall, rss = line.split()
    runs.setdefault(name, []).append((float(wall), int(rss)))
base = statistics.median(w for w, _ in runs["shine"])
print("| tool | median wall (s) | median peak RSS (MB) | time / shine |")
print("|---|---|---|---|")
for name, values in runs.items():
    wall = statistics.median(w for w, _ in values)
    rss = statistics.median(r for _, r in values) / 1024
    print(f"| {name} | {wall:.2f} | {rss:.0f} | {wall / base:.1f}× |")
PY
