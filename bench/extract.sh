#!/bin/bash
# bench/extract.sh [BUILDDIR] [MESSAGES]: extraction alone (the pure
# pipeline: MIME decode, text, extraction, site resolution, JSON; no worker,
# no database) on one core: tests/pipeline-run --repeat over the corpus's
# messages, at least MESSAGES (default 10,000) in all. RUNS (default 5)
# runs, the median; messages per wall-clock second and per CPU second (the
# latter is what a busy machine disturbs less). A benchmark, not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/lib.sh"
build=${1:-$PWD}
want=${2:-10000}
runs=${RUNS:-5}
prog=$build/tests/pipeline-run
[ -x "$prog" ] || make -C "$build" tests/pipeline-run >/dev/null
need /usr/bin/time time
need python3 python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$top/tests/sites-to-names.py" "$top/tests/corpus/sites.sql" >"$tmp/names.json"
files=("$top"/tests/corpus/messages/*.eml)
repeat=$(((want + ${#files[@]} - 1) / ${#files[@]}))
machine
echo "runs: $runs (median); $repeat x ${#files[@]} messages a run; one core (taskset -c 0)"
: >"$tmp/runs"
for i in $(seq "$runs"); do
	timed "$tmp/time.log" taskset -c 0 "$prog" --repeat "$repeat" "${RULES_DIR:-$top/rules}" "$tmp/names.json" - \
		"${files[@]}" >"$tmp/out"
	n=$(sed -n 's/^\([0-9]*\) messages in .*/\1/p' "$tmp/out")
	echo "$WALL $CPU $n $RSS" >>"$tmp/runs"
	echo "  run $i: $(cat "$tmp/out"); CPU ${CPU}s" >&2
done
col() { awk -v c="$1" '{ print $c }' "$tmp/runs" | median; }
printf '%-9s %8s %11s %8s %14s %9s\n' messages seconds messages/s "CPU s" "messages/CPU-s" "peak RSS"
awk -v n="$(col 3)" -v s="$(col 1)" -v c="$(col 2)" -v r="$(col 4)" 'BEGIN {
	if (c <= 0) c = 0.01
	printf "%-9d %8.2f %11.0f %8.2f %14.0f %6.1f MB\n", n, s, n / s, c, n / c, r / 1024
}'
