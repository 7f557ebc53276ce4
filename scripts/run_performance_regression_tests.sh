#!/bin/sh
# scripts/run_performance_regression_tests.sh — the performance regression
# run (`make perf`): build optimised, run the regression suite, record it in
# the history, check it against this machine's baseline (establishing the
# baseline on the first run, and saying so), write the reports, print the
# verdict table, and exit with the check's code:
#   0 pass, 1 regression, 2 usage or run error, 3 inconclusive.
#
# Usage: scripts/run_performance_regression_tests.sh [--quick] [--suite FILE]
# Environment:
#   LIGHTNING_PERF_HISTORY  history file (default: perf-history.db here)
#   PERF_RESULTS_DIR        where the timestamped report directory goes
#                           (default: perf-results)
# Output: perf-results/<UTC timestamp>/ with run.txt, check.txt, report.md,
# report.html and results.csv (this run's samples).
set -u

cd "$(dirname "$0")/.." || exit 2
root=$(pwd)
suite=bench/suite.ini
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) suite=bench/quick.ini ;;
    --suite)
        [ $# -ge 2 ] || { echo "usage: $0 [--quick] [--suite FILE]" >&2; exit 2; }
        suite=$2
        shift
        ;;
    -h | --help)
        sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "$0: unknown argument '$1' (usage: $0 [--quick] [--suite FILE])" >&2
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

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${PERF_RESULTS_DIR:-perf-results}/$stamp
mkdir -p "$out" || exit 2

echo "== run suite $suite (progress on stderr when it is a terminal)"
"$bin" perf run --suite "$suite" --label "make perf $stamp" >"$out/run.txt"
rc=$?
cat "$out/run.txt"
if [ $rc -ne 0 ]; then
    echo "the suite run failed (exit $rc); nothing recorded" >&2
    exit 2
fi
run_id=$(sed -n 's/^recorded run \([0-9][0-9]*\):.*/\1/p' "$out/run.txt")
if [ -z "$run_id" ]; then
    echo "could not find the recorded run id in $out/run.txt" >&2
    exit 2
fi

echo "== check run $run_id against this machine's baseline"
"$bin" perf check "$run_id" --establish-baseline --md "$out/check.md" >"$out/check.txt"
check_rc=$?

"$bin" perf report --run "$run_id" --html "$out/report.html" --md "$out/report.md" 2>/dev/null ||
    echo "warning: the report could not be written" >&2
"$bin" perf export --csv "$out/results.csv" --run "$run_id" 2>/dev/null ||
    echo "warning: the CSV export failed" >&2

echo
echo "== summary"
cat "$out/check.txt"
elapsed=$(($(date +%s) - start))
echo
echo "reports: $out/report.md, $out/report.html, $out/results.csv"
echo "history: ${LIGHTNING_PERF_HISTORY:-$root/perf-history.db}"
printf 'make perf took %dm%02ds; exit %d (' $((elapsed / 60)) $((elapsed % 60)) $check_rc
case $check_rc in
0) echo "pass)" ;;
1) echo "regression)" ;;
3) echo "inconclusive: too noisy to decide)" ;;
*) echo "error)" ;;
esac
exit $check_rc
