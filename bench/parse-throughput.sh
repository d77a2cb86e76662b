#!/bin/sh
# parse-throughput.sh: the former name of bench/parse.sh (one run each).
exec env RUNS="${RUNS:-1}" "$(dirname "$0")/parse.sh" "$@"
