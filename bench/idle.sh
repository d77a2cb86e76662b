#!/bin/bash
# bench/idle.sh [BUILDDIR]: the idle daemon. `serve` with one [imap] source
# (a private Dovecot, tests/dovecot.sh; IMAPS on 127.0.0.1, IDLE) and one
# [maildir] source, on a private MariaDB (tests/mariadb.sh), both with
# nothing to ingest. Once the daemon says READY=1 (it is given a
# NOTIFY_SOCKET), its resident memory (VmRSS of /proc/PID/status) is sampled
# every SAMPLE_SECONDS (default 5) over IDLE_SECONDS (default 300), for the
# daemon and its parsing worker separately and summed, and their CPU seconds
# (utime + stime of /proc/PID/stat) over that window are printed. One run
# (a five-minute window sampled 60 times says more than five short ones).
# With SMAPS=1 the resident memory of each mapping of both processes is
# printed at the end (/proc/PID/smaps). With AFTER_WORK=1 the daemon first
# ingests the corpus's messages (dropped into the maildir; the window starts
# once all are in cur/), so that the figure is that of a daemon that has
# parsed and written, not only started. A benchmark, not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/lib.sh"
build=${1:-$PWD}
idle=${IDLE_SECONDS:-300}
step=${SAMPLE_SECONDS:-5}
prog=$build/divemap-ingest
[ -x "$prog" ] || { echo "no $prog: give the build folder as the first argument" >&2; exit 2; }
need python3 python3
need mariadbd mariadb-server
need dovecot dovecot-imapd
tmp=$(mktemp -d /tmp/dmi.XXXXXX)
chmod 755 "$tmp"
serve_pid='' listen_pid=''
cleanup() {
	[ -z "$serve_pid" ] || kill "$serve_pid" 2>/dev/null || true
	[ -z "$listen_pid" ] || kill "$listen_pid" 2>/dev/null || true
	bash "$top/tests/dovecot.sh" stop "$tmp/imap" >/dev/null 2>&1 || true
	bash "$top/tests/mariadb.sh" stop "$tmp/db" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
eval "$(bash "$top/tests/mariadb.sh" start "$tmp/db")"
eval "$(bash "$top/tests/dovecot.sh" start "$tmp/imap")"
printf '%s\n' "$IMAP_PASSWORD" >"$tmp/imap-password"
mkdir -p "$tmp/maildir/new" "$tmp/maildir/cur" "$tmp/maildir/tmp"
{
	serve_conf "$MARIADB_DATABASE" INBOX
	printf '[maildir local]\npath = %s\n' "$tmp/maildir"
} >"$tmp/serve.conf"
DATABASE_URL="mysql://$MARIADB_USER:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT/$MARIADB_DATABASE" \
	"$prog" -q -c "$tmp/serve.conf" migrate upgrade head >/dev/null
mariadb --no-defaults -S "$MARIADB_SOCKET" -u root "$MARIADB_DATABASE" <"$top/tests/corpus/sites.sql"

# the notify socket: every datagram the daemon sends, one line each
python3 -u - "$tmp/notify" >"$tmp/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    print(s.recv(4096).decode(errors="replace").replace("\n", " "), flush=True)
PY
listen_pid=$!
for _ in $(seq 100); do grep -qs listening "$tmp/notify.log" && break; sleep 0.05; done
env -u DATABASE_URL NOTIFY_SOCKET="$tmp/notify" "$prog" -c "$tmp/serve.conf" serve 2>"$tmp/serve.log" &
serve_pid=$!
for _ in $(seq 600); do
	grep -qs 'READY=1' "$tmp/notify.log" && break
	kill -0 "$serve_pid" 2>/dev/null || break
	sleep 0.1
done
grep -qs 'READY=1' "$tmp/notify.log" || { echo "serve never said READY=1:" >&2; tail -20 "$tmp/serve.log" >&2; exit 1; }
children() { awk '{ print $1 }' "/proc/$serve_pid/task/$serve_pid/children"; }
worker_pid=$(children)
[ -n "$worker_pid" ] || { echo "serve runs no worker" >&2; exit 1; }
if [ "${AFTER_WORK:-0}" = 1 ]; then
	n_mail=0
	for f in "$top"/tests/corpus/messages/*.eml; do
		n_mail=$((n_mail + 1))
		cp "$f" "$tmp/maildir/tmp/$n_mail" && mv "$tmp/maildir/tmp/$n_mail" "$tmp/maildir/new/$n_mail"
	done
	for _ in $(seq 1200); do
		[ "$(find "$tmp/maildir/cur" -type f | wc -l)" -ge "$n_mail" ] && break
		sleep 0.1
	done
	[ "$(find "$tmp/maildir/cur" -type f | wc -l)" -ge "$n_mail" ] ||
		{ echo "serve did not ingest the $n_mail messages:" >&2; tail -20 "$tmp/serve.log" >&2; exit 1; }
	worker_pid=$(children) # a worker may have been replaced on the way
	echo "ingested first: $n_mail messages through the maildir source"
fi

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' "/proc/$1/stat"; }
machine
echo "serve: one [imap] source (IMAPS, Dovecot $(dovecot --version | cut -d' ' -f1)), one [maildir]" \
	"source, MariaDB $(mariadbd --version | awk '{ print $3 }'); daemon pid $serve_pid, worker pid $worker_pid;" \
	"idle ${idle} s, a sample every ${step} s"
cpu0_d=$(cpu "$serve_pid") cpu0_w=$(cpu "$worker_pid")
: >"$tmp/samples"
t0=$(date +%s)
while :; do
	kill -0 "$serve_pid" 2>/dev/null || { echo "serve died:" >&2; tail -20 "$tmp/serve.log" >&2; exit 1; }
	d=$(rss "$serve_pid") w=$(rss "$worker_pid" 2>/dev/null || echo 0)
	echo "$d $w $((d + w))" >>"$tmp/samples"
	[ $(($(date +%s) - t0)) -lt "$idle" ] || break
	sleep "$step"
done
cpu1_d=$(cpu "$serve_pid") cpu1_w=$(cpu "$worker_pid")
[ "$(children)" = "$worker_pid" ] ||
	echo "note: the worker was replaced during the window" >&2
n=$(wc -l <"$tmp/samples")
stat3() { # column: first, min, max, median in MB
	local c=$1
	awk -v c="$c" 'NR == 1 { print $c / 1024 }' "$tmp/samples"
	awk -v c="$c" '{ print $c }' "$tmp/samples" | sort -g | sed -n '1p;$p' | awk '{ print $1 / 1024 }'
	awk -v c="$c" '{ print $c }' "$tmp/samples" | median | awk '{ print $1 / 1024 }'
}
printf '%-14s %9s %9s %9s %9s %12s\n' "RSS (MB)" first min median max "CPU s"
for c in 1 2 3; do
	read -r first min max median <<<"$(stat3 "$c" | tr '\n' ' ')"
	case $c in
	1) name=daemon cs=$(awk -v a="$cpu0_d" -v b="$cpu1_d" 'BEGIN { printf "%.2f", b - a }') ;;
	2) name=worker cs=$(awk -v a="$cpu0_w" -v b="$cpu1_w" 'BEGIN { printf "%.2f", b - a }') ;;
	3) name="daemon+worker" cs=$(awk -v a="$cpu0_d" -v b="$cpu1_d" -v x="$cpu0_w" -v y="$cpu1_w" \
		'BEGIN { printf "%.2f", (b - a) + (y - x) }') ;;
	esac
	printf '%-14s %9.1f %9.1f %9.1f %9.1f %12s\n' "$name" "$first" "$min" "$median" "$max" "$cs"
done
echo "$n samples over $(($(date +%s) - t0)) s; CPU seconds: utime + stime over the window (ticks of 1/$(getconf CLK_TCK) s)"
for p in "$serve_pid" "$worker_pid"; do
	awk -v p="$p" '/^(Pss|Pss_Anon|Pss_File|Anonymous):/ { printf "%s%s %.1f MB", sep, $1, $2 / 1024; sep = ", " }
		END { print "  (pid " p ")" }' "/proc/$p/smaps_rollup"
done
if [ "${SMAPS:-0}" = 1 ]; then
	for p in "$serve_pid" "$worker_pid"; do
		echo "resident KiB by mapping, pid $p ($(tr '\0' ' ' <"/proc/$p/cmdline")):"
		awk '/^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "" ? "[anon]" : $6) }
			/^Rss:/ { rss[name] += $2 } /^Anonymous:/ { anon[name] += $2 }
			END { for (k in rss) if (rss[k]) printf "%8d %8d  %s\n", rss[k], anon[k], k }' \
			"/proc/$p/smaps" | sort -rn | sed 's/^/  /'
	done
fi
