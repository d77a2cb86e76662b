#!/bin/bash
# Secrets: a known database password, given in DATABASE_URL and in a
# password_file, never shows in what parse and migrate print (stderr and
# stdout, debug level), whether the connection works, is refused (closed
# port) or is denied (wrong password); and the worker process gets neither
# the password nor DATABASE_URL in its environment or its argv.
# Needs the private MariaDB of tests/run-test.
set -euo pipefail
: "${MARIADB_SOCKET:?run this test through tests/run-test}"
: "${top_srcdir:?}" "${top_builddir:?}"
prog=$top_builddir/divemap-ingest
mbox=$top_srcdir/tests/corpus/all.mbox
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
sql() { mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -N -B "$MARIADB_DATABASE" -e "$1"; }

# passwords no log line would hold by chance; the wrong one too
pw='Xq7-sEcReT-pw-41r9'
pw_file='Zk3-FiLe-SeCrEt-88m'
pw_wrong='Wr0ng-SeCrEt-pw-5t2'
sql "CREATE USER 'sec'@'localhost' IDENTIFIED BY '$pw';
     CREATE USER 'secf'@'localhost' IDENTIFIED BY '$pw_file';
     GRANT ALL ON \`$MARIADB_DATABASE\`.* TO 'sec'@'localhost';
     GRANT ALL ON \`$MARIADB_DATABASE\`.* TO 'secf'@'localhost'"
sock=$MARIADB_SOCKET
db=$MARIADB_DATABASE

conf() { # $1: file, $2: extra [database] lines
	cat >"$1" <<CONF
[database]
migrations_dir = $top_srcdir/migrations
connect_attempts = 2
connect_retry_min = 50ms
connect_retry_max = 100ms
connect_timeout = 2
$2
[parser]
rules_dir = $top_srcdir/rules
CONF
}
conf "$tmp/plain.conf" ""
printf '%s\n' "$pw_file" >"$tmp/pwfile"
printf '%s\n' "$pw_wrong" >"$tmp/pwfile-wrong"
chmod 600 "$tmp/pwfile" "$tmp/pwfile-wrong"
conf "$tmp/file.conf" "url = mysql://secf@localhost/$db?unix_socket=$sock
password_file = $tmp/pwfile"
conf "$tmp/file-wrong.conf" "url = mysql://secf@localhost/$db?unix_socket=$sock
password_file = $tmp/pwfile-wrong"
conf "$tmp/file-closed.conf" "url = mysql://secf@127.0.0.1:1/$db
password_file = $tmp/pwfile"

n=0
# run NAME EXPECT(ok|fail) [env...] -- args: runs, checks the exit status
# and that no password is in its output
run() {
	local name=$1 expect=$2 rc=0
	shift 2
	env "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
	n=$((n + 1))
	if [ "$expect" = ok ] && [ "$rc" != 0 ]; then
		cat "$tmp/$name.err"
		fail "$name: exited $rc"
	fi
	if [ "$expect" = fail ] && [ "$rc" = 0 ]; then
		fail "$name: should have failed"
	fi
	for secret in "$pw" "$pw_file" "$pw_wrong"; do
		if grep -a -F -q -- "$secret" "$tmp/$name.out" "$tmp/$name.err"; then
			grep -a -F -- "$secret" "$tmp/$name.out" "$tmp/$name.err" | head -3
			fail "$name: a password is in the output"
		fi
	done
	printf '%-22s exit %-3s %5s bytes of stderr, no password\n' "$name" "$rc" \
		"$(wc -c <"$tmp/$name.err")"
}

url="mysql://sec:$pw@localhost/$db?unix_socket=$sock"
url_wrong="mysql://sec:$pw_wrong@localhost/$db?unix_socket=$sock"
url_closed="mysql://sec:$pw@127.0.0.1:1/$db"

# DATABASE_URL: works, wrong password, closed port
run migrate-url ok DATABASE_URL="$url" "$prog" -vv -c "$tmp/plain.conf" migrate upgrade head
run migrate-current ok DATABASE_URL="$url" "$prog" -vv -c "$tmp/plain.conf" migrate current
run parse-url ok DATABASE_URL="$url" "$prog" -vv -c "$tmp/plain.conf" parse "$mbox"
run migrate-url-denied fail DATABASE_URL="$url_wrong" "$prog" -vv -c "$tmp/plain.conf" migrate current
run parse-url-denied fail DATABASE_URL="$url_wrong" "$prog" -vv -c "$tmp/plain.conf" parse "$mbox"
run migrate-url-closed fail DATABASE_URL="$url_closed" "$prog" -vv -c "$tmp/plain.conf" migrate current
run parse-url-closed fail DATABASE_URL="$url_closed" "$prog" -vv -c "$tmp/plain.conf" parse "$mbox"
# a URL that does not parse: the reason must not quote it
run parse-url-bad fail DATABASE_URL="mysql://sec:$pw@[::1/$db" "$prog" -vv -c "$tmp/plain.conf" parse "$mbox"

# password_file: works, wrong password, closed port
run migrate-file ok -u DATABASE_URL "$prog" -vv -c "$tmp/file.conf" migrate current
run parse-file ok -u DATABASE_URL "$prog" -vv -c "$tmp/file.conf" parse "$mbox"
run parse-file-denied fail -u DATABASE_URL "$prog" -vv -c "$tmp/file-wrong.conf" parse "$mbox"
run migrate-file-denied fail -u DATABASE_URL "$prog" -vv -c "$tmp/file-wrong.conf" migrate current
run parse-file-closed fail -u DATABASE_URL "$prog" -vv -c "$tmp/file-closed.conf" parse "$mbox"

# The worker while it runs: parse reads a message from a pipe that stays
# open, so the worker is alive and can be looked at.
mkfifo "$tmp/fifo"
DATABASE_URL="$url" "$prog" -c "$tmp/plain.conf" parse - <"$tmp/fifo" >"$tmp/live.out" 2>"$tmp/live.err" &
pid=$!
exec 3>"$tmp/fifo"
cat "$top_srcdir/tests/corpus/messages/$(ls "$top_srcdir/tests/corpus/messages" | head -n 1)" >&3
worker=
for _ in $(seq 100); do
	for c in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
		tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null | grep -q worker && worker=$c
	done
	[ -n "$worker" ] && break
	sleep 0.1
done
if [ -z "$worker" ]; then
	exec 3>&-
	wait "$pid" || true
	cat "$tmp/live.err"
	fail "no worker process seen under parse (pid $pid)"
fi
tr '\0' '\n' <"/proc/$worker/environ" >"$tmp/worker.env" || fail "cannot read the worker's environment"
tr '\0' ' ' <"/proc/$worker/cmdline" >"$tmp/worker.argv"
# the parent itself has DATABASE_URL: the check below is meaningful
tr '\0' '\n' <"/proc/$pid/environ" | grep -q '^DATABASE_URL=' || fail "the test did not give parse DATABASE_URL"
exec 3>&-
wait "$pid" || fail "parse - exited $?"
pid=
grep -q '^DATABASE_URL=' "$tmp/worker.env" && fail "the worker's environment holds DATABASE_URL"
grep -a -F -q -- "$pw" "$tmp/worker.env" "$tmp/worker.argv" && fail "the worker's environment or argv holds the password"
echo "worker $worker: argv '$(cat "$tmp/worker.argv")', environment $(wc -l <"$tmp/worker.env") variables ($(cut -d= -f1 "$tmp/worker.env" | tr '\n' ' ')), no DATABASE_URL, no password"
echo "PASS: $n runs and the live worker, no password anywhere"
