#!/bin/sh
# Installs the Debian packages Lightning DB needs to build, test and benchmark.
# Idempotent: prints nothing and touches nothing when every package is present.
# python3-jsonschema and libxml2-utils (xmllint) validate the verdict JSON and
# JUnit XML against docs/schemas in the tests; python3-yaml, curl and jq run
# the CI templates of examples/ci locally (tests/ci/run_ci_locally.py);
# libpq-dev is the PostgreSQL history backend, postgresql the throwaway server
# its tests start (tests/common/pgtest.c); chromium renders the HTML report and
# the --site pages headless in test_perf_site.
# `deps.sh --bench` installs only what building and benchmarking need (the
# CI templates of examples/ci use it: a runner that gates performance does
# not need the test tools, and Ubuntu's chromium is a snap stub).
set -eu
BENCH_PKGS="pkg-config liblmdb-dev librocksdb-dev libleveldb-dev libsqlite3-dev \
libzstd-dev liblz4-dev libjansson-dev libinih-dev libpq-dev valgrind git"
TEST_PKGS="libcmocka-dev python3-jsonschema libxml2-utils python3-yaml curl jq \
postgresql chromium"
if [ "${1:-}" = --bench ]; then PKGS=$BENCH_PKGS; else PKGS="$BENCH_PKGS $TEST_PKGS"; fi
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "make deps: installing$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "make deps: need root (or sudo) to install:$missing" >&2; exit 2; fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
