#!/bin/bash
# bench/push-latency.sh [BUILDDIR] [MESSAGES]: push latency of `serve` idling
# on an IMAP mailbox: a private Dovecot (tests/dovecot.sh; IMAPS on
# 127.0.0.1 with the test CA) and a private MariaDB (tests/mariadb.sh, every
# commit durable). MESSAGES (default 200; or COUNT) newsletters of the corpus,
# each with a Message-ID of its own, are APPENDed one at a time by a client
# of this script; the next only once the previous is committed and GAP
# seconds (default 0.2) have passed, so that every message is a push of its
# own to a daemon back in IDLE.
#
# Per message, all on one clock (CLOCK_REALTIME, nanoseconds):
#   ok         APPEND's tagged OK received (the message is in the mailbox);
#   exists     the untagged EXISTS reaching a plain IDLE client of the same
#              mailbox, connected beside the daemon: Dovecot's own notify
#              delay (it waits 0.5 s after a change before it tells IDLE
#              clients, by design);
#   fetched    the daemon's STATUS=working (sd_notify, right after it has
#              fetched the message), stamped by the kernel on receipt
#              (SO_TIMESTAMPNS on the NOTIFY_SOCKET this script listens on);
#   stored     the ingest_messages row first visible (status pending);
#   committed  the row visible with its final status: the writer's
#              transaction committed, as tests/itest-imap-serve checks.
# stored and committed come from one `mariadb` client polling every 2 ms
# (a query takes about 0.3 ms), stamped when the query that first sees the
# row is sent: exact to about 2.5 ms.
#   total = committed - ok;  dovecot = exists - ok;  ours = total - dovecot
# (paired, per message). Percentiles by nearest rank over the MESSAGES of a
# run; RUNS (default 5) runs, each with a new mailbox, database and daemon;
# the figures printed are the medians of the runs'. A benchmark, not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/lib.sh"
build=${1:-$PWD}
count=${2:-${COUNT:-200}}
runs=${RUNS:-5}
gap=${GAP:-0.2}
prog=$build/divemap-ingest
[ -x "$prog" ] || { echo "no $prog: give the build folder as the first argument" >&2; exit 2; }
need python3 python3
need mariadbd mariadb-server
need dovecot dovecot-imapd
tmp=$(mktemp -d /tmp/dpl.XXXXXX) # Dovecot wants a short path with o+x above it
chmod 755 "$tmp"
cleanup() {
	bash "$top/tests/dovecot.sh" stop "$tmp/imap" || true
	bash "$top/tests/mariadb.sh" stop "$tmp/db" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
eval "$(bash "$top/tests/mariadb.sh" start "$tmp/db")"
eval "$(bash "$top/tests/dovecot.sh" start "$tmp/imap")"
root() { mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -N -B "$@"; }
printf '%s\n' "$IMAP_PASSWORD" >"$tmp/imap-password"
printf '[database]\nmigrations_dir = %s/migrations\n' "$top" >"$tmp/migrate.conf"

new_db() {
	root -e "CREATE DATABASE \`$1\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		GRANT ALL ON \`$1\`.* TO '$MARIADB_USER'@'127.0.0.1', '$MARIADB_USER'@'localhost';"
	DATABASE_URL="mysql://$MARIADB_USER:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT/$1" \
		"$prog" -q -c "$tmp/migrate.conf" migrate upgrade head >/dev/null 2>&1 ||
		{ echo "migrate failed on $1" >&2; exit 1; }
	root "$1" <"$top/tests/corpus/sites.sql"
}

# the client: APPENDs, the IDLE observer, the notify socket, the poller
cat >"$tmp/client.py" <<'PY'
import imaplib, math, os, re, socket, ssl, struct, subprocess, sys, threading, time

prog, conf, folder, db, count, gap, out, log = sys.argv[1:9]
count, gap = int(count), float(gap)
env = os.environ
files = sorted(os.path.join(sys.argv[9], f) for f in os.listdir(sys.argv[9]) if f.endswith('.eml'))
now = time.time_ns
SO_TIMESTAMPNS = 35  # = SCM_TIMESTAMPNS (asm-generic/socket.h)

def die(why):
    print(why, file=sys.stderr)
    sys.exit(1)

def imap():
    ctx = ssl.create_default_context(cafile=env['IMAP_CA'])
    m = imaplib.IMAP4_SSL(env['IMAP_HOST'], int(env['IMAPS_PORT']), ssl_context=ctx)
    m.login(env['IMAP_USER'], env['IMAP_PASSWORD'])
    return m

# the daemon's notify socket: every datagram with the kernel's receipt time
notes, stop = [], threading.Event()
ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
ns.bind(os.path.join(os.path.dirname(out), 'notify.sock'))
ns.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
ns.settimeout(0.2)
def read_notes():
    while not stop.is_set():
        try:
            data, anc, _, _ = ns.recvmsg(4096, socket.CMSG_SPACE(16))
        except socket.timeout:
            continue
        t = now()
        for level, kind, val in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack('qq', val[:16])
                t = sec * 10**9 + nsec
        notes.append((t, data.decode(errors='replace')))
threading.Thread(target=read_notes, daemon=True).start()

# the appending client, the mailbox, and the IDLE observer
app = imap()
typ, data = app.create(folder)
if typ != 'OK':
    die('CREATE %s: %s' % (folder, data))
obs = imap()
obs.select(folder)
exists, idling, done = {}, threading.Event(), threading.Event()
def observe():
    try:
        while True:
            line = obs.readline()
            if not line:
                return
            m = re.match(rb'\* (\d+) EXISTS', line)
            if m:
                exists.setdefault(int(m.group(1)), now())
            elif line.startswith(b'+'):
                idling.set()
            elif line.startswith(b'i '):
                done.set()
    except (OSError, ValueError):
        pass
threading.Thread(target=observe, daemon=True).start()
def reidle():
    """A fresh IDLE: Dovecot starts its 0.5 s notify delay at the first change
    it sees in the mailbox, the daemon's own reading of the previous message
    included; a new IDLE drops that timer."""
    if idling.is_set():
        done.clear()
        obs.send(b'DONE\r\n')
        if not done.wait(10):
            die('the observer: no reply to DONE')
    idling.clear()
    obs.send(b'i IDLE\r\n')
    if not idling.wait(10):
        die('the observer could not IDLE')

# the database, polled through one client
poller = subprocess.Popen(['mariadb', '--no-defaults', '-S', env['MARIADB_SOCKET'], '-u', 'root',
                           '-N', '-B', '-n', db], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          bufsize=0)
QUERY = (b"SELECT COUNT(*), COALESCE(SUM(status NOT IN ('pending', 'parsing')), 0) "
         b"FROM ingest_messages;\n")
def poll():
    poller.stdin.write(QUERY)
    a, b = poller.stdout.readline().split()
    return int(a), int(b)

# the daemon
denv = {k: v for k, v in env.items() if k != 'DATABASE_URL'}
denv['NOTIFY_SOCKET'] = ns.getsockname()
daemon = subprocess.Popen([prog, '-c', conf, '--log-target=stderr', 'serve'], env=denv,
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=open(log, 'wb'))
t_end = time.monotonic() + 60
while not any('READY=1' in n for _, n in notes):
    if daemon.poll() is not None or time.monotonic() > t_end:
        die('serve did not get ready (exit %s); its log: %s' % (daemon.returncode, log))
    time.sleep(0.01)
time.sleep(1)  # into IDLE

def probe(path, i):
    raw = open(path, 'rb').read()
    tag = b'push-%s-%d.' % (folder.encode(), i)
    raw, n = re.subn(rb'(?mi)^(Message-ID:[ \t]*<)', rb'\g<1>' + tag, raw, count=1)
    if n == 0:
        raw = b'Message-ID: <' + tag + b'probe@bench.invalid>\n' + raw
    return b'X-Latency-Probe: %d\n' % i + raw

rows = []
for i in range(count):
    msg = probe(files[i % len(files)], i)
    reidle()
    t_send = now()
    typ, data = app.append(folder, None, None, msg)
    t_ok = now()
    if typ != 'OK':
        die('APPEND %d: %s' % (i, data))
    stored = committed = None
    deadline = t_ok + 30 * 10**9
    while committed is None:
        t = now()
        n_rows, n_done = poll()
        if stored is None and n_rows > i:
            stored = t
        if n_done > i:
            committed = t
        elif t > deadline:
            die('message %d: no committed row after 30 s; the daemon log: %s' % (i, log))
        else:
            time.sleep(0.002)
    while i + 1 not in exists and now() < deadline:
        time.sleep(0.002)
    fetched = next((t for t, n in notes if t > t_ok and 'STATUS=working' in n), None)
    rows.append((i, t_send, t_ok, exists.get(i + 1), fetched, stored, committed))
    notes[:] = [x for x in notes if x[0] > committed]
    time.sleep(gap)

# the CPU seconds of the daemon and its workers (live and reaped) for the run
cpu = 0
for p in os.listdir('/proc'):
    try:
        pid, rest = open('/proc/%s/stat' % p).read().rsplit(')', 1)
    except (OSError, ValueError):
        continue
    f = rest.split()
    if int(pid.split()[0]) == daemon.pid or int(f[1]) == daemon.pid:
        cpu += sum(int(x) for x in f[11:15]) / os.sysconf('SC_CLK_TCK')
daemon.terminate()
daemon.wait(30)
stop.set()
poller.stdin.close()
poller.wait()
try:  # the observer thread is in a read: end it first
    obs.sock.shutdown(socket.SHUT_RDWR)
    obs.shutdown()
except OSError:
    pass
app.logout()

with open(out, 'w') as f:
    f.write('# i send ok exists fetched stored committed (ns, CLOCK_REALTIME)\n')
    for r in rows:
        f.write(' '.join('nan' if v is None else str(v) for v in r) + '\n')

def ms(a, b):
    return (b - a) / 1e6 if a is not None and b is not None else math.nan
def pct(v, p):  # nearest rank
    v = sorted(x for x in v if not math.isnan(x))
    return v[max(0, math.ceil(p * len(v)) - 1)] if v else math.nan
total = [ms(r[2], r[6]) for r in rows]
dove = [ms(r[2], r[3]) for r in rows]
ours = [a - b for a, b in zip(total, dove)]
fetch = [ms(r[2], r[4]) for r in rows]
store = [ms(r[4], r[5]) for r in rows]
commit = [ms(r[5], r[6]) for r in rows]
appended = [ms(r[1], r[2]) for r in rows]
missing = sum(math.isnan(x) for x in dove + fetch)
# p50 p99 max of: total, dovecot, ours, fetched, fetched->stored,
# stored->committed, APPEND round trip; then CPU s, unmatched stamps
fig = []
for v in (total, dove, ours, fetch, store, commit, appended):
    fig += [pct(v, 0.5), pct(v, 0.99), pct(v, 1)]
fig += [cpu, missing]
print(' '.join('%.3f' % x for x in fig))
PY

machine
echo "database: tests/mariadb.sh, innodb_flush_log_at_trx_commit=$(root -e 'SELECT @@innodb_flush_log_at_trx_commit');" \
	"IMAP: Dovecot $(dovecot --version | cut -d' ' -f1), IMAPS on 127.0.0.1"
echo "$count messages a run, one at a time, $gap s apart after each commit; runs: $runs (median of the runs' figures)"
: >"$tmp/runs"
for i in $(seq "$runs"); do
	new_db "run$i"
	serve_conf "run$i" "push$i" >"$tmp/serve.conf"
	rm -f "$tmp/notify.sock"
	# the mailbox must exist before the daemon selects it: the client creates
	# it, then starts the daemon
	python3 "$tmp/client.py" "$prog" "$tmp/serve.conf" "push$i" "run$i" "$count" "$gap" \
		"$tmp/times$i" "$tmp/serve$i.log" "$top/tests/corpus/messages" >>"$tmp/runs" ||
		{ tail -20 "$tmp/serve$i.log" >&2; exit 1; }
	tail -1 "$tmp/runs" | awk -v i="$i" '{
		printf "  run %d: total p50 %.0f p99 %.0f max %.0f ms; Dovecot p50 %.0f p99 %.0f ms;" \
			" ours p50 %.0f p99 %.0f max %.0f ms; daemon CPU %.2f s\n", i, $1, $2, $3, $4, $5, $7, $8, $9, $22
		if ($23 > 0) printf "  run %d: %d stamps missing\n", i, $23
	}' >&2
	[ -z "${KEEP_TIMES:-}" ] || cp "$tmp/times$i" "$KEEP_TIMES.$i"
	root -e "DROP DATABASE \`run$i\`"
done
col() { awk -v c="$1" '{ print $c }' "$tmp/runs" | median; }
row() { printf '%-30s %8.1f %8.1f %8.1f\n' "$1" "$(col "$2")" "$(col $(($2 + 1)))" "$(col $(($2 + 2)))"; }
printf '%-30s %8s %8s %8s\n' "from APPEND's OK to (ms)" p50 p99 max
row "committed row (total)" 1
row "the IDLE client's EXISTS" 4
row "ours (total - EXISTS)" 7
row "the daemon fetched it" 10
echo "the daemon's steps (ms):"
row "  fetched -> row stored" 13
row "  stored -> row committed" 16
row "APPEND's round trip (ms)" 19
echo "daemon CPU: $(col 22) s a run of $count messages (its own and its workers')"
