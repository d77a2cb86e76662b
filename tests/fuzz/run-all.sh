#!/bin/bash
# run-all.sh SECONDS [HARNESS...]: runs each libFuzzer harness for SECONDS
# (wall clock) from seeds made by make-seeds.sh and prints, per harness, the
# inputs executed, the CPU seconds used and the crashes found (crash-, leak-,
# timeout- and oom- files, kept in fuzz-out/NAME/ for replay-NAME).
# Run it in a build tree configured with `CC=clang --enable-fuzzing`;
# FUZZ_JOBS=N runs N harnesses at once (default 1). FUZZ_CPU=1 makes
# SECONDS CPU seconds instead: each harness is stopped (SIGINT, as libFuzzer
# expects) once it has used that much CPU, however busy the machine is.
# Exits 1 on any crash.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
export top_srcdir
secs=${1:?usage: run-all.sh SECONDS [HARNESS...]}
shift
harnesses=${*:-mime html extract mbox config normalize frame}
jobs=${FUZZ_JOBS:-1}
out=$(pwd)/fuzz-out
mkdir -p "$out"
sh "$top_srcdir/tests/fuzz/make-seeds.sh" "$out/seeds" >/dev/null
# valgrind is for the unit tests; the harnesses have ASan
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# stop_at_cpu PID SECONDS: SIGINT to the fuzzer under /usr/bin/time PID once
# its user+system CPU reaches SECONDS.
stop_at_cpu() {
	local tpid=$1 limit=$(($2 * $(getconf CLK_TCK))) fpid=
	while kill -0 "$tpid" 2>/dev/null; do
		sleep 5
		[ -n "$fpid" ] || fpid=$(pgrep -P "$tpid" | head -n 1)
		[ -n "$fpid" ] || continue
		ticks=$(awk '{ print $14 + $15 }' "/proc/$fpid/stat" 2>/dev/null) || break
		if [ "${ticks:-0}" -ge "$limit" ]; then
			kill -INT "$fpid" 2>/dev/null
			break
		fi
	done
}

run_one() {
	h=$1
	bin=tests/fuzz/fuzz-$h
	[ -x "$bin" ] || { echo "$h: $bin missing (configure CC=clang --enable-fuzzing)"; return 1; }
	mkdir -p "$out/$h/corpus"
	cp -n "$out/seeds/$h/"* "$out/$h/corpus/" 2>/dev/null || true
	(
		cd "$out/$h"
		wall=$secs
		[ -z "${FUZZ_CPU:-}" ] || wall=$((secs * 50))
		/usr/bin/time -f '%U %S' -o cpu.txt \
			"$OLDPWD/$bin" -max_total_time="$wall" -timeout=20 -rss_limit_mb=2560 \
			-max_len=65536 -print_final_stats=1 -artifact_prefix="$out/$h/" corpus \
			>log.txt 2>&1 &
		[ -z "${FUZZ_CPU:-}" ] || stop_at_cpu $! "$secs"
		wait || true
	)
	execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$h/log.txt" | grep -o '[0-9]*$' || echo '?')
	cpu=$(awk '{printf "%.0f", $1 + $2}' "$out/$h/cpu.txt" 2>/dev/null || echo '?')
	crashes=$(find "$out/$h" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	cov=$(grep -o 'cov: [0-9]*' "$out/$h/log.txt" | tail -n 1 | grep -o '[0-9]*' || echo '?')
	printf '%-10s execs %-10s cpu %5ss  coverage %-6s crashes %s\n' "$h" "$execs" "$cpu" "$cov" "$crashes"
	[ "$crashes" = 0 ]
}

status=0
if [ "$jobs" -gt 1 ]; then
	pids=
	for h in $harnesses; do
		run_one "$h" >"$out/$h.summary" 2>&1 &
		pids="$pids $!"
		# at most $jobs at once
		while [ "$(jobs -r | wc -l)" -ge "$jobs" ]; do sleep 1; done
	done
	for p in $pids; do wait "$p" || status=1; done
	for h in $harnesses; do cat "$out/$h.summary"; done
else
	for h in $harnesses; do run_one "$h" || status=1; done
fi
[ "$status" = 0 ] || echo "crashes: see $out/NAME/crash-* (replay with tests/fuzz/replay-NAME FILE)"
exit "$status"
