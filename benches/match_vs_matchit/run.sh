#!/usr/bin/env bash
# Side-by-side run of `shine match` and MatchIt on the benchmark tables, one after
# the other (never in parallel), with the load average noted before each timing.
#
#   bash benches/match_vs_matchit/run.sh            # from the repository root
#
# Env: SHINE (default target/release/shine), OUT (default /tmp/match_vs_matchit),
#      SHINE_BEFORE (optional: an earlier shine binary, timed in turn with SHINE on the
#      large table; its --json output must be the same bytes),
#      SHINE_RUNS (shine repetitions on the large table, default 3; each times --json and
#      the default printout),
#      MATCHIT_RUNS (MatchIt repetitions on the large table, default 1),
#      SUMMARY_RUNS (repetitions of MatchIt with summary(m) on the large table, default 1:
#      the balance table shine's output holds too),
#      R_LIBS_USER (the library MatchIt was installed into, e.g. by
#      tests/reference/matching/install_matchit_4.7.2.sh).
# Needs: python3 + numpy, Rscript with MatchIt (and data.table, jsonlite), GNU time.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SHINE=${SHINE:-$ROOT/target/release/shine}
OUT=${OUT:-/tmp/match_vs_matchit}
RUNS=${SHINE_RUNS:-3}
BEFORE=${SHINE_BEFORE:-}
R_RUNS=${MATCHIT_RUNS:-1}
S_RUNS=${SUMMARY_RUNS:-1}
mkdir -p "$OUT"
cd "$ROOT"
F="treat ~ age + income + prior_visits + bmi + chronic_score + distance_km + female + smoker + education + region"
LOG="$OUT/log.txt"
: > "$LOG"
note() { echo "$*" | tee -a "$LOG"; }

[ -f /tmp/match_bench_1m.csv ] && [ -f /tmp/match_bench_100k.csv ] ||
  python3 "$HERE/make_data.py"
note "shine: $SHINE ($(stat -c %y "$SHINE"))"
note "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB RAM; $(uname -sr)"

shine_run() { # data json tag [binary]
  note "[$3] load before: $(uptime | sed 's/.*load average: //')"
  /usr/bin/time -v "${4:-$SHINE}" match --data "$1" --formula "$F" --id id --ratio 5 \
    --caliper 0.2 --json > "$2" 2> "$OUT/$3.time"
}
# The default printout (model, sample sizes, balance table; no per-unit weights and
# pairs), as the R script writes no per-unit output either.
shine_plain_run() { # data out tag
  note "[$3] load before: $(uptime | sed 's/.*load average: //')"
  /usr/bin/time -v "$SHINE" match --data "$1" --formula "$F" --id id --ratio 5 \
    --caliper 0.2 > "$2" 2> "$OUT/$3.time"
}
r_run() { # data json tag [extra args]
  local data=$1 json=$2 tag=$3; shift 3
  note "[$tag] load before: $(uptime | sed 's/.*load average: //')"
  /usr/bin/time -v Rscript "$HERE/run_matchit.R" "$data" "$json" "$@" 2> "$OUT/$tag.time" |
    tee -a "$LOG"
}

# 1. agreement on the small table
r_run /tmp/match_bench_100k.csv "$OUT/matchit_100k.json" matchit_100k \
  --pairs "$OUT/matchit_100k_pairs.csv" --distance "$OUT/matchit_100k_distance.csv"
shine_run /tmp/match_bench_100k.csv "$OUT/shine_100k.json" shine_100k
python3 "$HERE/compare.py" "$OUT/shine_100k.json" "$OUT/matchit_100k.json" \
  "$OUT/matchit_100k_pairs.csv" "$OUT/matchit_100k_distance.csv" | tee -a "$LOG"

# 2. the target: 1,000,000 rows, 10,000 treated
# MatchIt and shine alternate, so that both see the same load.
MOST=$(( RUNS > R_RUNS ? RUNS : R_RUNS )); MOST=$(( MOST > S_RUNS ? MOST : S_RUNS ))
for i in $(seq 1 "$MOST"); do
  if [ "$i" -le "$R_RUNS" ]; then
    r_run /tmp/match_bench_1m.csv "$OUT/matchit_1m_$i.json" "matchit_1m_$i"
  fi
  if [ "$i" -le "$S_RUNS" ]; then
    r_run /tmp/match_bench_1m.csv "$OUT/summary_1m_$i.json" "summary_1m_$i" --summary
  fi
  if [ "$i" -le "$RUNS" ]; then
    shine_run /tmp/match_bench_1m.csv "$OUT/shine_1m_$i.json" "shine_1m_$i"
    shine_plain_run /tmp/match_bench_1m.csv "$OUT/shine_plain_1m_$i.txt" "shine_plain_1m_$i"
    if [ -n "$BEFORE" ]; then
      shine_run /tmp/match_bench_1m.csv "$OUT/shine_before_1m_$i.json" "shine_before_1m_$i" "$BEFORE"
      cmp "$OUT/shine_1m_$i.json" "$OUT/shine_before_1m_$i.json" &&
        note "shine and SHINE_BEFORE: the same --json bytes"
    fi
  fi
done
note "load after: $(uptime | sed 's/.*load average: //')"
python3 "$HERE/compare.py" "$OUT/shine_1m_1.json" "$OUT/matchit_1m_1.json" | tee -a "$LOG"

python3 - "$OUT" "$RUNS" "$R_RUNS" "$BEFORE" "$S_RUNS" <<'PY' | tee -a "$LOG"
import json, re, statistics, sys
out, runs, r_runs, before = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s_runs = int(sys.argv[5])
def gnu(tag):
    t = open(f"{out}/{tag}.time").read()
    g = lambda k: re.search(re.escape(k) + r": (.*)", t).group(1).strip()
    el = g("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":")
    sec = sum(float(x) * 60 ** i for i, x in enumerate(reversed(el)))
    return dict(wall=sec, cpu=float(g("User time (seconds)")) + float(g("System time (seconds)")),
                rss_mb=int(g("Maximum resident set size (kbytes)")) / 1024)
rs = [json.load(open(f"{out}/matchit_1m_{i}.json")) for i in range(1, r_runs + 1)]
rg = [gnu(f"matchit_1m_{i}") for i in range(1, r_runs + 1)]
sh = [gnu(f"shine_1m_{i}") for i in range(1, runs + 1)]
med = lambda xs: statistics.median(xs)
print("\n| | wall (s) | CPU (s) | peak RSS |")
print("|---|---|---|---|")
for i, (r, g) in enumerate(zip(rs, rg), 1):
    print(f"| MatchIt {r['matchit_version']}, run {i}: whole Rscript process | {g['wall']:.2f} | {g['cpu']:.2f} | {g['rss_mb']:.0f} MiB |")
    print(f"| — of which read (fread) / matchit() | {r['read_seconds']:.2f} / {r['matchit_seconds']:.2f} | | |")
ss = [json.load(open(f"{out}/summary_1m_{i}.json")) for i in range(1, s_runs + 1)]
sg = [gnu(f"summary_1m_{i}") for i in range(1, s_runs + 1)]
for i, (r, g) in enumerate(zip(ss, sg), 1):
    print(f"| MatchIt {r['matchit_version']} + summary(m), run {i}: whole Rscript process | {g['wall']:.2f} | {g['cpu']:.2f} | {g['rss_mb']:.0f} MiB |")
    print(f"| — of which read / matchit() / summary() | {r['read_seconds']:.2f} / {r['matchit_seconds']:.2f} / {r['summary_seconds']:.2f} | | |")
for i, s in enumerate(sh, 1):
    print(f"| shine match --json, run {i} | {s['wall']:.2f} | {s['cpu']:.2f} | {s['rss_mb']:.0f} MiB |")
sp = [gnu(f"shine_plain_1m_{i}") for i in range(1, runs + 1)]
for i, s in enumerate(sp, 1):
    print(f"| shine match (default printout), run {i} | {s['wall']:.2f} | {s['cpu']:.2f} | {s['rss_mb']:.0f} MiB |")
if before:
    for i in range(1, runs + 1):
        b = gnu(f"shine_before_1m_{i}")
        print(f"| SHINE_BEFORE match --json, run {i} | {b['wall']:.2f} | {b['cpu']:.2f} | {b['rss_mb']:.0f} MiB |")
r_wall, s_wall = med(g["wall"] for g in rg), med(s["wall"] for s in sh)
print(f"\nratio, whole process wall, median MatchIt {r_wall:.2f} s / median shine --json {s_wall:.2f} s: "
      f"{r_wall / s_wall:.1f}x")
p_wall = med(s["wall"] for s in sp)
print(f"ratio, whole process wall, median MatchIt {r_wall:.2f} s / median shine (default printout) "
      f"{p_wall:.2f} s: {r_wall / p_wall:.1f}x")
if sg:
    print(f"ratio, the same outputs (propensity model, matched sets, balance table): "
          f"MatchIt with summary(m) {med(g['wall'] for g in sg):.2f} s / shine {s_wall:.2f} s: "
          f"{med(g['wall'] for g in sg) / s_wall:.1f}x")
print(f"ratio, MatchIt read + matchit() / shine whole process: "
      f"{med(r['read_plus_matchit_seconds'] for r in rs) / s_wall:.1f}x")
print(f"ratio, CPU seconds, whole Rscript / shine (medians): "
      f"{med(g['cpu'] for g in rg) / med(s['cpu'] for s in sh):.1f}x")
PY
