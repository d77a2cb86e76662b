#!/bin/bash
# fault-kill9.sh [N] [KILLS]: `divemap-ingest serve` ingests a maildir of N
# (2,000) newsletters and is killed with SIGKILL KILLS (20) times at random
# moments, its worker with it; then one clean run. Asserts every message is
# stored exactly once and parsed completely, no orphan or duplicated trip or
# dive (tests/fault-lib.sh check_end). Not part of make check (about a
# minute or more): run it from a build tree,
#   top_srcdir=SRC bash SRC/tests/fault-kill9.sh
source "$(dirname "$0")/fault-lib.sh"
n=${1:-2000}
kills=${2:-20}

write_conf
make_maildir "$n"
setup_db
t0=$(now)
for i in $(seq "$kills"); do
	serve_start
	# a random moment in the first 0.3 - 1.2 s of the run (start-up included):
	# about 100 messages a run here, so that the kills fall while it ingests
	sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.3 + 0.9 * r / 32767 }')"
	workers=$(cat /proc/"$serve_pid"/task/*/children 2>/dev/null || true)
	kill -KILL "$serve_pid" 2>/dev/null || true
	wait "$serve_pid" 2>/dev/null || true
	serve_pid=
	# the worker must not outlive the daemon (it dies with its parent)
	for w in $workers; do
		for _ in $(seq 50); do kill -0 "$w" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$w" 2>/dev/null && fail "worker $w outlived the killed daemon by 5 s"
	done
	stored=$(sql 'SELECT COUNT(*) FROM ingest_messages' 2>/dev/null || echo '?')
	stuck=$(sql "SELECT COUNT(*) FROM ingest_messages WHERE status IN ('pending', 'parsing')" 2>/dev/null || echo '?')
	echo "kill $i: $stored stored, $stuck pending or parsing, $(ls "$work/md/new" | wc -l) left in new/"
done
serve_start
serve_wait_done 600
serve_stop
t1=$(now)
check_end "$n"
echo "error lines in the log: $(grep -c -i 'error' "$work/serve.log" || true)"
awk -v a="$t0" -v b="$t1" -v k="$kills" -v n="$n" 'BEGIN { printf "PASS: %d messages, %d kills -9, then a clean run: %.0f s\n", n, k, b - a }'
