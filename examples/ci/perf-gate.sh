#!/bin/sh
# examples/ci/perf-gate.sh — the performance gate as a CI job runs it. The
# GitHub Actions workflow (github/perf.yml) and the GitLab CI job
# (gitlab/perf.gitlab-ci.yml) both call this script, so the two behave the
# same and tests/integration/test_perf_ci.c can run it locally.
#
# What it does, in order:
#  1. restores nothing itself: the CI's cache step has put the previous
#     runs' history and the baseline binary (the last main-branch build)
#     in $PERF_CACHE, or nothing on the first run;
#  2. `perf run`: measures this build, records it in the cached history;
#  3. `perf check --establish-baseline`: against this machine's baseline in
#     that history (the first run on a machine pins itself and passes);
#  4. `perf ab` against the cached baseline binary when there is one: both
#     builds interleaved on this runner, so it gates even on ephemeral
#     runners whose machine fingerprint is new every time (check cannot);
#  5. `perf report`: HTML and Markdown for the job's artifacts;
#  6. on the main branch (PERF_UPDATE_BASELINE=1) this build becomes the
#     cached baseline binary unless it regressed.
# Outputs in $PERF_OUT: verdict.json (lightning-perf-verdict/1), junit.xml,
# comment.md (of the command that decided the exit code: ab's when it ran
# unless check's verdict is worse; the other is folded in and its JUnit is
# junit-check.xml or junit-ab.xml),
# check.*/ab.* for each command, report.html, report.md, *.txt logs.
#
# Environment:
#   LIGHTNING             the binary under test (default build/lightning)
#   PERF_CACHE            the directory the CI caches (default .perf-cache)
#   PERF_OUT              outputs (default perf-out)
#   PERF_SUITE            suite file (default bench/quick.ini)
#   PERF_LABEL            recorded with the runs (branch, commit, job URL)
#   PERF_HISTORY          a shared history (postgresql://...) instead of the
#                         cached SQLite file
#   PERF_MACHINE          a testbed name for the runs (docs/perf.md, testbeds)
#   PERF_UPDATE_BASELINE  1 on the main branch
#   PERF_RUN_ARGS, PERF_AB_ARGS  extra arguments (e.g. --inject-slowdown 20
#                         to see the gate fail on purpose)
# Exit code: the gate's, 0 pass, 1 regression, 2 error, 3 inconclusive; of
# check and ab the worse one (regression > error > inconclusive > pass).
set -u
L=${LIGHTNING:-build/lightning}
CACHE=${PERF_CACHE:-.perf-cache}
OUT=${PERF_OUT:-perf-out}
SUITE=${PERF_SUITE:-bench/quick.ini}
LABEL=${PERF_LABEL:-ci}
mkdir -p "$CACHE/baseline" "$OUT" || exit 2
if [ ! -x "$L" ]; then
    echo "perf-gate: $L is not an executable (build it first: make build/lightning)" >&2
    exit 2
fi
# A shared history (PERF_HISTORY=postgresql://..., from a CI secret) makes
# every runner's results one history; the cached file is the default.
export LIGHTNING_PERF_HISTORY="${PERF_HISTORY:-$CACHE/perf-history.db}"
# A testbed name (PERF_MACHINE) keeps one baseline across runners whose
# fingerprints differ; use it only for runners that are really alike.
if [ -n "${PERF_MACHINE:-}" ]; then export LIGHTNING_PERF_MACHINE="$PERF_MACHINE"; fi
export LIGHTNING_PERF_PROGRESS=0

rank() { # regression > error > inconclusive > pass
    case $1 in 1) echo 3;; 2) echo 2;; 3) echo 1;; *) echo 0;; esac
}
worse() {
    if [ "$(rank "$1")" -ge "$(rank "$2")" ]; then echo "$1"; else echo "$2"; fi
}

# shellcheck disable=SC2086 # the *_ARGS are word lists on purpose
if ! "$L" perf run --suite "$SUITE" --label "$LABEL" ${PERF_RUN_ARGS:-} >"$OUT/run.txt" 2>&1; then
    cat "$OUT/run.txt" >&2
    # Checking now would judge an older run: stop, and say why where the
    # job's readers look.
    printf '<!-- lightning-perf-comment -->\n### Lightning perf: **ERROR** (exit 2)\n\n`perf run` failed; see the job log (%s).\n' \
        "$OUT/run.txt" >"$OUT/comment.md"
    echo "perf-gate: perf run failed: exit 2" >&2
    exit 2
fi
"$L" perf check --establish-baseline --json "$OUT/check.json" --junit "$OUT/check.xml" \
    --comment "$OUT/check.md" --md "$OUT/check-table.md" >"$OUT/check.txt" 2>&1
check_rc=$?
cat "$OUT/check.txt"
rc=$check_rc
gate=check

if [ -x "$CACHE/baseline/lightning" ]; then
    # shellcheck disable=SC2086
    "$L" perf ab --suite "$SUITE" --base-bin "$CACHE/baseline/lightning" --head-bin "$L" \
        --label "$LABEL" --json "$OUT/ab.json" --junit "$OUT/ab.xml" --comment "$OUT/ab.md" \
        ${PERF_AB_ARGS:-} >"$OUT/ab.txt" 2>&1
    ab_rc=$?
    cat "$OUT/ab.txt"
    rc=$(worse "$check_rc" "$ab_rc")
    # The files people and tools read lead with the command that decided
    # the exit code: ab (interleaved, the sharper judge) unless check's
    # verdict is the worse one.
    if [ "$(rank "$check_rc")" -gt "$(rank "$ab_rc")" ]; then gate=check; other=ab; else
        gate=ab; other=check; fi
else
    echo "perf-gate: no cached baseline binary yet; ab skipped (the next run on main saves one)"
fi
cp "$OUT/$gate.json" "$OUT/verdict.json" && cp "$OUT/$gate.xml" "$OUT/junit.xml" &&
    cp "$OUT/$gate.md" "$OUT/comment.md" || rc=$(worse "$rc" 2)
if [ -n "${other:-}" ]; then
    # Both verdicts in the test tab; the other one folded in the comment.
    cp "$OUT/$other.xml" "$OUT/junit-$other.xml"
    case $other in ab) what="ab: interleaved against the cached baseline binary";;
                   *) what="check: against the history's baseline";; esac
    printf '\n<details><summary>%s</summary>\n\n' "$what" >>"$OUT/comment.md"
    sed 1d "$OUT/$other.md" >>"$OUT/comment.md"
    printf '\n</details>\n' >>"$OUT/comment.md"
fi

"$L" perf report --html "$OUT/report.html" --md "$OUT/report.md" >"$OUT/report.txt" 2>&1 ||
    { cat "$OUT/report.txt" >&2; rc=$(worse "$rc" 2); }

if [ "${PERF_UPDATE_BASELINE:-0}" = 1 ] && [ "$rc" != 1 ]; then
    cp "$L" "$CACHE/baseline/lightning.tmp" && mv "$CACHE/baseline/lightning.tmp" \
        "$CACHE/baseline/lightning" && echo "perf-gate: this build is now the cached baseline binary"
fi
echo "perf-gate: exit $rc (check $check_rc${ab_rc:+, ab $ab_rc})"
exit "$rc"
