#!/usr/bin/env bash
# Whole-process comparison of two shine binaries on the same inputs, interleaved so that
# both see the same machine load: wall time and peak memory (GNU time), median of RUNS.
#
#   bash benches/compare_builds.sh OLD_BINARY NEW_BINARY [RUNS]
#
# Prints one Markdown row per workload: the medians of each binary and their ratio.
set -euo pipefail
old=$1 new=$2 runs=${3:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ref=$root/tests/reference

"$new" simulate --out "$work/extracts" --referred 350 --pool 20000 --seed 3 --quiet

workloads=(
  "analyse_demo|analyse --demo --force --quiet --out $work/OUT"
  "analyse_pool20k|analyse $work/extracts --force --quiet --out $work/OUT"
  "match_lalonde|match --data $ref/matching/lalonde.csv --formula treat~age+educ+race+married+nodegree+re74+re75 --id id --json --quiet"
  "did_castle|did --data $ref/fixest/castle.csv --formula l_homicide~i(rel_year,post,ref=-1)|sid+year --vcov cluster:sid --quiet"
  "mixed_sleepstudy|mixed --data $ref/lmm/sleepstudy.csv --formula Reaction~Days+(Days|Subject) --quiet"
)

measure() { # binary, args → "seconds kilobytes"
  local bin=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$bin" "$@" >/dev/null 2>&1
  cat "$work/time"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "| workload | old wall s | new wall s | new/old | old peak MB | new peak MB |"
echo "|---|---|---|---|---|---|"
for w in "${workloads[@]}"; do
  name=${w%%|*}; cmd=${w#*|}
  read -r -a args <<<"$cmd"
  : >"$work/old" ; : >"$work/new"
  for _ in $(seq "$runs"); do
    measure "$old" "${args[@]//OUT/out-old}" >>"$work/old"
    measure "$new" "${args[@]//OUT/out-new}" >>"$work/new"
  done
  ot=$(cut -d' ' -f1 "$work/old" | median); nt=$(cut -d' ' -f1 "$work/new" | median)
  om=$(cut -d' ' -f2 "$work/old" | median); nm=$(cut -d' ' -f2 "$work/new" | median)
  # GNU time reports wall time in hundredths: below that the ratio means nothing.
  ratio=$(echo "if ($ot > 0) $nt / $ot else -1" | bc -l)
  if [ "$(echo "$ratio < 0" | bc)" = 1 ]; then ratio=n/a; else ratio=$(printf "%.2f" "$ratio"); fi
  printf "| %s | %.2f | %.2f | %s | %.0f | %.0f |\n" "$name" "$ot" "$nt" "$ratio" \
    "$(echo "$om / 1024" | bc -l)" "$(echo "$nm / 1024" | bc -l)"
done
