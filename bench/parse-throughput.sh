#!/bin/bash
# parse-throughput.sh [BUILDDIR] [SIZES_MB...]: throughput of the one-shot
# parse (`parse --dry-run --no-db`: reading, the sandboxed worker's decode,
# extraction and matching, JSON output; no database) on mailboxes made of
# the corpus repeated, by default 100 MB and 1 GB. Prints, per mailbox,
# MB/s, messages/s and the peak RSS /usr/bin/time -v reports (the largest
# of the parent and the worker). A benchmark, not a test.
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
printf '[parser]\nrules_dir = %s/rules\n' "$top" >"$tmp/conf"

# a mailbox of at least $1 MB: the corpus mailbox, doubled until big enough
make_mbox() {
	local want=$(($1 << 20)) out=$2
	# the corpus mailbox ends without the blank line that separates messages
	{ cat "$top/tests/corpus/all.mbox"; echo; } >"$out"
	while [ "$(stat -c %s "$out")" -lt "$want" ]; do
		cat "$out" "$out" >"$out.2"
		mv "$out.2" "$out"
	done
}

printf '%-10s %10s %10s %9s %11s %10s %12s\n' mailbox bytes messages seconds MB/s msgs/s "peak RSS"
for mb in "${sizes[@]}"; do
	box=$tmp/bench-$mb.mbox
	make_mbox "$mb" "$box"
	bytes=$(stat -c %s "$box")
	env -u DATABASE_URL /usr/bin/time -v "$prog" -q -c "$tmp/conf" parse --dry-run --no-db "$box" \
		>/dev/null 2>"$tmp/time.log" || true
	msgs=$(grep -o '^[0-9]* messages' "$tmp/time.log" | cut -d' ' -f1 || true)
	[ -n "$msgs" ] || msgs=$(grep -c '^From ' "$box" || true)
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time.log")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.log")
	secs=$(echo "$wall" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
	awk -v name="${mb}MB" -v b="$bytes" -v m="$msgs" -v s="$secs" -v r="$rss" 'BEGIN {
		if (s <= 0) s = 0.01
		printf "%-10s %10d %10d %9.1f %11.1f %10.0f %9.1f MB\n", name, b, m, s, b / s / 1e6, m / s, r / 1024
	}'
	rm -f "$box"
done
