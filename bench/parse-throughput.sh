#!/bin/bash
# parse-throughput.sh [BUILDDIR] [SIZES_MB...]: throughput of the one-shot
# parse (`parse --dry-run --no-db`: reading, the sandboxed worker's decode,
# extraction and matching, JSON output; no database) on mailboxes made of
# the corpus repeated, by default 100 MB and 1 GB. Prints, per mailbox,
# MB/s and messages/s of wall-clock time, the CPU seconds (user + system,
# the worker's included) and MB per CPU second, which a busy machine
# disturbs less, and the peak RSS /usr/bin/time -v reports (the largest of
# the parent and the worker). RULES_DIR overrides the rules (default:
# this tree's rules/). A benchmark, not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build=${1:-$PWD}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1024)
prog=$build/divemap-ingest
[ -x "$prog" ] || { echo "no $prog: give the build folder as the first argument" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (package time)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rules=${RULES_DIR:-$top/rules}
printf '[parser]\nrules_dir = %s\n' "$rules" >"$tmp/conf"

# A mailbox of about $1 MB (at most 1/16 over): the corpus mailbox doubled
# into a chunk of a sixteenth of that, then the chunk appended. The corpus
# mailbox ends without the blank line that separates messages: add one.
make_mbox() {
	local want=$(($1 << 20)) out=$2 chunk=$tmp/chunk
	{ cat "$top/tests/corpus/all.mbox"; echo; } >"$chunk"
	while [ $(($(stat -c %s "$chunk") * 32)) -le "$want" ]; do
		cat "$chunk" "$chunk" >"$chunk.2"
		mv "$chunk.2" "$chunk"
	done
	: >"$out"
	while [ "$(stat -c %s "$out")" -lt "$want" ]; do
		cat "$chunk" >>"$out"
	done
	rm -f "$chunk"
}

printf '%-8s %11s %9s %6s %8s %7s %7s %8s %10s %10s\n' mailbox bytes messages failed seconds MB/s msgs/s "CPU s" "MB/CPU-s" "peak RSS"
for mb in "${sizes[@]}"; do
	box=$tmp/bench-$mb.mbox
	make_mbox "$mb" "$box"
	bytes=$(stat -c %s "$box")
	env -u DATABASE_URL /usr/bin/time -v "$prog" -q -c "$tmp/conf" parse --dry-run --no-db "$box" \
		>/dev/null 2>"$tmp/time.log" || true
	summary=$(grep -E '^[0-9]+ messages, ' "$tmp/time.log" | tail -1 || true)
	if [ -z "$summary" ]; then
		echo "${mb}MB: the parse did not finish: $(grep -m1 '^error' "$tmp/time.log" || true)"
		rm -f "$box"
		continue
	fi
	msgs=${summary%% messages*}
	failed=$(echo "$summary" | sed -n 's/.* \([0-9]*\) failed$/\1/p')
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time.log")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.log")
	cpu=$(sed -n 's/.*\(User\|System\) time (seconds): //p' "$tmp/time.log" | awk '{ s += $1 } END { print s + 0 }')
	secs=$(echo "$wall" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
	awk -v name="${mb}MB" -v b="$bytes" -v m="${msgs:-0}" -v f="${failed:-?}" -v s="$secs" \
		-v c="$cpu" -v r="$rss" 'BEGIN {
		if (s <= 0) s = 0.01
		if (c <= 0) c = 0.01
		printf "%-8s %11d %9d %6s %8.1f %7.1f %7.0f %8.1f %10.1f %7.1f MB\n", name, b, m, f, s,
			b / s / 1e6, m / s, c, b / c / 1e6, r / 1024
	}'
	rm -f "$box"
done
