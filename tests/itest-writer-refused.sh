#!/bin/bash
# A write the database refuses on one table only (the user may not INSERT
# into parsed_dive_trips; error 1142) marks no message failed, although
# every other table still takes writes (writer.h):
#  1. parse, one transaction a message: it stops (exit 75) at the first
#     newsletter with trips, which is left stored and pending, unclaimed,
#     without a parse-log row; once the privilege is back, reparse parses it;
#  2. parse in commit groups: the group is rolled back and replayed one
#     message at a time, which stops the same way;
#  3. serve: the message is stored claimed by the daemon (store.h), the
#     daemon backs off and stays up, and parses it once the privilege is
#     back, without a restart.
set -euo pipefail
: "${MARIADB_SOCKET:?run this test through tests/run-test}"
: "${top_srcdir:?}" "${top_builddir:?}" "${MARIADB_USER:?}" "${MARIADB_DATABASE:?}"
prog=$top_builddir/divemap-ingest
mbox=$top_srcdir/tests/corpus/all.mbox
. "$top_srcdir/tests/itest-lib.sh"
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -z "$pid" ] || { kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; } || true
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	tail -n 15 "$tmp"/log* 2>/dev/null || true
	exit 1
}
sql() { mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -N -B "$MARIADB_DATABASE" -e "$1"; }
users="'$MARIADB_USER'@'localhost', '$MARIADB_USER'@'127.0.0.1', '$MARIADB_USER'@'::1'"
# every privilege on every table but INSERT on parsed_dive_trips
refuse_trips() {
	local q="REVOKE ALL PRIVILEGES ON \`$MARIADB_DATABASE\`.* FROM $users;" t
	for t in $(sql "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"); do
		if [ "$t" = parsed_dive_trips ]; then
			q+="GRANT SELECT, UPDATE, DELETE ON \`$MARIADB_DATABASE\`.\`$t\` TO $users;"
		else
			q+="GRANT ALL ON \`$MARIADB_DATABASE\`.\`$t\` TO $users;"
		fi
	done
	sql "$q"
}
allow_all() {
	local q="GRANT ALL ON \`$MARIADB_DATABASE\`.* TO $users;" t
	for t in $(sql "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"); do
		q+="REVOKE ALL PRIVILEGES ON \`$MARIADB_DATABASE\`.\`$t\` FROM $users;"
	done
	sql "$q"
}
empty() {
	sql "SET FOREIGN_KEY_CHECKS = 0; DELETE FROM ingest_parse_log; DELETE FROM ingest_raw_messages;
		DELETE FROM ingest_unresolved; DELETE FROM parsed_dives; DELETE FROM parsed_dive_trips;
		DELETE FROM ingest_messages; DELETE FROM newsletters; SET FOREIGN_KEY_CHECKS = 1"
}
# nothing marked failed because of the refusal, no trips written
none_failed() { # $1: the step
	[ "$(sql "SELECT COUNT(*) FROM ingest_messages WHERE status = 'failed'")" = 0 ] ||
		fail "$1: marked failed: $(sql "SELECT id, status_reason FROM ingest_messages WHERE status = 'failed'")"
	[ "$(sql "SELECT COUNT(*) FROM ingest_parse_log WHERE status = 'failed'")" = 0 ] || fail "$1: a failed parse-log row"
	[ "$(sql 'SELECT COUNT(*) FROM parsed_dive_trips')" = 0 ] || fail "$1: trips written"
}
# the one message left: pending, unclaimed, no parse log; its newsletter id
left_pending() { # $1: the step
	[ "$(sql "SELECT COUNT(*) FROM ingest_messages WHERE status = 'pending' AND claimed_by IS NULL")" = 1 ] ||
		fail "$1: not one message pending: $(sql 'SELECT id, status, claimed_by FROM ingest_messages')"
	[ "$(sql "SELECT COUNT(*) FROM ingest_parse_log l JOIN ingest_messages m ON m.id = l.message_id WHERE m.status = 'pending'")" = 0 ] ||
		fail "$1: the pending message has a parse-log row"
	grep -q "nothing recorded: INSERT command denied" "$tmp/log$1" || fail "$1: the refusal is not named"
	grep -q "stopping; it is left pending" "$tmp/log$1" || fail "$1: no word of the message left pending"
}

itest_conf "$tmp/conf"
printf '[maildir in]\npath = %s\n' "$tmp/md" >>"$tmp/conf"
mkdir -p "$tmp/md/new" "$tmp/md/cur" "$tmp/md/tmp"
"$prog" -q -c "$tmp/conf" migrate upgrade head >/dev/null 2>&1 || fail "migrate"
mariadb --no-defaults -S "$MARIADB_SOCKET" -u root "$MARIADB_DATABASE" <"$top_srcdir/tests/corpus/sites.sql"
refuse_trips

# 1. one transaction a message
rc=0
"$prog" -c "$tmp/conf" parse --commit-every=1 "$mbox" 2>"$tmp/log1" || rc=$?
[ "$rc" = 75 ] || fail "1: parse exited $rc, want 75 (EX_TEMPFAIL)"
none_failed 1
left_pending 1
nl=$(sql "SELECT newsletter_id FROM ingest_messages WHERE status = 'pending'")
allow_all
"$prog" -q -c "$tmp/conf" reparse --newsletter "$nl" 2>"$tmp/log1r" || fail "1: reparse once allowed"
[ "$(sql "SELECT status IN ('parsed', 'partial'), (SELECT COUNT(*) FROM parsed_dive_trips WHERE source_newsletter_id = $nl) > 0
	FROM ingest_messages WHERE newsletter_id = $nl")" = "1	1" ] || fail "1: not parsed with its trips once allowed"
echo "1: parse stopped at message $(sql "SELECT id FROM ingest_messages WHERE newsletter_id = $nl") (left pending, nothing failed); reparse parsed it once allowed"

# 2. commit groups
empty
refuse_trips
rc=0
"$prog" -c "$tmp/conf" parse --commit-every=4 "$mbox" 2>"$tmp/log2" || rc=$?
[ "$rc" = 75 ] || fail "2: parse exited $rc, want 75 (EX_TEMPFAIL)"
grep -q "transaction of [0-9]* messages failed" "$tmp/log2" || fail "2: the group was not replayed"
none_failed 2
left_pending 2
echo "2: a group replayed one by one stopped the same way"

# 3. serve: the message stored claimed, retried until allowed
empty
python3 - "$mbox" "$tmp/md/tmp/1" <<'PY'
import re, sys
first = re.split(rb'(?m)(?<=\n\n)(?=From )', open(sys.argv[1], 'rb').read())[0]
open(sys.argv[2], 'wb').write(first.split(b'\n', 1)[1])
PY
mv "$tmp/md/tmp/1" "$tmp/md/new/1"
"$prog" -c "$tmp/conf" --log-target=stderr serve 2>"$tmp/log3" &
pid=$!
for _ in $(seq 300); do
	grep -q "nothing recorded: INSERT command denied" "$tmp/log3" && break
	sleep 0.1
done
grep -q "nothing recorded: INSERT command denied" "$tmp/log3" || fail "3: serve did not meet the refusal"
sleep 2
kill -0 "$pid" || fail "3: serve exited"
[ "$(sql "SELECT status, claimed_by FROM ingest_messages")" = "$(printf 'parsing\t%s:%s' "$(hostname)" "$pid")" ] ||
	fail "3: not stored claimed by serve: $(sql 'SELECT id, status, claimed_by FROM ingest_messages')"
none_failed 3
[ "$(sql 'SELECT COUNT(*) FROM ingest_parse_log')" = 0 ] || fail "3: a parse-log row"
allow_all
for _ in $(seq 600); do
	[ "$(sql "SELECT COUNT(*) FROM ingest_messages WHERE status IN ('parsed', 'partial')")" = 1 ] && break
	sleep 0.1
done
[ "$(sql "SELECT status IN ('parsed', 'partial'), claimed_by IS NULL, (SELECT COUNT(*) FROM ingest_parse_log),
	(SELECT COUNT(*) FROM parsed_dive_trips) > 0 FROM ingest_messages")" = "1	1	1	1" ] ||
	fail "3: not parsed once allowed: $(sql 'SELECT id, status, claimed_by FROM ingest_messages')"
kill -0 "$pid" || fail "3: serve exited"
echo "PASS: a write refused on one table marks nothing failed: parse stops and leaves the message pending, serve retries until allowed"
