#!/bin/bash
# log, log show and report --html against a private MariaDB (run by
# tests/run-test): a newsletter with <script> in its subject and body shows
# it as text in the HTML report (well-formed, self-contained); the log's
# filters and JSON; log show prints the value, snippet and rule of each
# field and an alias INSERT that, run by the admin, stores exactly the name
# (quotes, backslashes) under either sql_mode; no control character from
# mail reaches the terminal. On our baseline schema and on Divemap's own.
set -euo pipefail
: "${MARIADB_SOCKET:?run this test through tests/run-test}"
: "${top_srcdir:?}" "${top_builddir:?}"
prog=$top_builddir/divemap-ingest
. "$top_srcdir/tests/itest-lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }
sql() { mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -N -B "$db" "$@"; }
itest_conf "$tmp/conf"
di() { "$prog" -c "$tmp/conf" "$@"; }

new_db() { # $1: baseline | divemap
	db=log_$1
	mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -e "
		CREATE DATABASE \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		GRANT ALL ON \`$db\`.* TO '$MARIADB_USER'@'127.0.0.1', '$MARIADB_USER'@'localhost';"
	export DATABASE_URL="mysql://$MARIADB_USER:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT/$db"
	if [ "$1" = divemap ]; then
		sql <"$top_srcdir/tests/fixtures/divemap-0092.sql"
		di migrate upgrade head 2>/dev/null || fail "$1: migrate"
		sql <"$top_srcdir/tests/fixtures/sites-divemap.sql"
	else
		di migrate upgrade head 2>/dev/null || fail "$1: migrate"
		sql <"$top_srcdir/tests/corpus/sites.sql"
	fi
}

suite() { # $1: baseline | divemap
	echo "== $1 schema"
	new_db "$1"

	# a newsletter with markup in subject and body
	printf '%s\r\n' \
		'From: "Aqua <b>Lavrio</b>" <info@aqualavrio.example>' \
		'To: list@example.org' \
		"Subject: <script>alert('subject')</script> Sat 23/8" \
		'Date: Wed, 20 Aug 2025 18:42:10 +0300' \
		'Message-ID: <evil-1@example.org>' \
		'MIME-Version: 1.0' \
		'Content-Type: text/plain; charset=utf-8' \
		'' \
		'<script>alert("body")</script>' \
		'Σάββατο 23 Αυγούστου' \
		'9:00 ν. Ποθητός, 12:00 Κουδούνια' \
		'Τιμή 45€, 4 θέσεις' >"$tmp/evil.eml"
	di parse "$tmp/evil.eml" 2>"$tmp/parse.log" || { cat "$tmp/parse.log"; fail "parse"; }
	nl=$(sql -e "SELECT newsletter_id FROM ingest_messages WHERE message_id = '<evil-1@example.org>'")
	[ -n "$nl" ] || fail "the message was not stored"

	di report --html "$tmp/r.html" 2>/dev/null || fail "report --html"
	! grep -qi '<script' "$tmp/r.html" || fail "a <script> element reached the report"
	! grep -q '<b>' "$tmp/r.html" || fail "markup from the sender reached the report"
	[ "$(grep -o '&lt;script&gt;alert(' "$tmp/r.html" | wc -l)" -ge 3 ] ||
		fail "subject (heading and index) and body should show <script> as text"
	grep -q "href=\"#n$nl-t1\"" "$tmp/r.html" || fail "no span links to trip 1 of newsletter $nl"
	grep -q "<tr id=\"n$nl-t1\">" "$tmp/r.html" || fail "no row for trip 1"
	! grep -Eq '(src|href)="(https?:)?//' "$tmp/r.html" || fail "the report refers to something outside it"
	python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$tmp/r.html" ||
		fail "the report is not well-formed"
	ok "report --html: <script> from subject and body shown as text; spans linked; well-formed"

	# a parse-log row made by hand: names with quotes, a backslash and an escape
	python3 - "$tmp/crafted.sql" <<'PY'
import json, sys
def q(s):  # an SQL literal for the default sql_mode
    return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'"
details = {
    "text": "Sunday 24/8 \x1b[31mO'Brien's reef\x1b[0m", "diving_center_id": 1,
    "trips": [{"trip_date": "2025-08-24", "spans": {"trip_date": [0, 11, "en.date.dm"]},
               "dives": [{"dive_number": 1, "dive_site_id": None,
                          "dive_site_name": "O'Brien's reef",
                          "spans": {"dive_site_name": [17, 31, "en.site"]}}]}],
    "unresolved": [
        {"kind": "site", "name": "O'Brien's \"reef\"", "candidates": [{"id": 2, "name": "Άκρα Καταφυγή", "score": 0.71}]},
        {"kind": "site", "name": "back\\slash \x1b[2J", "candidates": [{"id": 3, "name": "Κουδούνια", "score": 0.6}]}],
    "writer": {"trip_ids": [None], "kept": []}}
with open(sys.argv[1], "w") as f:
    f.write("INSERT INTO newsletters (content) VALUES ('crafted');\n")
    f.write("INSERT INTO ingest_messages (newsletter_id, sha256, source, source_ref, subject, sender, size, status) "
            "VALUES (LAST_INSERT_ID(), REPEAT('c', 64), 'eml', 'crafted', %s, 'x@example.org', 1, 'partial');\n"
            % q("crafted \x1b]0;title\x07 subject"))
    f.write("INSERT INTO ingest_parse_log (message_id, newsletter_id, duration_us, rules_version, status, trips, dives, unresolved, warnings, details) "
            "SELECT id, newsletter_id, 1500, 'r1', 'partial', 0, 0, 2, '[]', %s FROM ingest_messages WHERE sha256 = REPEAT('c', 64);\n"
            % q(json.dumps(details)))
    f.write("INSERT INTO ingest_messages (sha256, source, source_ref, subject, size, status) "
            "VALUES (REPEAT('d', 64), 'eml', 'broken', 'broken one', 1, 'failed');\n")
    f.write("INSERT INTO ingest_parse_log (message_id, duration_us, rules_version, status, reason) "
            "SELECT id, 10, 'r1', 'failed', 'worker killed by signal 11' FROM ingest_messages WHERE sha256 = REPEAT('d', 64);\n")
PY
	sql <"$tmp/crafted.sql" || fail "crafted rows"
	crafted=$(sql -e "SELECT newsletter_id FROM ingest_messages WHERE sha256 = REPEAT('c', 64)")

	di log show "$crafted" >"$tmp/show" 2>&1 || { cat "$tmp/show"; fail "log show $crafted"; }
	! grep -q $'\x1b' "$tmp/show" || fail "an escape sequence from mail reached the terminal"
	! grep -q $'\x07' "$tmp/show" || fail "a control character from mail reached the terminal"
	grep -q '^  trip_date  *2025-08-24  *"Sunday 24/8"  en.date.dm$' "$tmp/show" || { cat "$tmp/show"; fail "trip_date line"; }
	grep -q "dive_site_name  *O'Brien's reef  *\"O'Brien's reef\"  en.site" "$tmp/show" || { cat "$tmp/show"; fail "dive line"; }
	grep -q 'parsed_dive_trips\|not written' "$tmp/show" || fail "trip heading"
	grep -q "^    then: divemap-ingest reparse --newsletter $crafted$" "$tmp/show" || fail "the reparse hint"
	grep '^      INSERT INTO dive_site_aliases' "$tmp/show" >"$tmp/alias.sql"
	[ "$(wc -l <"$tmp/alias.sql")" = 2 ] || { cat "$tmp/show"; fail "two alias INSERT lines expected"; }
	grep -q "VALUES (2, 'O''Brien''s \"reef\"');" "$tmp/alias.sql" || fail "the quote should be doubled: $(cat "$tmp/alias.sql")"
	for mode in '' NO_BACKSLASH_ESCAPES ANSI_QUOTES; do
		sql -e "DELETE FROM dive_site_aliases WHERE dive_site_id IN (2, 3)"
		sql -e "SET SESSION sql_mode = '$mode'; $(cat "$tmp/alias.sql")" || fail "the printed SQL fails (sql_mode '$mode')"
		got=$(sql -e "SELECT HEX(alias) FROM dive_site_aliases WHERE dive_site_id IN (2, 3) ORDER BY dive_site_id")
		want=$(printf '%s\n%s' "$(printf '%s' "O'Brien's \"reef\"" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" \
			"$(printf 'back\\slash \x1b[2J' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)")
		[ "$got" = "$want" ] || fail "sql_mode '$mode': the alias stored is not the name ($got)"
	done
	sql -e "DELETE FROM dive_site_aliases WHERE dive_site_id IN (2, 3)"
	di log show "$crafted" --json | python3 -c 'if True:
		import json, sys
		s = json.load(sys.stdin)
		assert s["status"] == "partial" and s["trips"] == 0 and s["unresolved"] == 2, s
		assert s["subject"] == "crafted \x1b]0;title\x07 subject", s["subject"]
		assert [u["name"] for u in s["details"]["unresolved"]][0] == "O'"'"'Brien'"'"'s \"reef\"", s
	' || fail "log show --json"
	ok "log show: values, snippets, rules; alias SQL exact under three sql_modes; no control characters; --json"

	# the list, its filters and JSON
	di log >"$tmp/list" 2>&1 || fail "log"
	head -1 "$tmp/list" | grep -q '^PARSED (UTC) *NEWSLETTER *STATUS *TRIPS *DIVES *UNRES *CENTER *SUBJECT$' ||
		fail "table heading: $(head -1 "$tmp/list")"
	grep -q "^[0-9-]* [0-9:]* *$nl  *[a-z_]* " "$tmp/list" || fail "newsletter $nl not listed"
	! grep -q $'\x1b' "$tmp/list" || fail "colour or escapes in the table when not on a terminal"
	grep -q 'worker killed by signal 11' "$tmp/list" || fail "a failed parse shows its reason"
	di log --json >"$tmp/list.json" || fail "log --json"
	python3 - "$tmp/list.json" "$nl" <<'PY' || fail "log --json content"
import json, sys
rows = json.load(open(sys.argv[1]))
assert len(rows) == 3, rows
mine = [r for r in rows if r["newsletter_id"] == int(sys.argv[2])][0]
assert mine["subject"].startswith("<script>alert('subject')</script>"), mine
assert mine["diving_center_id"] == 1 and mine["diving_center"] == "Aqua Lavrio Divers", mine
assert mine["trips"] >= 1 and mine["status"] in ("ok", "partial"), mine
assert set(mine) >= {"parse_id", "parsed_at", "message_id", "reason", "dives", "unresolved", "duration_us", "sender", "sent_at"}
PY
	[ "$(di log --status failed --json | python3 -c 'import json,sys; r=json.load(sys.stdin); print(len(r), r[0]["reason"])')" = "1 worker killed by signal 11" ] ||
		fail "--status failed"
	[ "$(di log --center 'Aqua Lav' --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] ||
		fail "--center by name"
	[ "$(di log --center 1 --limit 1 --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
		fail "--limit"
	di log --unresolved --json | python3 -c 'if True:
		import json, sys
		names = {u["name"]: u for u in json.load(sys.stdin)}
		assert all(isinstance(u["newsletter_ids"], list) for u in names.values()), names
	' || fail "log --unresolved --json"
	rc=0; di log --status nope 2>/dev/null || rc=$?
	[ "$rc" = 64 ] || fail "a bad --status should be a usage error"
	rc=0; di log show 999999 2>/dev/null || rc=$?
	[ "$rc" != 0 ] || fail "log show of an unknown newsletter should fail"
	ok "log: table, --json, --status, --center, --limit, --unresolved"
}

suite baseline
if [ -f "$top_srcdir/tests/fixtures/divemap-0092.sql" ]; then
	suite divemap
else
	echo "tests/fixtures/divemap-0092.sql missing: Divemap's schema not tested"
fi
