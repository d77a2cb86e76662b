#!/bin/bash
# parse's commit groups against a private MariaDB (run by tests/run-test):
#  1. a message whose write fails inside a group (a trigger refuses its
#     status) is marked failed on its own; the other messages of its group
#     are stored and parsed once, as without groups;
#  2. parse killed (SIGKILL) in the middle of a run: only whole groups are
#     in the database, each committed message parsed, none pending; the
#     next run of the same mailbox stores the rest, every message once;
#  3. a maildir's messages are moved to cur/ only once their group commits;
#     stopped in the middle, the next run stores the rest.
set -euo pipefail
: "${MARIADB_SOCKET:?run this test through tests/run-test}"
: "${top_srcdir:?}" "${top_builddir:?}"
prog=$top_builddir/divemap-ingest
mbox=$top_srcdir/tests/corpus/all.mbox
. "$top_srcdir/tests/itest-lib.sh"
tmp=$(mktemp -d)
pid=
cleanup() {
	[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }
sql() { mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -N -B "$MARIADB_DATABASE" -e "$1"; }
trigger() { mariadb --no-defaults -S "$MARIADB_SOCKET" -u root --delimiter='//' "$MARIADB_DATABASE" -e "$1"; }
itest_conf "$tmp/conf"
"$prog" -q -c "$tmp/conf" migrate upgrade head >/dev/null 2>&1 || fail "migrate"
empty() {
	sql "SET FOREIGN_KEY_CHECKS = 0; DELETE FROM ingest_parse_log; DELETE FROM ingest_raw_messages;
		DELETE FROM ingest_unresolved; DELETE FROM parsed_dives; DELETE FROM parsed_dive_trips;
		DELETE FROM ingest_messages; DELETE FROM newsletters; SET FOREIGN_KEY_CHECKS = 1"
}
# every message stored once, none pending, one parse-log row each, trips
# only of newsletters parsed with trips, as many as their logs count
consistent() { # $1: the number of messages expected
	[ "$(sql 'SELECT COUNT(*), COUNT(DISTINCT sha256) FROM ingest_messages')" = "$1	$1" ] ||
		fail "ingest_messages: $(sql 'SELECT COUNT(*), COUNT(DISTINCT sha256) FROM ingest_messages'), want $1"
	[ "$(sql 'SELECT COUNT(*) FROM ingest_raw_messages')" = "$1" ] || fail "ingest_raw_messages rows"
	[ "$(sql "SELECT COUNT(*) FROM ingest_messages WHERE status IN ('pending', 'parsing')")" = 0 ] ||
		fail "messages left pending"
	[ "$(sql 'SELECT COUNT(*), COUNT(DISTINCT message_id) FROM ingest_parse_log')" = "$1	$1" ] ||
		fail "parse log: $(sql 'SELECT COUNT(*), COUNT(DISTINCT message_id) FROM ingest_parse_log'), want $1 rows, one a message"
	[ "$(sql 'SELECT COUNT(*) FROM parsed_dive_trips')" = "$(sql 'SELECT COALESCE(SUM(trips), 0) FROM ingest_parse_log')" ] ||
		fail "trips: $(sql 'SELECT COUNT(*) FROM parsed_dive_trips') rows, the logs count $(sql 'SELECT SUM(trips) FROM ingest_parse_log')"
	[ "$(sql "SELECT COUNT(*) FROM parsed_dive_trips t LEFT JOIN ingest_messages m ON m.newsletter_id = t.source_newsletter_id
		WHERE m.status IS NULL OR m.status NOT IN ('parsed', 'partial')")" = 0 ] || fail "trips of no parsed message"
	[ "$(sql 'SELECT COUNT(*) FROM parsed_dives d LEFT JOIN parsed_dive_trips t ON t.id = d.trip_id WHERE t.id IS NULL')" = 0 ] ||
		fail "dives of no trip"
}

# The corpus mailbox, and the same repeated with a Message-ID of its own per
# copy (so that no copy is a duplicate of another); the SHA-256 of one message.
python3 - "$mbox" "$tmp/big.mbox" 8 "$tmp/sha10" <<'PY'
import hashlib, re, sys
src, out, copies, sha_out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
data = open(src, 'rb').read()
if not data.endswith(b'\n\n'):
    data += b'\n' if data.endswith(b'\n') else b'\n\n'
msgs = re.split(rb'(?m)(?<=\n\n)(?=From )', data)
# the 10th message as parse stores it: without its From_ line and the blank line after it
m = msgs[9].split(b'\n', 1)[1][:-1]
m = re.sub(rb'(?m)^>(>*From )', rb'\1', m)
open(sha_out, 'w').write(hashlib.sha256(m).hexdigest())
with open(out, 'wb') as f:
    for c in range(copies):
        for i, m in enumerate(msgs):
            head, sep, body = m.partition(b'\n\n')
            tag = b'copy-%d.' % c
            if re.search(rb'(?mi)^Message-ID:[ \t]*<', head):
                head = re.sub(rb'(?mi)^(Message-ID:[ \t]*<)', rb'\g<1>' + tag, head, count=1)
            else:
                head += b'\nMessage-ID: <' + tag + b'%d@test.invalid>' % i
            f.write(head + sep + body)
PY
n=$(grep -c '^From ' "$mbox")
big=$(grep -c '^From ' "$tmp/big.mbox")
[ "$n" -ge 30 ] && [ "$big" = $((8 * n)) ] || fail "mailboxes of $n and $big messages"

# 1. a failing message inside a group
trigger "CREATE TRIGGER test_refuse BEFORE UPDATE ON ingest_messages FOR EACH ROW
	IF NEW.sha256 = '$(cat "$tmp/sha10")' AND NEW.status IN ('parsed', 'no_trips', 'partial') THEN
		SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test';
	END IF"
rc=0
"$prog" -c "$tmp/conf" parse --commit-every=4 "$mbox" 2>"$tmp/log1" || rc=$?
[ "$rc" = 65 ] || { cat "$tmp/log1"; fail "a failed message: exit $rc, want 65"; }
grep -q "^$n messages, $n stored, 0 duplicates, 1 failed$" "$tmp/log1" || { tail -5 "$tmp/log1"; fail "summary"; }
grep -Eq "transaction of [0-9]+ messages failed \(.*refused by the test\)" "$tmp/log1" || { cat "$tmp/log1"; fail "no word of the rolled-back group"; }
consistent "$n"
[ "$(sql "SELECT sha256, status, status_reason LIKE '%refused by the test%' FROM ingest_messages WHERE status = 'failed'")" = \
	"$(cat "$tmp/sha10")	failed	1" ] || fail "failed: $(sql "SELECT id, status_reason FROM ingest_messages WHERE status = 'failed'")"
[ "$(sql "SELECT status FROM ingest_messages ORDER BY id LIMIT 9, 1")" = failed ] || fail "ids out of the mailbox's order"
# the others: the same statuses and trips as a run without groups
others() {
	sql "SELECT status, COUNT(*) FROM ingest_messages WHERE sha256 <> '$(cat "$tmp/sha10")' GROUP BY status ORDER BY status"
	sql "SELECT COUNT(*), SUM(t.trip_date = '2000-01-01') FROM parsed_dive_trips t JOIN ingest_messages m
		ON m.newsletter_id = t.source_newsletter_id WHERE m.sha256 <> '$(cat "$tmp/sha10")'"
	sql "SELECT COUNT(*) FROM parsed_dives d JOIN parsed_dive_trips t ON t.id = d.trip_id JOIN ingest_messages m
		ON m.newsletter_id = t.source_newsletter_id WHERE m.sha256 <> '$(cat "$tmp/sha10")'"
}
others >"$tmp/grouped"
sql "DROP TRIGGER test_refuse"
empty
"$prog" -q -c "$tmp/conf" parse --commit-every=1 "$mbox" 2>"$tmp/log1b" || { cat "$tmp/log1b"; fail "a run without groups"; }
others >"$tmp/single"
diff "$tmp/single" "$tmp/grouped" || fail "statuses or trips of the others differ from a run without groups"
empty

# 2. killed in the middle of a run (each write slowed down, so that the run
# is still going when it is stopped, however fast the machine)
trigger "CREATE TRIGGER test_slow BEFORE INSERT ON ingest_parse_log FOR EACH ROW SET @slept = SLEEP(0.01)"
"$prog" -q -c "$tmp/conf" parse --commit-every=20 --commit-ms=600000 "$tmp/big.mbox" 2>"$tmp/log2" &
pid=$!
for _ in $(seq 600); do
	[ "$(sql 'SELECT COUNT(*) FROM ingest_messages')" -ge 20 ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
kill -STOP "$pid" 2>/dev/null || fail "parse ended before it could be stopped"
children=$(pgrep -P "$pid" || true)
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
pid=
for c in $children; do kill -KILL "$c" 2>/dev/null || true; done
sleep 0.5 # a commit already sent is done; the open transaction rolled back
stored=$(sql 'SELECT COUNT(*) FROM ingest_messages')
sql "DROP TRIGGER test_slow"
[ "$stored" -ge 20 ] && [ "$stored" -lt "$big" ] || fail "$stored messages committed when killed"
echo "killed with $stored of $big messages committed"
[ $((stored % 20)) = 0 ] || fail "$stored messages committed: not whole groups of 20"
consistent "$stored"
rc=0
"$prog" -c "$tmp/conf" parse "$tmp/big.mbox" 2>"$tmp/log3" || rc=$?
[ "$rc" = 0 ] || { tail -5 "$tmp/log3"; fail "the run after the kill exited $rc"; }
grep -q "^$big messages, $((big - stored)) stored, $stored duplicates, 0 failed$" "$tmp/log3" ||
	{ tail -3 "$tmp/log3"; fail "the run after the kill: wrong summary"; }
consistent "$big"
empty

# 3. a maildir: moved to cur/ once committed, and only then
mkdir -p "$tmp/md/new" "$tmp/md/cur" "$tmp/md/tmp"
python3 - "$mbox" "$tmp/md/new" <<'PY'
import re, sys
data = open(sys.argv[1], 'rb').read()
for i, m in enumerate(re.split(rb'(?m)(?<=\n\n)(?=From )', data)[:12]):
    open('%s/17000000%02d.M1P1.test' % (sys.argv[2], i), 'wb').write(m.split(b'\n', 1)[1])
PY
# each write slowed down, the run stopped after its first commit: what is
# in cur/ is stored (committed), and not more than is stored
trigger "CREATE TRIGGER test_slow BEFORE INSERT ON ingest_parse_log FOR EACH ROW SET @slept = SLEEP(0.1)"
"$prog" -q -c "$tmp/conf" parse --commit-every=5 "$tmp/md" 2>"$tmp/log4" &
pid=$!
for _ in $(seq 600); do
	[ "$(sql 'SELECT COUNT(*) FROM ingest_messages')" -ge 5 ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.02
done
kill -STOP "$pid" 2>/dev/null || fail "maildir: parse ended before it could be stopped"
children=$(pgrep -P "$pid" || true)
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
pid=
for c in $children; do kill -KILL "$c" 2>/dev/null || true; done
sleep 0.5
stored=$(sql 'SELECT COUNT(*) FROM ingest_messages')
sql "DROP TRIGGER test_slow"
[ "$stored" -lt 12 ] || fail "maildir: all stored before the stop"
moved=$(find "$tmp/md/cur" -type f | wc -l)
echo "maildir: stopped with $stored of 12 stored, $moved in cur/"
[ "$moved" -le "$stored" ] || fail "maildir: $moved moved to cur/, $stored stored"
for f in "$tmp/md/cur/"*; do
	[ -e "$f" ] || continue
	[ "$(sql "SELECT COUNT(*) FROM ingest_messages WHERE sha256 = '$(sha256sum <"$f" | cut -d' ' -f1)'")" = 1 ] ||
		fail "maildir: $(basename "$f") in cur/ but not stored"
done
consistent "$stored"
"$prog" -q -c "$tmp/conf" parse --commit-every=5 "$tmp/md" 2>"$tmp/log5" || { cat "$tmp/log5"; fail "maildir run"; }
[ -z "$(find "$tmp/md/new" -type f)" ] && [ "$(find "$tmp/md/cur" -type f -name '*:2,S' | wc -l)" = 12 ] ||
	fail "maildir: not all moved to cur/"
consistent 12
echo "PASS: groups: a failing message alone marked, a kill loses only the open group, maildir acks after commit"
