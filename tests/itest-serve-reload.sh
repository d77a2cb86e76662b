#!/bin/bash
# serve on a maildir: a new alias reaches the matcher within alias_refresh
# without a restart; a SIGHUP whose rules do not load keeps the rule set
# that runs (the next message is still parsed), and says why.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${MARIADB_SOCKET:?}" "${DATABASE_URL:?}"
d=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$d"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$d/serve.log"; exit 1; }
mkdir -p "$d/md/new" "$d/md/cur" "$d/md/tmp"
cp -r "$top_srcdir/rules" "$d/rules"
cat >"$d/conf" <<CONF
[database]
migrations_dir = $top_srcdir/migrations
[parser]
alias_refresh = 1s
rules_dir = $d/rules
rules_override_dir = $d/no-overrides
[maildir news]
path = $d/md
CONF
# (before serve has migrated, the table is missing: that is "not yet")
sql() { mariadb --no-defaults -N -S "$MARIADB_SOCKET" -u root "$MARIADB_DATABASE" -e "$1" 2>/dev/null; }
drop() { cp "$1" "$d/md/tmp/$2" && mv "$d/md/tmp/$2" "$d/md/new/$2"; }
wait_for() { # SQL that must print $2, within 20 s
	for _ in $(seq 200); do [ "$(sql "$1")" = "$2" ] && return 0; sleep 0.1; done
	fail "waited for '$1' = $2, got $(sql "$1")"
}
newsletter() { # $1: Message-ID; a trip whose only dive is at a place no table knows yet
	printf 'From: Test Divers <t@divers.example>\nTo: n@divemap.example\n'
	printf 'Subject: Saturday\nDate: Mon, 01 Sep 2025 10:00:00 +0300\nMessage-ID: <%s>\n' "$1"
	printf 'Content-Type: text/plain; charset=UTF-8\n\nΣάββατο 6 Σεπτεμβρίου\n9:00 Ξερόβραχος Πέτρας\nΤιμή: 40€\n'
}
site_of() { # the dive site id of the message with that Message-ID, or NULL
	sql "SELECT IFNULL(d.dive_site_id, 'NULL') FROM parsed_dives d
	     JOIN parsed_dive_trips t ON t.id = d.trip_id
	     JOIN ingest_messages m ON m.newsletter_id = t.source_newsletter_id
	     WHERE m.message_id IN ('$1', '<$1>')"
}
"$top_builddir/divemap-ingest" -c "$d/conf" --log-target=stderr serve >"$d/serve.log" 2>&1 &
pid=$!
newsletter one@test >"$d/one.eml"
drop "$d/one.eml" one
wait_for "SELECT COUNT(*) FROM ingest_messages WHERE status = 'partial'" 1
[ "$(site_of one@test)" = NULL ] || fail "an unknown place got a site"
sql "INSERT INTO dive_sites (id, name) VALUES (900, 'Ξερόβραχος')"
sql "INSERT INTO dive_site_aliases (dive_site_id, alias) VALUES (900, 'Ξερόβραχος Πέτρας')"
sleep 1.5
newsletter two@test >"$d/two.eml"
drop "$d/two.eml" two
wait_for "SELECT COUNT(*) FROM ingest_messages WHERE status = 'parsed'" 1
[ "$(site_of two@test)" = 900 ] || fail "the new alias did not reach the matcher"
grep -q "aliases or centers changed" "$d/serve.log" || fail "no word of the new names"
echo "a new alias resolved the next message without a restart"

msgs=("$top_srcdir"/tests/corpus/messages/*.eml)
drop "${msgs[0]}" a
wait_for "SELECT COUNT(*) FROM ingest_messages WHERE status IN ('parsed','no_trips','partial')" 3
echo "broken [rules" >"$d/rules/zz.rules"
kill -HUP "$pid"
for _ in $(seq 100); do grep -q "keeping the rules loaded before" "$d/serve.log" && break; sleep 0.1; done
grep -q "zz.rules:1: " "$d/serve.log" || fail "the reason (file:line) is not logged"
grep -q "keeping the rules loaded before" "$d/serve.log" || fail "no word of keeping the rules"
kill -0 "$pid" || fail "serve stopped"
drop "${msgs[1]}" b
wait_for "SELECT COUNT(*) FROM ingest_messages WHERE status IN ('parsed','no_trips','partial')" 4
[ "$(sql "SELECT COUNT(*) FROM ingest_messages WHERE status = 'failed'")" = 0 ] || fail "a message failed"
echo "a reload with broken rules kept the running set: both messages parsed"
