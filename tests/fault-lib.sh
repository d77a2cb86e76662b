#!/bin/bash
# fault-lib.sh: what tests/fault-*.sh share (sourced). A private MariaDB
# (tests/mariadb.sh), a maildir of N distinct newsletters made from the test
# corpus, `divemap-ingest serve` on it, and the checks of the end state.
# Needs top_srcdir and top_builddir (defaults: this tree, the current folder).
set -euo pipefail
: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${top_builddir:=$PWD}"
prog=$(cd "$top_builddir" && pwd)/divemap-ingest
[ -x "$prog" ] || { echo "build divemap-ingest first (top_builddir=$top_builddir)"; exit 2; }
work=$(mktemp -d /tmp/fault.XXXXXX)
serve_pid=
cleanup() {
	[ -n "$serve_pid" ] && kill -KILL "$serve_pid" 2>/dev/null
	bash "$top_srcdir/tests/mariadb.sh" stop "$work/db" >/dev/null 2>&1 || true
	[ -n "${FAULT_KEEP:-}" ] && { echo "kept $work"; return; }
	rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
sql() { mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -N -B "$MARIADB_DATABASE" -e "$1"; }

db_start() {
	eval "$(bash "$top_srcdir/tests/mariadb.sh" start "$work/db")"
}

# make_maildir N: N messages in $work/md/new, each a corpus message with a
# Message-ID and a header of its own (distinct bytes, distinct ids).
make_maildir() {
	mkdir -p "$work/md/new" "$work/md/cur" "$work/md/tmp"
	python3 - "$top_srcdir/tests/corpus/messages" "$work/md" "$1" <<'PY'
import os, re, sys
src, md, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
msgs = [open(os.path.join(src, f), 'rb').read() for f in sorted(os.listdir(src)) if f.endswith('.eml')]
for i in range(n):
    m = msgs[i % len(msgs)]
    mid = b'<fault-%d@divemap-ingest.test>' % i
    m, k = re.subn(rb'(?im)^message-id:[^\n]*\n(?:[ \t][^\n]*\n)*', b'Message-ID: ' + mid + b'\n', m, count=1)
    if not k:
        m = b'Message-ID: ' + mid + b'\n' + m
    m = b'X-Fault-Seq: %d\n' % i + m
    name = '%d.fault%05d.test' % (1700000000 + i, i)
    open(os.path.join(md, 'tmp', name), 'wb').write(m)
    os.rename(os.path.join(md, 'tmp', name), os.path.join(md, 'new', name))
PY
}

write_conf() {
	cat >"$work/conf" <<CONF
[database]
auto_migrate = yes
migrations_dir = $top_srcdir/migrations
connect_attempts = 1000
connect_retry_min = 200ms
connect_retry_max = 1s
connect_timeout = 2
[parser]
rules_dir = $top_srcdir/rules
[maildir in]
path = $work/md
CONF
}

serve_start() { # log to $work/serve.log (appended)
	"$prog" -c "$work/conf" --log-target=stderr serve >>"$work/serve.log" 2>&1 &
	serve_pid=$!
}

# serve_wait_done SECONDS: until new/ is empty and nothing is pending or
# being parsed (serve takes up what a killed run left); fails after SECONDS.
serve_wait_done() {
	local end=$((SECONDS + $1)) n
	while [ $SECONDS -lt $end ]; do
		n=$(ls "$work/md/new" | wc -l)
		if [ "$n" = 0 ] && [ "$(sql "SELECT COUNT(*) FROM ingest_messages WHERE status IN ('pending', 'parsing')" 2>/dev/null || echo x)" = 0 ]; then
			return 0
		fi
		kill -0 "$serve_pid" 2>/dev/null || { tail -20 "$work/serve.log"; fail "serve died"; }
		sleep 0.5
	done
	tail -20 "$work/serve.log"
	fail "not done after $1 s: $(ls "$work/md/new" | wc -l) files left in new/"
}

serve_stop() {
	kill -TERM "$serve_pid"
	wait "$serve_pid" || true
	serve_pid=
}

# check_end N: every message stored exactly once and acked; each parsed
# completely (status, newsletter, parse log row), none left pending; no trip without its newsletter, no dive without its trip, no trip
# written twice, copies of one corpus message with the same trips.
check_end() {
	local n=$1 v
	v=$(sql "SELECT COUNT(*), COUNT(DISTINCT sha256), COUNT(DISTINCT message_id) FROM ingest_messages")
	[ "$v" = "$(printf '%s\t%s\t%s' "$n" "$n" "$n")" ] || fail "messages stored (rows, sha256, Message-IDs): $v, want $n each"
	[ "$(ls "$work/md/new" | wc -l)" = 0 ] || fail "files left in new/"
	[ "$(ls "$work/md/cur" | wc -l)" = "$n" ] || fail "$(ls "$work/md/cur" | wc -l) files in cur/, want $n"
	# complete, or pending (stored, its parse not begun or rolled back)
	v=$(sql "SELECT COUNT(*) FROM ingest_messages WHERE status NOT IN ('parsed', 'no_trips', 'partial', 'failed', 'pending')")
	[ "$v" = 0 ] || fail "$v messages half-parsed"
	v=$(sql "SELECT COUNT(*) FROM ingest_messages m WHERE status <> 'pending' AND (m.newsletter_id IS NULL OR NOT EXISTS (SELECT 1 FROM ingest_parse_log l WHERE l.message_id = m.id))")
	[ "$v" = 0 ] || fail "$v parsed messages without a newsletter or a parse log row"
	v=$(sql "SELECT COUNT(*) FROM ingest_messages m JOIN parsed_dive_trips t ON t.source_newsletter_id = m.newsletter_id WHERE m.status = 'pending'")
	[ "$v" = 0 ] || fail "$v trips of messages still pending (half-written)"
	pending=$(sql "SELECT COUNT(*) FROM ingest_messages WHERE status = 'pending'")
	[ "$pending" = 0 ] || fail "$pending messages left pending (stored, never parsed)"
	v=$(sql "SELECT COUNT(*) FROM parsed_dive_trips t LEFT JOIN ingest_messages m ON m.newsletter_id = t.source_newsletter_id WHERE m.id IS NULL")
	[ "$v" = 0 ] || fail "$v trips without an ingested newsletter"
	v=$(sql "SELECT COUNT(*) FROM parsed_dives d LEFT JOIN parsed_dive_trips t ON t.id = d.trip_id WHERE t.id IS NULL")
	[ "$v" = 0 ] || fail "$v orphan dives"
	v=$(sql "SELECT COUNT(*) FROM (SELECT source_newsletter_id, trip_date, trip_time, COUNT(*) c FROM parsed_dive_trips GROUP BY source_newsletter_id, trip_date, trip_time, trip_description HAVING c > 1) x")
	[ "$v" = 0 ] || fail "$v trips written twice"
	# the same messages give the same trips: per corpus message, every copy
	# has as many trips as the others
	v=$(sql "SELECT COUNT(*) FROM (SELECT m.subject, COUNT(DISTINCT (SELECT COUNT(*) FROM parsed_dive_trips t WHERE t.source_newsletter_id = m.newsletter_id)) k FROM ingest_messages m WHERE m.status <> 'pending' GROUP BY m.subject HAVING k > 1) x")
	[ "$v" = 0 ] || fail "$v corpus messages whose copies got different numbers of trips"
	echo "end state: $n messages stored once, $((n - pending)) parsed, $pending pending, $(sql 'SELECT COUNT(*) FROM parsed_dive_trips') trips, $(sql 'SELECT COUNT(*) FROM parsed_dives') dives, no orphan, no duplicate"
}

# setup_db: the schema, and the corpus's dive sites and centers to resolve against
setup_db() {
	db_start
	"$prog" -c "$work/conf" -q migrate upgrade head
	mariadb --no-defaults -S "$MARIADB_SOCKET" -u root "$MARIADB_DATABASE" <"$top_srcdir/tests/corpus/sites.sql"
}
