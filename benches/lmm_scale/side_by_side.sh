#!/usr/bin/env bash
# Two builds of shine side by side with lme4 on the bench models, one run after the other
# in rounds so that all see the same machine load: each round runs both shine builds (with
# Satterthwaite df and with --df residual, the fit alone) and lme4::lmer alone; lmerTest
# with summary() runs once per model. Prints one line per run:
#   model program variant wall_seconds user_seconds max_rss_kb
#
#   benches/lmm_scale/side_by_side.sh OLD_SHINE NEW_SHINE [WORKDIR] [ROUNDS]
#
# WORKDIR holds insteval.csv and slopes.csv (written by make_data.R when missing; default
# target/lmm_scale); ROUNDS defaults to 3. Needs GNU time and R with lme4 and lmerTest.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
old="$1"
new="$2"
work="${3:-target/lmm_scale}"
rounds="${4:-3}"
mkdir -p "$work"
[ -f "$work/insteval.csv" ] && [ -f "$work/slopes.csv" ] || Rscript "$here/make_data.R" "$work"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
run() {
  /usr/bin/time -f "%e %U %M" -o "$log" "$@" > /dev/null 2>&1
  cat "$log"
}
declare -A formula=(
  [insteval]='y ~ service + (1|s) + (1|d) + (1|dept:service)'
  [slopes]='y ~ t * group + (t | id)'
)
for model in insteval slopes; do
  csv="$work/$model.csv"
  f="${formula[$model]}"
  for _ in $(seq "$rounds"); do
    for b in "$old" "$new"; do
      echo "$model $(basename "$b") satterthwaite $(run "$b" mixed --data "$csv" --formula "$f" --json)"
      echo "$model $(basename "$b") residual $(run "$b" mixed --data "$csv" --formula "$f" --df residual --json)"
    done
    echo "$model lmer fit $(run Rscript "$here/lmer_fit.R" "$csv" "$f")"
  done
  echo "$model lmerTest satterthwaite $(run Rscript "$here/lmer_fit.R" "$csv" "$f" satterthwaite)"
done
