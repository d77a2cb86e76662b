#!/bin/bash
# fault-db-readonly.sh [N] [SECONDS] [MODE]: `divemap-ingest serve` ingests a
# maildir of N (2,000) newsletters; once a few hundred are stored the
# database refuses its writes for SECONDS (30) while it stays up:
#   MODE read_only (default): SET GLOBAL read_only = 1 (serve's user has no
#        SUPER or READ ONLY ADMIN, checked): error 1290
#   MODE revoke: serve's user loses INSERT, UPDATE, DELETE and its
#        connections are killed: it connects again, and every write is
#        refused (error 1142)
# then writes are allowed again. Asserts: the daemon stays the same process;
# one error line when the refusal begins and one when writing works again
# (not one per try); it backs off (its CPU seconds during the refusal are
# printed, and must stay under 10% of one core); STATUS= (read from a
# NOTIFY_SOCKET of our own) says it is retrying; no message is marked failed
# because of it; the end state is every message stored once and parsed
# (tests/fault-lib.sh check_end). Not part of make check (about 1.5 min):
#   top_srcdir=SRC bash SRC/tests/fault-db-readonly.sh
source "$(dirname "$0")/fault-lib.sh"
n=${1:-2000}
refuse=${2:-30}
mode=${3:-read_only}
case $mode in read_only | revoke) ;; *) echo "MODE: read_only or revoke"; exit 2 ;; esac

write_conf
make_maildir "$n"
setup_db
user_grants=$(sql "SHOW GRANTS FOR '$MARIADB_USER'@'127.0.0.1'")
if grep -q -E 'SUPER|READ ONLY ADMIN|ALL PRIVILEGES ON \*\.\*' <<<"$user_grants"; then
	fail "serve's user may write to a read-only server: $user_grants"
fi
echo "serve's user ($MARIADB_USER): no SUPER, no READ ONLY ADMIN"

# STATUS= lines, as systemd would get them
export NOTIFY_SOCKET=$work/notify.sock
python3 - "$NOTIFY_SOCKET" "$work/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], 'a', buffering=1) as out:
    while True:
        for line in s.recv(65536).decode('utf-8', 'replace').split('\n'):
            if line.startswith('STATUS='):
                out.write('%.3f %s\n' % (time.time(), line[7:]))
PY
notify_pid=$!
trap 'kill $notify_pid 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 50); do [ -S "$NOTIFY_SOCKET" ] && break; sleep 0.1; done

cpu() { # the daemon's CPU seconds, with the children it reaped (old workers)
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f\n", ($12 + $13 + $14 + $15) / hz }' "/proc/$serve_pid/stat"
}
refuse_on() {
	if [ "$mode" = read_only ]; then
		sql "SET GLOBAL read_only = 1"
	else
		sql "REVOKE INSERT, UPDATE, DELETE ON \`$MARIADB_DATABASE\`.* FROM '$MARIADB_USER'@'localhost', '$MARIADB_USER'@'127.0.0.1', '$MARIADB_USER'@'::1'"
		for id in $(sql "SELECT id FROM information_schema.processlist WHERE user = '$MARIADB_USER'"); do
			sql "KILL CONNECTION $id" 2>/dev/null || true
		done
	fi
}
refuse_off() {
	if [ "$mode" = read_only ]; then
		sql "SET GLOBAL read_only = 0"
	else
		sql "GRANT ALL ON \`$MARIADB_DATABASE\`.* TO '$MARIADB_USER'@'localhost', '$MARIADB_USER'@'127.0.0.1', '$MARIADB_USER'@'::1'"
	fi
}

t0=$(now)
serve_start
pid0=$serve_pid
first=$((n / 6))
for _ in $(seq 1200); do
	[ "$(sql 'SELECT COUNT(*) FROM ingest_messages')" -ge "$first" ] && break
	sleep 0.1
done
refuse_on
t_on=$(now)
cpu_on=$(cpu)
lines_on=$(wc -l <"$work/serve.log")
before=$(sql 'SELECT COUNT(*) FROM ingest_messages')
echo "writes refused ($mode) with $before messages stored, $(ls "$work/md/new" | wc -l) left in new/"
sleep "$refuse"
kill -0 "$serve_pid" 2>/dev/null || { tail -20 "$work/serve.log"; fail "serve exited while the database refused writes"; }
cpu_off=$(cpu)
during=$(sql 'SELECT COUNT(*) FROM ingest_messages')
left=$(ls "$work/md/new" | wc -l)
status_during=$(awk -v a="$t_on" '$1 > a + 2' "$work/notify.log" | tail -n 1 | cut -d' ' -f2-)
refuse_off
t_off=$(now)
sed -n "$((lines_on + 1)),\$p" "$work/serve.log" >"$work/during.log"
echo "writes allowed again after $refuse s: $during stored ($((during - before)) during the refusal), $left left in new/"
serve_wait_done 600
[ "$serve_pid" = "$pid0" ] || fail "serve was restarted"
t1=$(now)
serve_stop
kill "$notify_pid" 2>/dev/null || true

refused=$(grep -c 'could not be written' "$work/serve.log" || true)
again=$(grep -c 'writing again after' "$work/serve.log" || true)
tries=$(grep -o 'writing again after [0-9]*' "$work/serve.log" | awk '{ s += $4 } END { print s + 0 }')
errors_during=$(grep -c -i 'error\|refus\|fail' "$work/during.log" || true)
failed_by_it=$(sql "SELECT COUNT(*) FROM ingest_parse_log WHERE reason LIKE '%read-only%' OR reason LIKE '%read_only%' OR reason LIKE '%denied%' OR reason LIKE '%writing failed%'")
check_end "$n"
echo "figures: $n sent, $(sql 'SELECT COUNT(*) FROM ingest_messages') stored, $(sql 'SELECT COUNT(*) - COUNT(DISTINCT message_id) FROM ingest_messages') duplicates, $((n - $(sql 'SELECT COUNT(DISTINCT message_id) FROM ingest_messages'))) lost"
echo "log: $refused line(s) when the refusal began, $again when writing worked again ($tries failed tries between), $errors_during error-like lines in all during the refusal"
echo "STATUS= during the refusal: $status_during"
awk -v a="$cpu_on" -v b="$cpu_off" -v s="$refuse" 'BEGIN { printf "daemon CPU during the %d s refusal: %.2f s (%.1f%% of one core)\n", s, b - a, 100 * (b - a) / s }'
[ "$refused" = 1 ] || fail "$refused 'could not be written' lines, want 1 (one per change of state)"
[ "$again" = 1 ] || fail "$again 'writing again' lines, want 1"
[ "$failed_by_it" = 0 ] || fail "$failed_by_it messages marked failed because of the refusal"
grep -q 'retrying' <<<"$status_during" || fail "STATUS= did not say it was retrying: '$status_during'"
awk -v a="$cpu_on" -v b="$cpu_off" -v s="$refuse" 'BEGIN { exit !(b - a < 0.1 * s) }' || fail "busy: more than 10% of a core while refused"
awk -v a="$t0" -v o="$t_off" -v b="$t1" -v n="$n" -v s="$refuse" -v m="$mode" 'BEGIN { printf "PASS: %d messages, writes refused (%s) for %d s: done %.1f s after they were allowed again, %.0f s in all\n", n, m, s, b - o, b - a }'
