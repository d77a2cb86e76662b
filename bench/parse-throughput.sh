#!/bin/bash
# parse-throughput.sh [BUILDDIR] [SIZES_MB...]: throughput of the one-shot
# parse (`parse --dry-run --no-db`: reading, the sandboxed worker's decode,
# extraction and matching, JSON output; no database) on mailboxes made of
# the corpus repeated, by default 100 MB and 1 GB. Prints, per mailbox,
# MB/s, messages/s and the peak RSS /usr/bin/time -v reports (the largest
# of the parent and the worker). RULES_DIR overrides the rules (default:
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

printf '%-10s %11s %9s %7s %8s %7s %8s %11s\n' mailbox bytes messages failed seconds MB/s msgs/s "peak RSS"
for mb in "${sizes[@]}"; do
	box=$tmp/bench-$mb.mbox
	make_mbox "$mb" "$box"
	bytes=$(stat -c %s "$box")
	env -u DATABASE_URL /usr/bin/time -v "$prog" -q -c "$tmp/conf" parse --dry-run --no-db "$box" \
		>/dev/null 2>"$tmp/time.log" || true
	summary=$(grep -E '^[0-9]+ messages, ' "$tmp/time.log" | tail -1 || true)
	msgs=${summary%% messages*}
	failed=$(echo "$summary" | sed -n 's/.* \([0-9]*\) failed$/\1/p')
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time.log")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.log")
	secs=$(echo "$wall" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
	awk -v name="${mb}MB" -v b="$bytes" -v m="${msgs:-0}" -v f="${failed:-?}" -v s="$secs" -v r="$rss" 'BEGIN {
		if (s <= 0) s = 0.01
		printf "%-10s %11d %9d %7s %8.1f %7.1f %8.0f %8.1f MB\n", name, b, m, f, s, b / s / 1e6, m / s, r / 1024
	}'
	rm -f "$box"
done
