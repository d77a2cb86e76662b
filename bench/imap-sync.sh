#!/bin/bash
# bench/imap-sync.sh [BUILDDIR] [MESSAGES]: `serve` ingesting MESSAGES
# (default 10,000) distinct newsletters from one mailbox of a private
# Dovecot (tests/dovecot.sh; IMAPS on 127.0.0.1) into a private MariaDB
# (tests/mariadb.sh), timed from the start of the daemon to the moment the
# last message is committed and parsed (polled every 0.2 s), side by side
# with mbsync (Debian's isync) copying an identical fresh mailbox of the same
# server to a maildir in the same run. Each run uses mailboxes of its own,
# so that neither finds Dovecot's index of the other's mailbox warm. RUNS
# (default 5) runs, the median; our messages/s as a fraction of mbsync's.
# Serve's CPU seconds are the daemon's and its workers' (the live one's
# and the reaped ones'); RSS is the daemon's peak.
# A benchmark, not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/lib.sh"
build=${1:-$PWD}
count=${2:-10000}
runs=${RUNS:-5}
prog=$build/divemap-ingest
[ -x "$prog" ] || { echo "no $prog: give the build folder as the first argument" >&2; exit 2; }
need /usr/bin/time time
need python3 python3
need mariadbd mariadb-server
need dovecot dovecot-imapd
need mbsync isync
tmp=$(mktemp -d /tmp/dmb.XXXXXX)
chmod 755 "$tmp"
serve_pid=
cleanup() {
	[ -z "$serve_pid" ] || kill "$serve_pid" 2>/dev/null || true
	bash "$top/tests/dovecot.sh" stop "$tmp/imap" || true
	bash "$top/tests/mariadb.sh" stop "$tmp/db" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
eval "$(bash "$top/tests/mariadb.sh" start "$tmp/db")"
eval "$(bash "$top/tests/dovecot.sh" start "$tmp/imap")"
root() { mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -N -B "$@"; }
printf '%s\n' "$IMAP_PASSWORD" >"$tmp/imap-password"

# the messages, one file each, ready to be copied into a Maildir++ folder
corpus_mbox "${count}msg" "$tmp/in.mbox"
mkdir "$tmp/msgs"
python3 - "$tmp/in.mbox" "$tmp/msgs" <<'PY'
import re, sys
data = open(sys.argv[1], 'rb').read()
for i, m in enumerate(re.split(rb'(?m)(?<=\n\n)(?=From )', data)):
    body = m.split(b'\n', 1)[1].rstrip(b'\n') + b'\n'
    open('%s/%d.bench:2,' % (sys.argv[2], i), 'wb').write(re.sub(rb'(?m)^>(>*From )', rb'\1', body))
PY
folder() { # $1: a new IMAP folder holding every message
	local d=$IMAP_MAILDIR/.$1
	mkdir -p "$d/tmp" "$d/new" "$d/cur"
	cp "$tmp/msgs"/* "$d/cur/"
	chown -R mail:mail "$IMAP_MAILDIR"
}
new_db() {
	root -e "CREATE DATABASE \`$1\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		GRANT ALL ON \`$1\`.* TO '$MARIADB_USER'@'127.0.0.1', '$MARIADB_USER'@'localhost';"
	DATABASE_URL="mysql://$MARIADB_USER:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT/$1" \
		"$prog" -q -c "$tmp/conf" migrate upgrade head >/dev/null 2>&1 ||
		{ echo "migrate failed on $1" >&2; exit 1; }
	root "$1" <"$top/tests/corpus/sites.sql"
}
now() { date +%s%N; }

machine
echo "database: tests/mariadb.sh, innodb_flush_log_at_trx_commit=$(root -e 'SELECT @@innodb_flush_log_at_trx_commit');" \
	"IMAP: Dovecot $(dovecot --version | cut -d' ' -f1), IMAPS on 127.0.0.1; mbsync: $(mbsync --version)"
echo "input: $(ls "$tmp/msgs" | wc -l) messages, $(du -sb "$tmp/msgs" | cut -f1) bytes; runs: $runs per figure (median)"
: >"$tmp/runs"
for i in $(seq "$runs"); do
	folder "serve$i"
	folder "mbsync$i"
	printf '[database]\nmigrations_dir = %s/migrations\n[parser]\nrules_dir = %s\n' "$top" \
		"${RULES_DIR:-$top/rules}" >"$tmp/conf"
	new_db "run$i"
	serve_conf "run$i" "serve$i" >"$tmp/serve.conf"
	t0=$(now)
	env -u DATABASE_URL "$prog" -c "$tmp/serve.conf" serve 2>"$tmp/serve.log" &
	serve_pid=$!
	done_n=0 last_n=0 last_t=$t0
	while kill -0 "$serve_pid" 2>/dev/null; do
		done_n=$(root "run$i" -e "SELECT COUNT(*) FROM ingest_messages WHERE status NOT IN ('pending', 'parsing')" 2>/dev/null || echo 0)
		[ "$done_n" -ge "$count" ] && break
		[ "$done_n" = "$last_n" ] || { last_n=$done_n; last_t=$(now); }
		[ $(($(now) - last_t)) -lt 60000000000 ] || break # no progress for a minute
		sleep 0.2
	done
	t1=$(now)
	# user + system CPU of the daemon and its workers; its peak RSS
	ours_cpu=$(tree_cpu "$serve_pid")
	ours_rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$serve_pid/status")
	kill -TERM "$serve_pid" 2>/dev/null || true
	wait "$serve_pid" || true
	serve_pid=
	[ "$done_n" -ge "$count" ] || { echo "run $i: serve stopped after $done_n messages:" >&2; tail -20 "$tmp/serve.log" >&2; exit 1; }
	ours=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	root -e "DROP DATABASE \`run$i\`"
	echo "  run $i: serve ${ours}s (CPU ${ours_cpu}s, RSS ${ours_rss} KiB)" >&2
	mkdir -p "$tmp/mb$i"
	cat >"$tmp/mbsyncrc" <<RC
IMAPAccount bench
Host $IMAP_TLS_NAME
Port $IMAPS_PORT
User $IMAP_USER
Pass $IMAP_PASSWORD
SSLType IMAPS
CertificateFile $IMAP_CA

IMAPStore far
Account bench

MaildirStore near
Path $tmp/mb$i/
Inbox $tmp/mb$i/inbox

Channel bench
Far :far:mbsync$i
Near :near:
Sync Pull
Create Near
SyncState *
RC
	if ! timed "$tmp/mbsync.log" mbsync -q -c "$tmp/mbsyncrc" bench; then
		grep -v '^	' "$tmp/mbsync.log" >&2
		echo "run $i: mbsync failed; once more from an empty maildir" >&2
		rm -rf "$tmp/mb$i" && mkdir -p "$tmp/mb$i"
		timed "$tmp/mbsync.log" mbsync -q -c "$tmp/mbsyncrc" bench || { grep -v '^	' "$tmp/mbsync.log" >&2; exit 1; }
	fi
	floor=$WALL floor_cpu=$CPU
	got=$(find "$tmp/mb$i/inbox" -type f -path '*/cur/*' -o -type f -path '*/new/*' | wc -l)
	[ "$got" = "$count" ] || echo "run $i: mbsync copied $got messages" >&2
	rm -rf "$tmp/mb$i" "$IMAP_MAILDIR/.serve$i" "$IMAP_MAILDIR/.mbsync$i"
	echo "$ours $ours_cpu $ours_rss $floor $floor_cpu" >>"$tmp/runs"
	echo "  run $i: mbsync ${floor}s (CPU ${floor_cpu}s, $got messages)" >&2
done
col() { awk -v c="$1" '{ print $c }' "$tmp/runs" | median; }
printf '%-8s %9s %11s %6s %9s %11s %6s %9s\n' messages "serve s" messages/s "CPU s" "mbsync s" messages/s "CPU s" /mbsync
awk -v n="$count" -v s="$(col 1)" -v c="$(col 2)" -v f="$(col 4)" -v fc="$(col 5)" 'BEGIN {
	printf "%-8d %9.1f %11.0f %6.1f %9.2f %11.0f %6.2f %9.3f\n", n, s, n / s, c, f, n / f, fc, f / s
}'
