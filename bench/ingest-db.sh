#!/bin/bash
# bench/ingest-db.sh [BUILDDIR] [MESSAGES]: the full ingest (`parse MBOX`:
# store, extract, resolve, write; every commit durable) of MESSAGES
# (default 20,000) distinct newsletters, the corpus repeated with a
# Message-ID of its own per copy, into a private MariaDB (tests/mariadb.sh;
# its settings are printed: innodb_flush_log_at_trx_commit must be 1, the
# default, which it is), side by side with the database floor measured in
# the same run: the very rows the ingest wrote, dumped, then inserted into
# an empty database of the same schema by one `mariadb` client script in one
# transaction, over the same TCP connection kind. RUNS (default 5) runs of
# each, every figure the median; our newsletters/s as a fraction of the
# floor's. Also printed, from the server's counters of the first run:
# statements, commits and fsyncs per newsletter. A benchmark, not a test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
. "$here/lib.sh"
build=${1:-$PWD}
count=${2:-20000}
runs=${RUNS:-5}
# PARSE_ARGS: options of parse, e.g. --commit-every=1 (the default groups
# --commit-every=100 messages a transaction: see src/cmd-parse.c)
read -r -a parse_args <<<"${PARSE_ARGS:-}"
prog=$build/divemap-ingest
[ -x "$prog" ] || { echo "no $prog: give the build folder as the first argument" >&2; exit 2; }
need /usr/bin/time time
need python3 python3
need mariadbd mariadb-server
tmp=$(mktemp -d)
cleanup() {
	bash "$top/tests/mariadb.sh" stop "$tmp/db" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
eval "$(bash "$top/tests/mariadb.sh" start "$tmp/db")"
root() { mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -N -B "$@"; }
cat >"$tmp/conf" <<CONF
[database]
migrations_dir = $top/migrations
[parser]
rules_dir = ${RULES_DIR:-$top/rules}
CONF

# new_db NAME: an empty database migrated to head, with the corpus's sites
new_db() {
	root -e "CREATE DATABASE \`$1\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		GRANT ALL ON \`$1\`.* TO '$MARIADB_USER'@'127.0.0.1', '$MARIADB_USER'@'localhost';"
	DATABASE_URL="mysql://$MARIADB_USER:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT/$1" \
		"$prog" -q -c "$tmp/conf" migrate upgrade head >/dev/null 2>&1 ||
		{ echo "migrate failed on $1" >&2; exit 1; }
	root "$1" <"$top/tests/corpus/sites.sql"
}
server_cpu() { # mariadbd's user + system CPU seconds so far
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$MARIADB_PID/stat"
}
status() { # the server's counters of statements, commits and log flushes
	root -e "SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_stmt_execute', 'Com_stmt_prepare',
		'Com_commit', 'Com_begin', 'Questions', 'Innodb_data_fsyncs')" | sort
}
counts() { # $1 database: "table rows" a line
	local t
	for t in $(root -e "SELECT table_name FROM information_schema.tables WHERE table_schema = '$1' ORDER BY 1"); do
		echo "$t $(root "$1" -e "SELECT COUNT(*) FROM \`$t\`")"
	done
}

# FLUSH=0|2: a diagnostic run with commits not flushed at each commit (not
# the figure: it shows what the per-commit flush costs)
[ -z "${FLUSH:-}" ] || root -e "SET GLOBAL innodb_flush_log_at_trx_commit = $FLUSH"
machine
echo "database: $(root -e "SELECT CONCAT('MariaDB ', VERSION(), ', innodb_flush_log_at_trx_commit=', @@innodb_flush_log_at_trx_commit,
	', sync_binlog=', @@sync_binlog, ', log_bin=', @@log_bin, ', innodb_buffer_pool_size=', @@innodb_buffer_pool_size DIV 1048576,
	'M, innodb_log_file_size=', @@innodb_log_file_size DIV 1048576, 'M, innodb_doublewrite=', @@innodb_doublewrite,
	', datadir on ', '$(df --output=fstype "$tmp" | tail -1)')")"
corpus_mbox "${count}msg" "$tmp/in.mbox"
echo "input: $count messages, $(stat -c %s "$tmp/in.mbox") bytes; runs: $runs per figure (median); parse ${PARSE_ARGS:-(defaults)}"
: >"$tmp/runs"
for i in $(seq "$runs"); do
	new_db "run$i"
	counts "run$i" >"$tmp/before"
	rc=0
	status >"$tmp/st0"
	s0=$(server_cpu)
	timed "$tmp/time.log" env DATABASE_URL="mysql://$MARIADB_USER:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT/run$i" \
		"$prog" -q -c "$tmp/conf" parse "${parse_args[@]}" "$tmp/in.mbox" >/dev/null || rc=$?
	ours=$WALL ours_cpu=$CPU ours_rss=$RSS
	server=$(awk -v a="$s0" -v b="$(server_cpu)" 'BEGIN { print b - a }')
	status >"$tmp/st1"
	summary=$(grep -E '^[0-9]+ messages, ' "$tmp/time.log" | tail -1 || true)
	[ "$rc" = 0 ] || { echo "run $i: parse exited $rc: $summary $(grep -m1 -i 'error' "$tmp/time.log" || true)" >&2; }
	counts "run$i" >"$tmp/after"
	news=$(awk '$1 == "newsletters" { print $2 }' "$tmp/after")
	trips=$(awk '$1 == "parsed_dive_trips" { print $2 }' "$tmp/after")
	# the rows the ingest added, table by table: the floor's script
	# in an order where every foreign key's parent comes first
	tables=$({
		join "$tmp/before" "$tmp/after" | awk '$3 > $2 { print $1, $1 }'
		root -e "SELECT referenced_table_name, table_name FROM information_schema.referential_constraints
			WHERE constraint_schema = 'run$i' AND referenced_table_name <> table_name"
	} | tsort | grep -Fxf <(join "$tmp/before" "$tmp/after" | awk '$3 > $2 { print $1 }'))
	if [ "$i" = 1 ]; then
		# per newsletter: what the server saw (the counters are global: the
		# few statements of counts() and status() are in them)
		echo "per newsletter: $(join "$tmp/st0" "$tmp/st1" | awk -v n="$news" '{ printf "%s%s %.2f", s, $1, ($3 - $2) / (n ? n : 1); s = ", " }')"
		echo "rows written: $(join "$tmp/before" "$tmp/after" | awk '$3 > $2 { printf "%s%s %d", s, $1, $3 - $2; s = ", " }')"
		{
			echo "SET NAMES utf8mb4; SET autocommit = 0;"
			# only rows the ingest added: the tables it fills start empty except
			# for the sites and centers loaded beforehand, which are skipped
			for t in $tables; do
				b=$(awk -v t="$t" '$1 == t { print $2 }' "$tmp/before")
				if [ "$b" = 0 ]; then
					mariadb-dump --no-defaults -S "$MARIADB_SOCKET" -u root --no-create-info --skip-add-locks \
						--skip-disable-keys --skip-comments --compact --complete-insert --hex-blob \
						--skip-triggers "run$i" "$t"
				else
					echo "table $t had $b rows before the ingest: left out of the floor" >&2
				fi
			done
			echo "COMMIT;"
		} >"$tmp/floor.sql"
		echo "floor script: $(stat -c %s "$tmp/floor.sql") bytes"
	fi
	root -e "DROP DATABASE \`run$i\`"
	new_db "floor$i"
	s0=$(server_cpu)
	timed "$tmp/floor.log" mariadb --no-defaults -h 127.0.0.1 -P "$MARIADB_PORT" -u "$MARIADB_USER" \
		-p"$MARIADB_PASSWORD" "floor$i" <"$tmp/floor.sql" || { cat "$tmp/floor.log" >&2; exit 1; }
	floor=$WALL
	fserver=$(awk -v a="$s0" -v b="$(server_cpu)" 'BEGIN { print b - a }')
	fnews=$(root "floor$i" -e "SELECT COUNT(*) FROM newsletters")
	root -e "DROP DATABASE \`floor$i\`"
	echo "$ours $ours_cpu $ours_rss $floor $news $trips $fnews $server $fserver" >>"$tmp/runs"
	echo "  run $i: ingest ${ours}s (CPU ${ours_cpu}s, server CPU ${server}s, RSS ${ours_rss} KiB, $news newsletters," \
		"$trips trips; $summary), floor ${floor}s (server CPU ${fserver}s, $fnews newsletters)" >&2
done
col() { awk -v c="$1" '{ print $c }' "$tmp/runs" | median; }
printf '%-8s %11s %7s %8s %13s %6s %9s %9s %13s %6s\n' messages newsletters trips seconds newsletters/s \
	"CPU s" "server s" "floor s" "floor srv s" "/floor"
awk -v n="$count" -v w="$(col 5)" -v t="$(col 6)" -v s="$(col 1)" -v c="$(col 2)" -v f="$(col 4)" \
	-v sv="$(col 8)" -v fs="$(col 9)" 'BEGIN {
	printf "%-8d %11d %7d %8.1f %13.0f %6.1f %9.1f %9.2f %13.2f %6.3f\n", n, w, t, s, w / s, c, sv, f, fs, f / s
}'
