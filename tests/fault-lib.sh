#!/bin/bash
# fault-lib.sh: what tests/fault-*.sh share (sourced). A private MariaDB
# (tests/mariadb.sh), a maildir of N distinct newsletters made from the test
# corpus, or the same in the INBOX of a private Dovecot (tests/dovecot.sh),
# `divemap-ingest serve` on it, and the checks of the end state.
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
	[ -n "${loader_pid:-}" ] && kill -KILL "$loader_pid" 2>/dev/null
	bash "$top_srcdir/tests/mariadb.sh" stop "$work/db" >/dev/null 2>&1 || true
	bash "$top_srcdir/tests/dovecot.sh" stop "$work/imap" >/dev/null 2>&1 || true
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

# make_maildir N [DIR [SUB]]: N messages in DIR/SUB ($work/md/new), each a
# corpus message with a Message-ID and a header of its own (distinct bytes,
# distinct ids), named by their number when SUB is not new.
make_maildir() {
	local md=${2:-$work/md}
	mkdir -p "$md/new" "$md/cur" "$md/tmp"
	python3 - "$top_srcdir/tests/corpus/messages" "$md" "$1" "${3:-new}" <<'PY'
import os, re, sys
src, md, n, sub = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
msgs = [open(os.path.join(src, f), 'rb').read() for f in sorted(os.listdir(src)) if f.endswith('.eml')]
for i in range(n):
    m = msgs[i % len(msgs)]
    mid = b'<fault-%d@divemap-ingest.test>' % i
    m, k = re.subn(rb'(?im)^message-id:[^\n]*\n(?:[ \t][^\n]*\n)*', b'Message-ID: ' + mid + b'\n', m, count=1)
    if not k:
        m = b'Message-ID: ' + mid + b'\n' + m
    m = b'X-Fault-Seq: %d\n' % i + m
    name = '%d.fault%05d.test' % (1700000000 + i, i) if sub == 'new' else str(i)
    open(os.path.join(md, 'tmp', name), 'wb').write(m)
    os.rename(os.path.join(md, 'tmp', name), os.path.join(md, sub, name))
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

# serve_wait_done SECONDS [N]: until new/ is empty (or, for IMAP, N
# messages are stored) and nothing is pending or being parsed (serve takes
# up what a killed run left); fails after SECONDS.
serve_wait_done() {
	local end=$((SECONDS + $1)) n
	while [ $SECONDS -lt $end ]; do
		if [ -n "${2:-}" ]; then
			n=$(($2 - $(sql 'SELECT COUNT(*) FROM ingest_messages' 2>/dev/null || echo 0)))
		else
			n=$(ls "$work/md/new" | wc -l)
		fi
		if [ "$n" -le 0 ] && [ "$(sql "SELECT COUNT(*) FROM ingest_messages WHERE status IN ('pending', 'parsing')" 2>/dev/null || echo x)" = 0 ]; then
			return 0
		fi
		kill -0 "$serve_pid" 2>/dev/null || { tail -20 "$work/serve.log"; fail "serve died"; }
		sleep 0.5
	done
	tail -20 "$work/serve.log"
	fail "not done after $1 s: $n messages left"
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
	if [ -d "$work/md" ]; then
		[ "$(ls "$work/md/new" | wc -l)" = 0 ] || fail "files left in new/"
		[ "$(ls "$work/md/cur" | wc -l)" = "$n" ] || fail "$(ls "$work/md/cur" | wc -l) files in cur/, want $n"
	fi
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

# ---- IMAP ----

# imap_start [P1 P2]: a private Dovecot in $work/imap (the same ports again
# when given); IMAP_* as tests/dovecot.sh sets them.
imap_start() {
	chmod 755 "$work"
	eval "$(bash "$top_srcdir/tests/dovecot.sh" start "$work/imap" "$@")"
	printf '%s\n' "$IMAP_PASSWORD" >"$work/imap-password"
}

# imap_kill9: Dovecot's master and every process it started, SIGKILL at once
imap_kill9() {
	local kids
	kids=$(grep -l "^PPid:[[:space:]]*$IMAP_PID\$" /proc/[0-9]*/status 2>/dev/null | cut -d/ -f3) || true
	kill -KILL "$IMAP_PID" $kids 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$IMAP_PID" 2>/dev/null || break; sleep 0.05; done
}

# make_inbox N: N messages (make_maildir) in the Dovecot user's INBOX, before
# Dovecot has seen them (it gives them UIDs 1..N in name order at first look)
make_inbox() {
	make_maildir "$1" "$IMAP_MAILDIR" cur
	chown -R mail:mail "$IMAP_MAILDIR"
}

write_conf_imap() {
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
[imap in]
host = $IMAP_HOST
port = $IMAPS_PORT
tls = implicit
user = $IMAP_USER
password_file = $work/imap-password
ca_file = $IMAP_CA
timeout = 10s
after = seen
CONF
}

# imap_py CODE ARGS...: python3 with `c`, a logged-in imaplib session on
# the plain port, and `mids(c)`, the Message-IDs of the INBOX by UID
imap_py() {
	local code=$1
	shift
	python3 - "$IMAP_HOST" "$IMAP_PORT" "$IMAP_USER" "$IMAP_PASSWORD" "$@" <<PY
import imaplib, re, sys
c = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]), timeout=10)
c.login(sys.argv[3], sys.argv[4])
def mids(c):
    c.select('INBOX', readonly=True)
    typ, data = c.uid('FETCH', '1:*', '(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])')
    out = {}
    for part in data:
        if isinstance(part, tuple):
            uid = int(re.search(rb'UID (\d+)', part[0]).group(1))
            m = re.search(rb'<[^>]*>', part[1])
            out[uid] = m.group(0).decode() if m else ''
    return out
$code
c.logout()
PY
}

# check_imap N: what Dovecot holds is what is stored, each exactly once, and
# the checkpoint (account, mailbox, UIDVALIDITY, last UID) says so
check_imap() {
	local n=$1 v uidvalidity
	imap_py '
m = mids(c)
typ, data = c.status("INBOX", "(UIDVALIDITY)")
print(re.search(rb"UIDVALIDITY (\d+)", data[0]).group(1).decode())
with open(sys.argv[5], "w") as f:
    for uid in sorted(m):
        f.write("%d\t%s\n" % (uid, m[uid]))
' "$work/inbox.tsv" >"$work/uidvalidity"
	uidvalidity=$(cat "$work/uidvalidity")
	[ "$(wc -l <"$work/inbox.tsv")" = "$n" ] || fail "the INBOX holds $(wc -l <"$work/inbox.tsv") messages, want $n"
	[ "$(cut -f2 "$work/inbox.tsv" | sort -u | wc -l)" = "$n" ] || fail "the INBOX holds a Message-ID twice"
	sql "SELECT CAST(SUBSTRING_INDEX(source_ref, '/', -1) AS UNSIGNED), message_id FROM ingest_messages ORDER BY 1" >"$work/stored.tsv"
	diff "$work/inbox.tsv" "$work/stored.tsv" >"$work/inbox.diff" ||
		fail "stored (UID, Message-ID) differ from the INBOX: $(head -5 "$work/inbox.diff")"
	v=$(sql "SELECT COUNT(*) FROM ingest_messages WHERE source <> 'imap' OR SUBSTRING_INDEX(SUBSTRING_INDEX(source_ref, '/', -2), '/', 1) <> '$uidvalidity'")
	[ "$v" = 0 ] || fail "$v messages stored with another UIDVALIDITY than the mailbox's $uidvalidity"
	v=$(sql "SELECT account, mailbox, uidvalidity, last_uid FROM ingest_checkpoints")
	[ "$v" = "$(printf '%s\t%s\t%s\t%s' "$IMAP_USER@$IMAP_HOST" INBOX "$uidvalidity" "$(tail -n 1 "$work/inbox.tsv" | cut -f1)")" ] ||
		fail "checkpoint '$v', want INBOX, UIDVALIDITY $uidvalidity, last UID $(tail -n 1 "$work/inbox.tsv" | cut -f1)"
	echo "IMAP: the INBOX's $n messages (UIDVALIDITY $uidvalidity) stored once each, by UID and Message-ID; checkpoint: $v"
}
