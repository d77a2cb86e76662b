#!/bin/sh
# Benchmarks the alias matcher: 100,000 synthetic aliases plus the corpus's
# real ones; prints build time, memory per alias, lookup p50/p99 and the
# same for a full scan with the same scoring.
#   bench/matcher.sh [BUILDDIR] [ALIASES] [QUERIES]
set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-.}
prog="$builddir/bench/bench-matcher"
[ -x "$prog" ] || make -C "$builddir" bench/bench-matcher >/dev/null
exec "$prog" "$srcdir/tests/corpus/sites.sql" "${2:-100000}" "${3:-20000}"
