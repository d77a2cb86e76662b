#!/bin/bash
# bench/parse.sh [BUILDDIR] [SIZES_MB...]: throughput of the one-shot parse
# (`parse --dry-run --no-db`: reading, the sandboxed worker's decode,
# extraction and matching, JSON output; no database) on mailboxes made of the
# corpus repeated, by default 100 MB and 1 GB (SIZES="100 1024", or the
# arguments, in MiB), side by side with the I/O
# floor measured in the same run on the same file: `cat FILE >/dev/null` and
# `grep -c '^From ' FILE` (the file is in the page cache for all three).
# RUNS (default 5) runs of each; every figure is the median of the runs.
# Prints, per mailbox, MB/s and messages/s of wall-clock time, CPU seconds
# (user + system, the worker's included) and MB per CPU second (which a busy
# machine disturbs less), the peak RSS /usr/bin/time -v reports (the
# largest of the parent and the worker; the largest of the runs), and our
# MB/s as a fraction of each floor's. RULES_DIR overrides the rules
# (default: this tree's rules/). A benchmark, not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/lib.sh"
build=${1:-$PWD}
shift || true
sizes=("$@")
# shellcheck disable=SC2206 # SIZES is a list of numbers
[ ${#sizes[@]} -gt 0 ] || sizes=(${SIZES:-100 1024})
runs=${RUNS:-5}
prog=$build/divemap-ingest
[ -x "$prog" ] || { echo "no $prog: give the build folder as the first argument" >&2; exit 2; }
need /usr/bin/time time
need python3 python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rules=${RULES_DIR:-$top/rules}
printf '[parser]\nrules_dir = %s\n' "$rules" >"$tmp/conf"

machine
echo "runs: $runs per figure (median)"
printf '%-7s %11s %8s %6s %7s %6s %7s %6s %8s %8s %9s %9s %7s %7s\n' mailbox bytes messages failed \
	seconds MB/s msgs/s "CPU s" MB/CPU-s "peak RSS" "cat MB/s" "grep MB/s" "/cat" "/grep"
for mb in "${sizes[@]}"; do
	box=$tmp/bench-$mb.mbox
	corpus_mbox $((mb << 20)) "$box"
	bytes=$(stat -c %s "$box")
	: >"$tmp/runs"
	for i in $(seq "$runs"); do
		timed "$tmp/cat.log" sh -c 'cat "$1" >/dev/null' sh "$box"
		cat_wall=$WALL
		timed "$tmp/grep.log" grep -c '^From ' "$box" >"$tmp/grep.out" || true
		grep_wall=$WALL
		expect=$(cat "$tmp/grep.out")
		rc=0
		timed "$tmp/time.log" env -u DATABASE_URL "$prog" -q -c "$tmp/conf" parse --dry-run --no-db "$box" \
			>/dev/null || rc=$?
		summary=$(grep -E '^[0-9]+ messages, ' "$tmp/time.log" | tail -1 || true)
		if [ -z "$summary" ]; then
			echo "${mb}MB: the parse did not finish (exit $rc): $(grep -m1 '^error' "$tmp/time.log" || true)"
			continue 2
		fi
		msgs=${summary%% messages*}
		failed=$(echo "$summary" | sed -n 's/.* \([0-9]*\) failed$/\1/p')
		[ "$msgs" = "$expect" ] || echo "${mb}MB run $i: $msgs messages parsed, grep counts $expect" >&2
		echo "$WALL $CPU $RSS $cat_wall $grep_wall $msgs ${failed:-0}" >>"$tmp/runs"
		echo "  ${mb}MB run $i: parse ${WALL}s (CPU ${CPU}s, RSS ${RSS} KiB), cat ${cat_wall}s, grep ${grep_wall}s" >&2
	done
	col() { awk -v c="$1" '{ print $c }' "$tmp/runs" | median; }
	wall=$(col 1) cpu=$(col 2) cat_wall=$(col 4) grep_wall=$(col 5) msgs=$(col 6) failed=$(col 7)
	rss=$(awk '$3 > m { m = $3 } END { print m + 0 }' "$tmp/runs")
	awk -v name="${mb}MB" -v b="$bytes" -v m="$msgs" -v f="$failed" -v s="$wall" -v c="$cpu" -v r="$rss" \
		-v cw="$cat_wall" -v gw="$grep_wall" 'BEGIN {
		if (s <= 0) s = 0.01; if (c <= 0) c = 0.01; if (cw <= 0) cw = 0.01; if (gw <= 0) gw = 0.01
		printf "%-7s %11d %8d %6d %7.1f %6.1f %7.0f %6.1f %8.1f %5.1f MB %9.0f %9.0f %7.4f %7.4f\n", name, b, m, f,
			s, b / s / 1e6, m / s, c, b / c / 1e6, r / 1024, b / cw / 1e6, b / gw / 1e6, cw / s, gw / s
	}'
	rm -f "$box"
done
