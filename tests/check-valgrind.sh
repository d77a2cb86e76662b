#!/bin/sh
# check-valgrind.sh: the unit tests (tests/test-* programs) and the fuzz
# regression replays (tests/fuzz/replay-*) under valgrind memcheck. Any
# memory error or definite leak fails; prints each program's ERROR SUMMARY
# and leak lines. Run from the build tree (make check-valgrind). PCRE2's JIT
# confuses memcheck, so the rules run interpreted (DIVEMAP_RULES_NO_JIT).
set -u
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
top_srcdir=$(cd "$top_srcdir" && pwd)
export top_srcdir top_builddir DIVEMAP_RULES_NO_JIT=1
# test-hostile: the big inputs a tenth of their size (valgrind is ~50x slower)
export DIVEMAP_TEST_SCALE=10
command -v valgrind >/dev/null 2>&1 || { echo "valgrind is not installed"; exit 1; }
cd "$top_builddir"
status=0
n=0
for t in tests/test-* tests/fuzz/replay-*; do
	case $t in *.*) continue ;; esac
	[ -f "$t" ] && [ -x "$t" ] || continue
	head -c 4 "$t" | grep -q 'ELF' || continue
	n=$((n + 1))
	log=$t.valgrind.log
	valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
		--errors-for-leak-kinds=definite --track-fds=no --log-file="$log" "$t" >"$t.valgrind.out" 2>&1
	rc=$?
	errors=$(grep -o 'ERROR SUMMARY: [0-9]* errors' "$log" | head -n 1)
	definite=$(grep -o 'definitely lost: [0-9,]* bytes in [0-9,]* blocks' "$log" | head -n 1)
	printf '%-34s %s; %s\n' "$t" "${errors:-no summary}" "${definite:-definitely lost: 0 bytes}"
	# 77: a replay with no input is a skip, not a failure
	if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		echo "FAIL: $t (exit $rc), see $log and $t.valgrind.out"
		status=1
	fi
done
echo "$n programs under valgrind: $([ "$status" = 0 ] && echo 'no errors, no definite leaks' || echo FAILED)"
exit "$status"
