#!/bin/bash
# fault-db-outage.sh [N] [OUTAGE_S]: `divemap-ingest serve` ingests a
# maildir of N (2,000) newsletters; once a few hundred are stored MariaDB is
# shut down for OUTAGE_S (30) seconds and started again on the same data.
# Asserts the daemon stays up (same process), resumes by itself, and ends
# with every message stored exactly once and parsed (tests/fault-lib.sh
# check_end). Not part of make check: run it from a build tree,
#   top_srcdir=SRC bash SRC/tests/fault-db-outage.sh
source "$(dirname "$0")/fault-lib.sh"
n=${1:-2000}
outage=${2:-30}

write_conf
make_maildir "$n"
setup_db
# the server's own command line, to start it again after the outage
mapfile -d '' db_cmd <"/proc/$MARIADB_PID/cmdline"

t0=$(now)
serve_start
pid0=$serve_pid
first=$((n / 6))
for _ in $(seq 1200); do
	[ "$(sql 'SELECT COUNT(*) FROM ingest_messages')" -ge "$first" ] && break
	sleep 0.1
done
before=$(sql 'SELECT COUNT(*) FROM ingest_messages')
bash "$top_srcdir/tests/mariadb.sh" stop "$work/db"
echo "database stopped with $before messages stored, $(ls "$work/md/new" | wc -l) left in new/"
sleep "$outage"
kill -0 "$serve_pid" 2>/dev/null || { tail -20 "$work/serve.log"; fail "serve exited during the outage"; }
during=$(ls "$work/md/new" | wc -l)
"${db_cmd[@]}" </dev/null >>"$work/db/mariadbd.out" 2>&1 &
echo $! >"$work/db/server.pid"
for _ in $(seq 600); do
	mariadb-admin --no-defaults -S "$MARIADB_SOCKET" -u root --connect-timeout=1 ping >/dev/null 2>&1 && break
	sleep 0.05
done
t_up=$(now)
echo "database back after ${outage} s; serve (pid $serve_pid) still up, $during left in new/"
serve_wait_done 600
[ "$serve_pid" = "$pid0" ] || fail "serve was restarted"
t1=$(now)
serve_stop
check_end "$n"
echo "log lines about the database during the outage: $(grep -c -i 'database\|connect\|mysql\|mariadb' "$work/serve.log")"
{ grep -i 'database\|connect' "$work/serve.log" || true; } | sed 's/attempt [0-9]* of/attempt N of/' | sort | uniq -c | sort -rn | head -n 5
awk -v a="$t0" -v u="$t_up" -v b="$t1" -v n="$n" -v o="$outage" 'BEGIN { printf "PASS: %d messages, a %d s database outage: done %.1f s after the database came back, %.0f s in all\n", n, o, b - u, b - a }'
