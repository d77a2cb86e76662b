# bench/lib.sh: shared helpers of the bench/*.sh scripts (sourced, not run).
# shellcheck shell=bash disable=SC2034,SC2154  # sets WALL CPU RSS for the caller; $top is the caller's

# need CMD PACKAGE: installs the Debian package that provides CMD when CMD is
# missing (benchmarks install their own tools; they are not part of the tests).
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "installing $2 (for $1)" >&2
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1; then
		apt-get update -q >/dev/null 2>&1 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null ||
			{ echo "cannot install $2: install it and retry" >&2; exit 2; }
	fi
}

# median: the median of the numbers on standard input, one a line.
median() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2
	}'
}

# machine: one line naming the machine and its load right now.
machine() {
	printf 'machine: %s cores, %s; load average %s\n' "$(nproc)" \
		"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
		"$(cut -d' ' -f1-3 /proc/loadavg)"
}

# timed LOG CMD...: runs CMD under /usr/bin/time -v, its standard error and
# the figures in LOG; sets WALL (seconds, measured with date +%s%N: finer than
# time's own), CPU (user + system seconds, its
# children's included) and RSS (the largest process's peak, KiB). Returns
# CMD's exit status.
timed() {
	local log=$1 rc=0 t0 t1
	shift
	t0=$(date +%s%N)
	/usr/bin/time -v "$@" 2>"$log" || rc=$?
	t1=$(date +%s%N)
	WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')
	CPU=$(sed -n 's/.*\(User\|System\) time (seconds): //p' "$log" | awk '{ s += $1 } END { print s + 0 }')
	RSS=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
	return $rc
}

# corpus_mbox SIZE OUT: a mailbox made of the corpus mailbox repeated: SIZE
# bytes at least (the last copy whole), or, with SIZE written Nmsg, exactly
# N messages, each copy of a message with a Message-ID of its own (so that
# none is a duplicate of another). The corpus mailbox ends without the blank
# line that separates messages: one is added.
corpus_mbox() {
	python3 - "$1" "$2" "$top/tests/corpus/all.mbox" <<'PY'
import re, sys
want, out, src = sys.argv[1], sys.argv[2], sys.argv[3]
count = want.endswith('msg')
want = int(want[:-3] if count else want)
data = open(src, 'rb').read()
if not data.endswith(b'\n\n'):
    data += b'\n' if data.endswith(b'\n') else b'\n\n'
msgs = re.split(rb'(?m)(?<=\n\n)(?=From )', data)
with open(out, 'wb') as f:
    if not count:
        size = 0
        while size < want:
            f.write(data)
            size += len(data)
        sys.exit(0)
    for i in range(want):
        copy, m = divmod(i, len(msgs))
        head, sep, body = msgs[m].partition(b'\n\n')
        tag = b'bench-%d.' % copy
        if re.search(rb'(?mi)^Message-ID:[ \t]*<', head):
            head = re.sub(rb'(?mi)^(Message-ID:[ \t]*<)', rb'\g<1>' + tag, head, count=1)
        else:
            head += b'\nMessage-ID: <' + tag + b'%d@bench.invalid>' % m
        f.write(head + sep + body)
PY
}

# tree_cpu PID: user + system CPU seconds of PID and of its children, the
# live ones (a daemon's worker) and the reaped ones alike.
tree_cpu() {
	local f
	for f in /proc/[0-9]*/stat; do
		cat "$f" 2>/dev/null || true
	done | awk -v pid="$1" -v hz="$(getconf CLK_TCK)" '{
		p = $1; sub(/.*\) /, "")
		if (p == pid || $2 == pid) s += $12 + $13 + $14 + $15
	} END { print s / hz }'
}

# serve_conf DATABASE MAILBOX: serve's configuration on standard output for
# the private MariaDB and Dovecot (the MARIADB_* and IMAP_* that
# tests/mariadb.sh and tests/dovecot.sh set): database DATABASE, one
# [imap bench] source reading MAILBOX over IMAPS and leaving its messages as
# they are, the password in $tmp/imap-password. More sections may follow.
serve_conf() {
	cat <<CONF
[database]
url = mysql://$MARIADB_USER:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT/$1
migrations_dir = $top/migrations
[parser]
rules_dir = ${RULES_DIR:-$top/rules}
[imap bench]
host = $IMAP_HOST
port = $IMAPS_PORT
tls = implicit
user = $IMAP_USER
password_file = $tmp/imap-password
ca_file = $IMAP_CA
mailbox = $2
after = nothing
CONF
}
