#!/bin/sh
# The test command: installs what is needed, builds with -Werror, runs every
# test (unit and integration, against a private MariaDB and Dovecot), the
# style and lint checks and the distribution check. Idempotent.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
sh contrib/install-deps.sh
autoreconf -fi >/dev/null
mkdir -p build
cd build
[ -f Makefile ] || "$top/configure" -q --enable-werror
jobs=$(nproc)
make -j"$jobs" >/dev/null
status=0
make -j"$jobs" check || status=$?
if [ "$status" != 0 ]; then
	for f in $(grep -rl -E '^:test-result: (FAIL|ERROR)' --include='*.trs' tests); do
		echo "==== ${f%.trs}.log"
		tail -n 60 "${f%.trs}.log"
	done
fi
make -s check-style || status=$?
make -s lint || status=$?
# Hardening: the unit tests again, built with ASan and UBSan (a few minutes).
sh "$top/tests/check-sanitizers.sh" "$top/build/sanitizers" || status=$?
[ "$status" = 0 ] && { make -j"$jobs" distcheck >distcheck.log 2>&1 || { tail -n 40 distcheck.log; status=1; }; }
[ "$status" = 0 ] && grep -q 'archives ready for distribution' distcheck.log && echo "distcheck: passed"
results=$(find tests -name '*.trs' -exec cat {} +)
pass=$(printf '%s\n' "$results" | grep -c '^:test-result: PASS' || true)
fail=$(printf '%s\n' "$results" | grep -c -E '^:test-result: (FAIL|ERROR)' || true)
skip=$(printf '%s\n' "$results" | grep -c '^:test-result: SKIP' || true)
echo "$pass passed, $fail failed, $skip skipped"
exit "$status"
