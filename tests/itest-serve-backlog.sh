#!/bin/bash
# serve takes up what an earlier run stored but did not parse: messages left
# 'pending' (a crash between the store and the parse) and messages left
# 'parsing' by a process of this host that is gone (a kill -9 mid-parse).
# Two daemons take up the backlog at once on the same database (claim.h,
# the claims reparse takes): every message is parsed exactly once (one
# parse-log row each), the trips are those of before, and a claim held by a
# live process elsewhere is left alone.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${MARIADB_SOCKET:?}" "${DATABASE_URL:?}"
prog=$top_builddir/divemap-ingest
d=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$d"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; tail -n 20 "$d"/serve*.log; exit 1; }
sql() { mariadb --no-defaults -N -B -S "$MARIADB_SOCKET" -u root "$MARIADB_DATABASE" -e "$1"; }
wait_for() { # SQL that must print $2, within $3 (30) s
	for _ in $(seq $((${3:-30} * 10))); do [ "$(sql "$1" 2>/dev/null)" = "$2" ] && return 0; sleep 0.1; done
	fail "waited for '$1' = $2, got $(sql "$1")"
}
conf() { # $1: name, a maildir of its own
	mkdir -p "$d/$1/new" "$d/$1/cur" "$d/$1/tmp"
	cat >"$d/$1.conf" <<CONF
[database]
migrations_dir = $top_srcdir/migrations
[parser]
rules_dir = $top_srcdir/rules
[maildir $1]
path = $d/$1
CONF
}
serve() { # $1: name
	"$prog" -c "$d/$1.conf" --log-target=stderr serve >"$d/serve-$1.log" 2>&1 &
	pids+=($!)
}

# 1. 40 newsletters ingested and parsed by one daemon
conf one
"$prog" -c "$d/one.conf" -q migrate upgrade head
mariadb --no-defaults -S "$MARIADB_SOCKET" -u root "$MARIADB_DATABASE" <"$top_srcdir/tests/corpus/sites.sql"
msgs=("$top_srcdir"/tests/corpus/messages/*.eml)
for i in $(seq 0 39); do
	# a Message-ID of its own (the same one twice would be a likely duplicate)
	{
		printf 'Message-ID: <backlog-%d@divemap-ingest.test>\n' "$i"
		sed '1,/^\r\?$/s/^[Mm]essage-[Ii][Dd]:/X-Old-Message-ID:/' "${msgs[$((i % ${#msgs[@]}))]}"
	} >"$d/one/tmp/$i"
	mv "$d/one/tmp/$i" "$d/one/new/$i"
done
serve one
wait_for "SELECT COUNT(*) FROM ingest_messages WHERE status NOT IN ('pending', 'parsing')" 40 120
kill -TERM "${pids[0]}"
wait "${pids[0]}" || fail "serve did not stop cleanly"
pids=()
sql "SELECT newsletter_id, COUNT(*) FROM parsed_dive_trips t JOIN ingest_messages m ON m.newsletter_id = t.source_newsletter_id GROUP BY newsletter_id ORDER BY 1" >"$d/trips-before"

# 2. what crashes leave: 24 pending with nothing written, 8 parsing claimed
# by a process of this host that is gone, 1 claimed by a live process
# elsewhere (not to be touched)
(exit 0) &
dead=$!
wait "$dead"
kill -0 "$dead" 2>/dev/null && fail "pid $dead is still there"
sql "DELETE t FROM parsed_dive_trips t JOIN ingest_messages m ON m.newsletter_id = t.source_newsletter_id WHERE m.id <= 33;
     DELETE FROM ingest_parse_log WHERE message_id <= 33;
     UPDATE ingest_messages SET status = 'pending', status_reason = NULL WHERE id <= 24;
     UPDATE ingest_messages SET status = 'parsing', claimed_by = '$(hostname):$dead', claimed_at = UTC_TIMESTAMP() WHERE id BETWEEN 25 AND 32;
     UPDATE ingest_messages SET status = 'parsing', claimed_by = 'elsewhere.example:1', claimed_at = UTC_TIMESTAMP() WHERE id = 33"
t0=$(sql "SELECT NOW(3)")
sleep 0.01

# 3. two daemons (empty maildirs of their own) at once
conf two
conf three
serve two
serve three
wait_for "SELECT COUNT(*) FROM ingest_messages WHERE status IN ('pending', 'parsing')" 1
for p in "${pids[@]}"; do kill -0 "$p" || fail "a daemon exited"; done

# 4. exactly one parse since t0 of each message left unparsed, none of the
# one claimed elsewhere nor of those parsed before
v=$(sql "SELECT COUNT(*) FROM ingest_messages m WHERE m.id <> 33 AND (SELECT COUNT(*) FROM ingest_parse_log l WHERE l.message_id = m.id AND l.parsed_at >= '$t0') <> IF(m.id < 33, 1, 0)")
[ "$v" = 0 ] || fail "$v messages not parsed exactly once: $(sql "SELECT message_id, COUNT(*) FROM ingest_parse_log WHERE parsed_at >= '$t0' GROUP BY message_id HAVING COUNT(*) <> 1")"
[ "$(sql "SELECT status, claimed_by FROM ingest_messages WHERE id = 33")" = "$(printf 'parsing\telsewhere.example:1')" ] ||
	fail "the message claimed by a live process elsewhere was taken"
[ "$(sql "SELECT COUNT(*) FROM ingest_parse_log WHERE message_id = 33")" = 0 ] || fail "message 33 was parsed"
sql "SELECT newsletter_id, COUNT(*) FROM parsed_dive_trips t JOIN ingest_messages m ON m.newsletter_id = t.source_newsletter_id GROUP BY newsletter_id ORDER BY 1" >"$d/trips-after"
grep -v "^$(sql "SELECT newsletter_id FROM ingest_messages WHERE id = 33")	" "$d/trips-before" >"$d/trips-want" || true
diff "$d/trips-want" "$d/trips-after" >/dev/null || fail "the trips differ from before: $(diff "$d/trips-want" "$d/trips-after" | head -5)"
by_two=$(grep -c 'was stored but not parsed by an earlier run' "$d/serve-two.log" || true)
by_three=$(grep -c 'was stored but not parsed by an earlier run' "$d/serve-three.log" || true)
released=$(cat "$d"/serve-*.log | grep -o '[0-9]* messages\? claimed by processes of this host that are gone' | awk '{ n += $1 } END { print n + 0 }')
[ "$released" = 8 ] || fail "$released claims of the gone process handed back, want 8"
[ $((by_two + by_three)) = 32 ] || fail "the daemons parsed $by_two + $by_three pending messages, want 32"
echo "32 messages left pending or claimed by a gone process: parsed once each ($by_two by one daemon, $by_three by the other); the claim held elsewhere kept; trips as before"
