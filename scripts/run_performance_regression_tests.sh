#!/bin/sh
# scripts/run_performance_regression_tests.sh — the performance regression
# run (`make perf`): build this tree optimised, build the baseline commit
# (cached per commit), run both interleaved in this one invocation
# (`lightning perf ab`: duets for the single-threaded sections, ABBA for the
# concurrent ones, one bench process per sample, judged per process pair),
# record the head side in the history as a run (for trend and reports),
# write the reports, and exit with the comparison's code:
#   0 pass, 1 regression, 2 usage or run error, 3 inconclusive.
# CI should run this script (or `lightning perf ab ...`) directly: `make
# perf` turns every non-zero code into make's own 2.
#
# The baseline commit, first match wins:
#   --base REV, or $PERF_BASE          pinned by the caller (a tag, a sha)
#   git config lightning.perfBase      pinned for this clone
#   merge-base of HEAD and the main branch ($PERF_MAIN_BRANCH, default main,
#   else master, origin/main), and when HEAD is on the main branch itself,
#   HEAD's first parent: a branch is judged against where it forked, a main
#   commit against the commit before it.
#
# Usage: scripts/run_performance_regression_tests.sh [--quick] [--suite FILE] [--base REV]
# Environment:
#   LIGHTNING_PERF_HISTORY  history file (default: perf-history.db here)
#   PERF_RESULTS_DIR        where the timestamped report directory goes
#                           (default: perf-results)
# Output: perf-results/<UTC timestamp>/ with ab.txt, ab.md, check.txt,
# report.md, report.html and results.csv (the head run's samples).
set -u

cd "$(dirname "$0")/.." || exit 2
root=$(pwd)
suite=bench/suite.ini
base=${PERF_BASE:-}
usage="usage: $0 [--quick] [--suite FILE] [--base REV]"
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) suite=bench/quick.ini ;;
    --suite | --base)
        [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
        if [ "$1" = --suite ]; then suite=$2; else base=$2; fi
        shift
        ;;
    -h | --help)
        sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "$0: unknown argument '$1' ($usage)" >&2
        exit 2
        ;;
    esac
    shift
done

start=$(date +%s)
jobs=$(nproc 2>/dev/null || echo 2)
echo "== build (make -j$jobs, optimised)"
if ! make -j"$jobs" >/dev/null; then
    echo "make failed; run make to see why" >&2
    exit 2
fi
bin=$root/build/lightning

how=""
if [ -n "$base" ]; then
    how="pinned (--base / PERF_BASE)"
elif base=$(git config --get lightning.perfBase 2>/dev/null) && [ -n "$base" ]; then
    how="pinned (git config lightning.perfBase)"
else
    base=""
    for b in ${PERF_MAIN_BRANCH:-main} master origin/main; do
        if git rev-parse -q --verify "$b^{commit}" >/dev/null 2>&1; then
            mb=$(git merge-base HEAD "$b" 2>/dev/null) || continue
            if [ "$mb" = "$(git rev-parse HEAD)" ]; then
                base=$(git rev-parse -q --verify HEAD^1) || {
                    echo "HEAD is on $b and has no parent: give --base REV" >&2
                    exit 2
                }
                how="HEAD is on $b: its first parent"
            else
                base=$mb
                how="merge-base of HEAD and $b"
            fi
            break
        fi
    done
    if [ -z "$base" ]; then
        echo "no main branch to take a baseline commit from: give --base REV, PERF_BASE" \
            "or git config lightning.perfBase" >&2
        exit 2
    fi
fi
base_sha=$(git rev-parse -q --verify "$base^{commit}") || {
    echo "the baseline '$base' is not a commit" >&2
    exit 2
}

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${PERF_RESULTS_DIR:-perf-results}/$stamp
mkdir -p "$out" || exit 2

echo "== baseline commit $(git rev-parse --short "$base_sha") ($how)"
echo "== ab: suite $suite, base built from that commit (cached), head = this tree"
"$bin" perf ab --suite "$suite" --base "$base_sha" --head-bin "$bin" --record-head-as-run \
    --label "make perf $stamp" --md "$out/ab.md" >"$out/ab.txt"
ab_rc=$?
cat "$out/ab.txt"
head_id=$(sed -n 's/^recorded runs [0-9][0-9]* (base) and \([0-9][0-9]*\) (head).*/\1/p' "$out/ab.txt")

if [ -n "$head_id" ]; then
    # The between-run view: the head run against the spread of the last
    # 20 runs of this machine and suite (check --against the previous run:
    # the window ends there). It reports drift between invocations; it does
    # not gate (the interleaved comparison above does).
    prev=$("$bin" perf history 2>/dev/null | awk -v h="$head_id" '$3 == "run" && $1 + 0 < h + 0 { p = $1 } END { print p }')
    if [ -n "$prev" ]; then
        "$bin" perf check "$head_id" --against "$prev" >"$out/check.txt" 2>&1
    else
        "$bin" perf check "$head_id" --establish-baseline >"$out/check.txt" 2>&1
    fi
    check_rc=$?
    "$bin" perf report --run "$head_id" --html "$out/report.html" --md "$out/report.md" \
        2>/dev/null || echo "warning: the report could not be written" >&2
    "$bin" perf export --csv "$out/results.csv" --run "$head_id" 2>/dev/null ||
        echo "warning: the CSV export failed" >&2
fi

echo
echo "== summary"
if [ -n "$head_id" ]; then
    echo "between-run check of run $head_id against the history (not gating, exit $check_rc):"
    grep -E '^(wall-clock rows|check):' "$out/check.txt" | sed 's/^/  /'
fi
elapsed=$(($(date +%s) - start))
echo
echo "reports: $out/ab.txt, $out/ab.md, $out/report.md, $out/report.html, $out/results.csv"
echo "history: ${LIGHTNING_PERF_HISTORY:-$root/perf-history.db}"
printf 'make perf took %dm%02ds; this script exits %d (' $((elapsed / 60)) $((elapsed % 60)) $ab_rc
case $ab_rc in
0) printf 'pass' ;;
1) printf 'regression' ;;
3) printf 'inconclusive: a slowdown is proven but not sized; see the rows'"'"' notes' ;;
*) printf 'error' ;;
esac
echo "); \`make perf\` reports any non-zero code as make's 2, so gate CI on this script's code"
exit $ab_rc
