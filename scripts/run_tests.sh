#!/bin/sh
# Runs cmocka test programs and totals their results.
# Usage: run_tests.sh BIN...   (each BIN is a cmocka test executable)
# Each program prints TAP; a program that crashes or exits non-zero without a
# failing test line counts as one failed test, so a crash can never pass.
# Ends with the line "N passed, N failed"; exits 1 when anything failed.
set -u
pass=0; fail=0; failed_names=""
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for bin in "$@"; do
    name=$(basename "$bin")
    start=$(date +%s)
    CMOCKA_MESSAGE_OUTPUT=TAP "$bin" >"$tmp" 2>&1
    rc=$?
    p=$(grep -c '^ok ' "$tmp")
    f=$(grep -c '^not ok ' "$tmp")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    pass=$((pass + p)); fail=$((fail + f))
    secs=$(( $(date +%s) - start ))
    if [ "$f" -ne 0 ]; then
        failed_names="$failed_names $name"
        echo "FAIL $name ($p passed, $f failed, exit $rc, ${secs}s)"
        sed 's/^/    /' "$tmp" | tail -n 60
    else
        echo "ok   $name ($p passed, ${secs}s)"
    fi
done
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
