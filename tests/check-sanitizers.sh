#!/bin/sh
# check-sanitizers.sh BUILDDIR: builds the tree again in BUILDDIR with
# AddressSanitizer and UndefinedBehaviorSanitizer (configure
# --enable-sanitizers) and runs the unit tests (tests/test-* programs) and
# the fuzz regression replays there: no server, a few minutes. Any sanitizer
# report fails the test that triggered it.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:?usage: check-sanitizers.sh BUILDDIR}
jobs=$(nproc)
mkdir -p "$dir"
cd "$dir"
[ -f Makefile ] || "$top/configure" -q --enable-sanitizers
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
units=$(cd "$top" && ls tests/test-*.c tests/fuzz/fuzz-*.c | grep -v fuzz-common | sed -e 's/\.c$//' -e 's|fuzz/fuzz-|fuzz/replay-|')
make -j"$jobs" libdivemap.a divemap-ingest $units >/dev/null
status=0
make -j"$jobs" check TESTS="$(echo $units)" >check.log 2>&1 || status=$?
pass=$(grep -c '^PASS:' check.log || true)
fail=$(grep -c -E '^(FAIL|ERROR):' check.log || true)
skip=$(grep -c '^SKIP:' check.log || true)
echo "sanitizers (ASan+UBSan): $pass passed, $fail failed, $skip skipped"
grep -E '^(FAIL|ERROR):' check.log || true
if [ "$status" != 0 ]; then
	for f in $(grep -l -E '^(FAIL|ERROR)' tests/*.trs tests/fuzz/*.trs 2>/dev/null); do
		echo "==== ${f%.trs}.log"
		grep -E -A12 'ERROR: AddressSanitizer|runtime error|LeakSanitizer' "${f%.trs}.log" | head -n 40 ||
			tail -n 30 "${f%.trs}.log"
	done
fi
exit "$status"
