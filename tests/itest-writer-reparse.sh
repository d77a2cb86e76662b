#!/bin/bash
# reparse against a private MariaDB (run by tests/run-test), on our baseline
# schema and on Divemap's own: the corpus mailbox is parsed, then
# `reparse --all` three times leaves exactly the same rows; two reparse
# processes at once share the work (each message parsed once more, no
# duplicate rows); a booked trip survives a reparse of its newsletter.
set -euo pipefail
: "${MARIADB_SOCKET:?run this test through tests/run-test}"
: "${top_srcdir:?}" "${top_builddir:?}"
prog=$top_builddir/divemap-ingest
mbox=$top_srcdir/tests/corpus/all.mbox
. "$top_srcdir/tests/itest-lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
sql() { mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -N -B "$db" -e "$1"; }
itest_conf "$tmp/conf"

new_db() { # $1: name; $2: baseline | divemap
	db=$1
	mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -e "
		CREATE DATABASE \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		GRANT ALL ON \`$db\`.* TO '$MARIADB_USER'@'127.0.0.1', '$MARIADB_USER'@'localhost';"
	export DATABASE_URL="mysql://$MARIADB_USER:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT/$db"
	if [ "$2" = divemap ]; then
		sql "$(cat "$top_srcdir/tests/fixtures/divemap-0092.sql")"
		"$prog" -c "$tmp/conf" migrate upgrade head 2>"$tmp/mig" || { cat "$tmp/mig"; fail "migrate"; }
		sql "$(cat "$top_srcdir/tests/fixtures/sites-divemap.sql")"
	else
		"$prog" -c "$tmp/conf" migrate upgrade head 2>"$tmp/mig" || { cat "$tmp/mig"; fail "migrate"; }
		sql "$(cat "$top_srcdir/tests/corpus/sites.sql")"
	fi
}

# Everything the writer owns, without auto-increment ids (a reparse
# re-inserts), in a stable order.
snapshot() {
	sql "SELECT t.source_newsletter_id, t.diving_center_id, t.trip_date, t.trip_time,
		t.trip_duration, t.trip_difficulty_id, t.trip_price, t.trip_currency,
		t.group_size_limit, t.current_bookings, t.trip_description, t.special_requirements,
		t.trip_status, t.view_count
		FROM parsed_dive_trips t ORDER BY 1, 3, 4, 5, 6, 7, 9, 11"
	sql "SELECT t.source_newsletter_id, t.trip_date, t.trip_time, d.dive_number,
		d.dive_site_id, d.dive_time, d.dive_duration, d.dive_description
		FROM parsed_dives d JOIN parsed_dive_trips t ON t.id = d.trip_id ORDER BY 1, 2, 3, 4, 5, 6"
	sql "SELECT kind, name, name_key, seen_count, first_seen, last_seen, newsletter_ids, candidates
		FROM ingest_unresolved ORDER BY kind, name"
	sql "SELECT id, newsletter_id, status, status_reason, claimed_by, claimed_at FROM ingest_messages ORDER BY id"
}

reparse() { "$prog" -c "$tmp/conf" reparse "$@"; }

waitfor() { # $1: a query, $2: the value it must reach within 20 s
	for _ in $(seq 400); do
		[ "$(sql "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	fail "waited in vain for $1 = $2 (got $(sql "$1"))"
}

suite() { # $1: baseline | divemap
	local s=$1 n rc i
	new_db "reparse_$s" "$s"
	rc=0
	"$prog" -c "$tmp/conf" parse "$mbox" 2>"$tmp/parse.log" || rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 65 ] || { tail "$tmp/parse.log"; fail "$s: parse exited $rc"; }
	n=$(sql "SELECT COUNT(*) FROM ingest_messages")
	[ "$n" -ge 30 ] || fail "$s: only $n messages stored"
	[ "$(sql "SELECT COUNT(*) FROM parsed_dive_trips")" -gt 0 ] || fail "$s: no trips written"
	snapshot >"$tmp/snap0"

	for i in 1 2 3; do
		rc=0
		reparse --all 2>"$tmp/reparse$i.log" || rc=$?
		[ "$rc" = 0 ] || [ "$rc" = 65 ] || { tail "$tmp/reparse$i.log"; fail "$s: reparse $i exited $rc"; }
		grep -q "^$n messages reparsed: " "$tmp/reparse$i.log" ||
			{ tail -2 "$tmp/reparse$i.log"; fail "$s: reparse $i did not do all $n messages"; }
		snapshot >"$tmp/snap$i"
		diff "$tmp/snap0" "$tmp/snap$i" >"$tmp/diff" || { head -20 "$tmp/diff"; fail "$s: reparse $i changed rows"; }
	done
	[ "$(sql "SELECT COUNT(DISTINCT c) FROM (SELECT COUNT(*) c FROM ingest_parse_log GROUP BY message_id) x")" = 1 ] &&
		[ "$(sql "SELECT MIN(c) FROM (SELECT COUNT(*) c FROM ingest_parse_log GROUP BY message_id) x")" = 4 ] ||
		fail "$s: every message should have 4 parse-log rows"
	ok "$s: parse + reparse --all x3 give identical rows ($n messages, $(sql "SELECT COUNT(*) FROM parsed_dive_trips") trips)"

	# two at once: the work is shared, each message done exactly once more.
	# Both start while a table lock holds their first claim, so that neither
	# finishes a message before the other began (what it did would be in the
	# other's scope then, rightly).
	mariadb --no-defaults -S "$MARIADB_SOCKET" -u root "$db" \
		-e "LOCK TABLES ingest_messages WRITE; SELECT SLEEP(60)" >/dev/null 2>&1 & locker=$!
	waitfor "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(60)'" 1
	reparse --all 2>"$tmp/a.log" & a=$!
	reparse --all 2>"$tmp/b.log" & b=$!
	waitfor "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = '$MARIADB_USER' AND STATE LIKE '%metadata lock%'" 2
	sql "KILL CONNECTION $(sql "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO = 'SELECT SLEEP(60)'")"
	wait $locker || true
	rc=0; wait $a || rc=$?; [ "$rc" = 0 ] || [ "$rc" = 65 ] || { cat "$tmp/a.log"; fail "$s: reparse A exited $rc"; }
	rc=0; wait $b || rc=$?; [ "$rc" = 0 ] || [ "$rc" = 65 ] || { cat "$tmp/b.log"; fail "$s: reparse B exited $rc"; }
	done_a=$(sed -n 's/^\([0-9]*\) messages reparsed: .*/\1/p' "$tmp/a.log")
	done_b=$(sed -n 's/^\([0-9]*\) messages reparsed: .*/\1/p' "$tmp/b.log")
	[ "$((done_a + done_b))" = "$n" ] || fail "$s: concurrent runs did $done_a + $done_b of $n messages"
	[ "$(sql "SELECT COUNT(*) FROM ingest_parse_log GROUP BY message_id HAVING COUNT(*) <> 5")" = "" ] ||
		fail "$s: some message was parsed twice (or not at all) by the concurrent runs"
	snapshot >"$tmp/snap4"
	diff "$tmp/snap0" "$tmp/snap4" >"$tmp/diff" || { head -20 "$tmp/diff"; fail "$s: concurrent reparse changed rows"; }
	ok "$s: two concurrent reparse --all: $done_a + $done_b messages, no duplicates"

	# a booked trip keeps its id through a reparse of its newsletter
	read -r trip nl <<<"$(sql "SELECT id, source_newsletter_id FROM parsed_dive_trips ORDER BY id LIMIT 1")"
	before=$(sql "SELECT COUNT(*) FROM parsed_dive_trips WHERE source_newsletter_id = $nl")
	sql "UPDATE parsed_dive_trips SET current_bookings = 2 WHERE id = $trip"
	reparse --newsletter "$nl" 2>"$tmp/one.log" || { cat "$tmp/one.log"; fail "$s: reparse --newsletter"; }
	grep -q "^1 messages reparsed: " "$tmp/one.log" || fail "$s: --newsletter $nl did not select one message"
	[ "$(sql "SELECT current_bookings FROM parsed_dive_trips WHERE id = $trip")" = 2 ] || fail "$s: booked trip $trip gone"
	[ "$(sql "SELECT COUNT(*) FROM parsed_dive_trips WHERE source_newsletter_id = $nl")" = "$before" ] ||
		fail "$s: the booked trip was inserted a second time"
	sql "SELECT warnings FROM ingest_parse_log WHERE newsletter_id = $nl ORDER BY id DESC LIMIT 1" |
		grep -q "kept trip $trip (.*): has 2 bookings; not inserted again" || fail "$s: no warning for the kept trip"
	ok "$s: a booked trip survives reparse --newsletter $nl"

	reparse --failed --since 2000-01-01 2>"$tmp/failed.log" || true
	grep -q "messages reparsed: " "$tmp/failed.log" || fail "$s: reparse --failed printed no summary"
	rc=0
	reparse 2>/dev/null || rc=$?
	[ "$rc" = 64 ] || fail "$s: reparse without a selection should be a usage error, not $rc"
}

suite baseline
if [ -f "$top_srcdir/tests/fixtures/divemap-0092.sql" ]; then
	suite divemap
else
	echo "tests/fixtures/divemap-0092.sql missing: Divemap's schema not tested"
fi
