#!/bin/bash
# bench/matcher.sh [BUILDDIR] [ALIASES] [QUERIES]: the alias matcher
# (bench/bench-matcher): ALIASES (default 100,000) synthetic aliases plus the
# corpus's real ones; prints the index's build time and memory per alias,
# lookup p50/p99/max (each query the fastest of a few repeats), and the same
# fuzzy searches by a full scan with the same scoring, with how often both
# resolve a query alike. RUNS (default 5) runs of the program; every figure
# printed is the median of the runs' (the runs' own outputs go to standard
# error). A benchmark, not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/lib.sh"
build=${1:-$PWD}
runs=${RUNS:-5}
prog=$build/bench/bench-matcher
[ -x "$prog" ] || make -C "$build" bench/bench-matcher >/dev/null
need python3 python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
machine
echo "runs: $runs (median of each figure)"
for i in $(seq "$runs"); do
	"$prog" "$top/tests/corpus/sites.sql" "${2:-100000}" "${3:-20000}" >"$tmp/run$i"
	sed "s/^/  run $i: /" "$tmp/run$i" >&2
done
# the first run's lines, each number replaced by the median of that number
# in every run (a number is one not glued to a word: p50 is a label)
python3 - "$tmp"/run* <<'PY'
import re, statistics, sys
NUM = re.compile(r'(?<![\w.])\d+(?:\.\d+)?')
runs = [open(p).read().splitlines() for p in sys.argv[1:]]
for k, line in enumerate(runs[0]):
    cols = [[float(x) for x in NUM.findall(r[k])] for r in runs if k < len(r)]
    nums = iter(range(len(NUM.findall(line))))
    def med(m):
        j = next(nums)
        v = statistics.median(c[j] for c in cols if j < len(c))
        d = len(m.group(0).partition('.')[2])
        return '%.*f' % (d, v)
    print(NUM.sub(med, line))
PY
