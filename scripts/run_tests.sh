#!/bin/sh
# Runs cmocka test programs and totals their results.
# Usage: run_tests.sh BIN...   (each BIN is a cmocka test executable)
# Each program prints TAP; a program that crashes or exits non-zero without a
# failing test line counts as one failed test, so a crash can never pass.
# A test that skips itself ("not ok N # SKIP", cmocka's skip()) is neither:
# it is counted and named apart, so a skip can never pass silently either.
# Ends with the line "N passed, N failed"; exits 1 when anything failed.
set -u
pass=0; fail=0; skipped=0; failed_names=""
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for bin in "$@"; do
    name=$(basename "$bin")
    start=$(date +%s)
    CMOCKA_MESSAGE_OUTPUT=TAP "$bin" >"$tmp" 2>&1
    rc=$?
    p=$(grep -c '^ok ' "$tmp")
    s=$(grep -c '^not ok [0-9]* # SKIP' "$tmp")
    f=$(( $(grep -c '^not ok ' "$tmp") - s ))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    pass=$((pass + p)); fail=$((fail + f)); skipped=$((skipped + s))
    secs=$(( $(date +%s) - start ))
    if [ "$f" -ne 0 ]; then
        failed_names="$failed_names $name"
        echo "FAIL $name ($p passed, $f failed, exit $rc, ${secs}s)"
        sed 's/^/    /' "$tmp" | tail -n 60
    else
        skips=""
        [ "$s" -ne 0 ] && skips=", $s skipped: $(sed -n 's/^not ok [0-9]* # SKIP //p' "$tmp" | tr '\n' ' ' | sed 's/ $//')"
        echo "ok   $name ($p passed$skips, ${secs}s)"
    fi
done
[ -n "$failed_names" ] && echo "failed:$failed_names"
[ "$skipped" -ne 0 ] && echo "$skipped skipped (see the lines above)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
