#!/bin/bash
# fault-imap.sh [MODE] [N] [RATE]: `divemap-ingest serve` on the INBOX of a private
# Dovecot (IMAPS, its CA file), against a private MariaDB.
#   MODE kill9 (default, N 2,000): the messages are in the INBOX before the
#        start; serve is killed with SIGKILL 20 times at random moments while
#        it ingests, then one clean run.
#   MODE dovecot-kill9 (N 400): serve is up and IDLE; a client APPENDs N
#        messages, RATE (20) a second; 5 s in, Dovecot (its master and every process
#        it started) is killed with SIGKILL, and started again 3 s later on
#        the same ports and mail; the client finishes (an APPEND cut off is
#        looked up and made again only when it did not land).
# Asserts, at the end: the INBOX and the stored messages are the same set
# (UID and Message-ID), each stored exactly once; every message parsed; no
# orphan trip or dive (fault-lib.sh check_end); the checkpoint (mailbox,
# UIDVALIDITY, last UID) is that of the INBOX. Prints what was sent, stored,
# duplicated and lost. Not part of make check (a minute or two each):
#   top_srcdir=SRC bash SRC/tests/fault-imap.sh [kill9|dovecot-kill9]
source "$(dirname "$0")/fault-lib.sh"
mode=${1:-kill9}
loader_pid=

figures() { # $1: sent
	local stored distinct
	stored=$(sql 'SELECT COUNT(*) FROM ingest_messages')
	distinct=$(sql 'SELECT COUNT(DISTINCT message_id) FROM ingest_messages')
	echo "figures: $1 sent, $stored stored, $((stored - distinct)) duplicates, $(($1 - distinct)) lost"
}

run_kill9() {
	local n=$1 kills=20 workers w
	imap_start
	write_conf_imap
	make_inbox "$n"
	setup_db
	t0=$(now)
	for i in $(seq "$kills"); do
		serve_start
		# TLS, login and the first batch take about 0.3 s here
		sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.4 + 1.2 * r / 32767 }')"
		workers=$(cat /proc/"$serve_pid"/task/*/children 2>/dev/null || true)
		kill -KILL "$serve_pid" 2>/dev/null || true
		wait "$serve_pid" 2>/dev/null || true
		serve_pid=
		for w in $workers; do
			for _ in $(seq 50); do kill -0 "$w" 2>/dev/null || break; sleep 0.1; done
			kill -0 "$w" 2>/dev/null && fail "worker $w outlived the killed daemon by 5 s"
		done
		echo "kill $i: $(sql 'SELECT COUNT(*) FROM ingest_messages') stored," \
			"$(sql "SELECT COUNT(*) FROM ingest_messages WHERE status IN ('pending', 'parsing')") pending or parsing," \
			"checkpoint last UID $(sql 'SELECT IFNULL(MAX(last_uid), 0) FROM ingest_checkpoints')"
	done
	serve_start
	serve_wait_done 600 "$n"
	serve_stop
	t1=$(now)
	figures "$n"
	check_end "$n"
	check_imap "$n"
	echo "error lines in the log: $(grep -c -i 'error' "$work/serve.log" || true)"
	awk -v a="$t0" -v b="$t1" -v k="$kills" -v n="$n" 'BEGIN { printf "PASS: %d messages over IMAP, %d kills -9, then a clean run: %.0f s\n", n, k, b - a }'
}

# load N RATE: APPENDs $work/load/0..N-1 at RATE a second, riding out a
# server that goes away; writes "appended I" lines to $work/load.log
load() {
	python3 - "$IMAP_HOST" "$IMAP_PORT" "$IMAP_USER" "$IMAP_PASSWORD" "$work/load" "$1" "$2" <<'PY' >"$work/load.log" 2>&1
import imaplib, sys, time
host, port, user, pw, src, n, rate = sys.argv[1:8]
port, n, rate = int(port), int(n), float(rate)
def connect():
    while True:
        try:
            c = imaplib.IMAP4(host, port, timeout=5)
            c.login(user, pw)
            c.select('INBOX')
            return c
        except Exception:
            time.sleep(0.2)
def landed(c, mid):
    typ, data = c.uid('SEARCH', 'HEADER', 'Message-ID', mid)
    return typ == 'OK' and bool(data[0].split())
c = connect()
t0, i, unsure, retried = time.time(), 0, False, 0
while i < n:
    msg = open('%s/%d' % (src, i), 'rb').read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
    mid = '<fault-%d@divemap-ingest.test>' % i
    try:
        if not (unsure and landed(c, mid)):
            typ, _ = c.append('INBOX', None, None, msg)
            if typ != 'OK':
                raise RuntimeError(typ)
        print('appended %d%s' % (i, ' (after a cut)' if unsure else ''), flush=True)
        i, unsure = i + 1, False
    except Exception as e:
        print('cut at %d: %s' % (i, e), flush=True)
        unsure, retried = True, retried + 1
        c = connect()
        continue
    time.sleep(max(0, t0 + i / rate - time.time()))
print('done: %d appended, %d cuts' % (n, retried), flush=True)
PY
}

run_dovecot_kill9() {
	local n=$1 rate=$2 p1 p2 at_kill t_up
	imap_start
	p1=$IMAP_PORT p2=$IMAPS_PORT
	write_conf_imap
	make_maildir "$n" "$work/load" cur
	mv "$work/load/cur"/* "$work/load/"
	setup_db
	t0=$(now)
	serve_start
	for _ in $(seq 300); do grep -q 'ready: ' "$work/serve.log" && break; sleep 0.1; done
	grep -q 'ready: ' "$work/serve.log" || fail "serve not ready in 30 s"
	load "$n" "$rate" &
	loader_pid=$!
	sleep 5
	at_kill=$(grep -c '^appended' "$work/load.log" || true)
	imap_kill9
	echo "Dovecot killed -9 with $at_kill appended ($rate a second), $(sql 'SELECT COUNT(*) FROM ingest_messages') stored"
	sleep 3
	imap_start "$p1" "$p2"
	t_up=$(now)
	echo "Dovecot up again (pid $IMAP_PID) after 3 s"
	wait "$loader_pid" || fail "the APPEND client failed: $(tail -3 "$work/load.log")"
	loader_pid=
	tail -n 1 "$work/load.log"
	grep '^cut' "$work/load.log" | head -3 || true
	serve_wait_done 300 "$n"
	kill -0 "$serve_pid" || fail "serve exited"
	t1=$(now)
	serve_stop
	figures "$n"
	check_end "$n"
	check_imap "$n"
	echo "log: $(grep -c 'retrying with back-off' "$work/serve.log" || true) line(s) when the source failed, $(grep -c 'working again' "$work/serve.log" || true) when it worked again"
	awk -v a="$t0" -v u="$t_up" -v b="$t1" -v n="$n" 'BEGIN { printf "PASS: %d messages APPENDed, Dovecot killed -9 mid-IDLE and back 3 s later: all stored %.1f s after its return, %.0f s in all\n", n, b - u, b - a }'
}

case $mode in
kill9) run_kill9 "${2:-2000}" ;;
dovecot-kill9) run_dovecot_kill9 "${2:-400}" "${3:-20}" ;;
*) echo "usage: $0 [kill9|dovecot-kill9] [N] [RATE]"; exit 2 ;;
esac
