#!/usr/bin/env bash
# Mixed models at scale: shine vs lme4 (lmer alone) and lmerTest (lmer + Satterthwaite
# summary), whole processes under /usr/bin/time -v, median of RUNS runs (default 3).
#
#   benches/lmm_scale/run.sh [WORKDIR]     (from the repository root; needs R with lme4,
#                                           lmerTest, and a release build of shine)
#
# Models: lme4's InstEval, y ~ service + (1|s) + (1|d) + (1|dept:service), REML, and
# 100,000 subjects x 4 times, y ~ t * group + (t | id), REML. shine reports
# Satterthwaite df for both (its default). The data are written by make_data.R.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="${1:-target/lmm_scale}"
runs="${RUNS:-3}"
shine="${SHINE:-target/release/shine}"
mkdir -p "$work"
[ -f "$work/insteval.csv" ] && [ -f "$work/slopes.csv" ] || Rscript "$here/make_data.R" "$work"

# Prints "elapsed_seconds max_rss_mb" of one run of the command.
measure() {
  local log; log="$(mktemp)"
  /usr/bin/time -v "$@" > /dev/null 2> "$log" || { cat "$log" >&2; rm -f "$log"; return 1; }
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
                 for (i = 1; i <= n; i++) s = s * 60 + p[i]; e = s }
              /Maximum resident set size/ { m = $2 / 1024 }
              END { printf "%.2f %.0f\n", e, m }' "$log"
  rm -f "$log"
}

# Median over RUNS runs of elapsed seconds (and the RSS of that run).
median_of() {
  for _ in $(seq "$runs"); do measure "$@"; done | sort -n | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'
}

printf '%-10s %-28s %10s %9s\n' model program seconds "RSS MB"
row() { printf '%-10s %-28s %10s %9s\n' "$1" "$2" $3; }
declare -A formula=(
  [insteval]='y ~ service + (1|s) + (1|d) + (1|dept:service)'
  [slopes]='y ~ t * group + (t | id)'
)
for model in insteval slopes; do
  csv="$work/$model.csv"
  f="${formula[$model]}"
  row "$model" "shine mixed (Satterthwaite)" "$(median_of "$shine" mixed --data "$csv" --formula "$f" --json)"
  row "$model" "lme4::lmer (fit alone)" "$(median_of Rscript "$here/lmer_fit.R" "$csv" "$f")"
  row "$model" "lmerTest + summary" "$(median_of Rscript "$here/lmer_fit.R" "$csv" "$f" satterthwaite)"
done
