# Not a test: shared by tests/itest-migrate-*.sh (sourced). tests/run-test has started a
# private MariaDB and exported MARIADB_* and DATABASE_URL.
set -u
: "${top_srcdir:?}" "${top_builddir:?}" "${MARIADB_SOCKET:?}" "${MARIADB_PORT:?}"
PROG=$top_builddir/divemap-ingest
MIGRATIONS=$top_srcdir/migrations
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
ok() { echo "ok: $*"; }

# root over the socket; -N -B: bare tab-separated rows
root_sql() { mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -N -B "$@"; }
# SQL in database $1
db_sql() { root_sql "$1" -e "$2"; }

# A new empty database that MARIADB_USER may use; prints its DATABASE_URL.
new_db() {
	root_sql -e "CREATE DATABASE \`$1\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		GRANT ALL ON \`$1\`.* TO '$MARIADB_USER'@'127.0.0.1', '$MARIADB_USER'@'localhost';" ||
		fail "cannot create database $1"
	echo "mysql://$MARIADB_USER:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT/$1"
}

# divemap-ingest migrate against database $1 (the rest: arguments)
mig() {
	local db=$1
	shift
	DATABASE_URL="mysql://$MARIADB_USER:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT/$db" \
		"$PROG" -c /dev/null migrate --dir="$MIGRATIONS" "$@"
}

# SHOW CREATE TABLE of every table of database $1, sorted, without AUTO_INCREMENT=N.
schema_of() {
	local t
	for t in $(root_sql "$1" -e 'SHOW TABLES' | sort); do
		root_sql "$1" -e "SHOW CREATE TABLE \`$t\`" | sed 's/ AUTO_INCREMENT=[0-9]*//'
	done
}

# The migration records that do not depend on time or process.
records_of() {
	db_sql "$1" "SELECT version, name, checksum, state, statements_done, statements_total
		FROM ingest_migrations ORDER BY version"
}

tables_of() { root_sql "$1" -e 'SHOW TABLES' | sort | tr '\n' ' '; }

# expect_fail OUTPUT_FILE WHAT: the last command must have failed; its output names WHAT.
expect_in() {
	grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "expected '$2' in the output above"; }
}
