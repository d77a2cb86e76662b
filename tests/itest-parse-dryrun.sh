#!/bin/bash
# parse --dry-run and --no-db (run by tests/run-test with a private MariaDB):
# results are printed or written per message and nothing is stored; with a
# database the names are read from it; an unreachable database is a clear
# error; --output-dir files are what tests/corpus/score.py reads.
set -euo pipefail
: "${MARIADB_SOCKET:?run this test through tests/run-test}"
: "${top_srcdir:?}" "${top_builddir:?}"
prog=$top_builddir/divemap-ingest
corpus=$top_srcdir/tests/corpus
. "$top_srcdir/tests/itest-lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
sql() { mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -N -B "$MARIADB_DATABASE" "$@"; }
itest_conf "$tmp/conf"
n=$(ls "$corpus"/messages/*.eml | wc -l)

# --no-db: one file per .eml, named after it, scored by the corpus scorer
mkdir "$tmp/nodb"
rc=0
env -u DATABASE_URL "$prog" -c "$tmp/conf" parse --no-db --output-dir "$tmp/nodb" "$corpus"/messages/*.eml \
	2>"$tmp/log1" || rc=$?
[ "$rc" = 0 ] || { cat "$tmp/log1"; fail "--no-db exited $rc"; }
for f in "$corpus"/messages/*.eml; do
	b=$(basename "$f" .eml)
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d["trips"], list) and d["message_id"]' \
		"$tmp/nodb/$b.json" || fail "$b.json is not a result"
done
python3 "$corpus/score.py" "$corpus/expected" "$tmp/nodb" >"$tmp/score" || fail "score.py failed"
grep -q '^facts: P=' "$tmp/score" || fail "score.py printed no facts line"
grep -q '"dive_site_id": [0-9]' "$tmp/nodb"/*.json && fail "--no-db resolved a site id without names"

# a mailbox: MAILBOX-NNNN.json (the output folder is made when missing)
env -u DATABASE_URL "$prog" -c "$tmp/conf" parse --no-db --output-dir "$tmp/mbox" "$corpus/all.mbox" 2>/dev/null
[ "$(ls "$tmp/mbox" | wc -l)" = "$n" ] || fail "mailbox: $(ls "$tmp/mbox" | wc -l) files, want $n"
[ -f "$tmp/mbox/all-0001.json" ] && [ -f "$tmp/mbox/all-$(printf %04d "$n").json" ] || fail "mailbox file names"

# standard input, printed: one pretty JSON object
"$prog" -c "$tmp/conf" parse --no-db - <"$corpus/messages/$(ls "$corpus/messages" | head -1)" >"$tmp/stdin.json" 2>/dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["message_id"]' "$tmp/stdin.json" ||
	fail "stdin: not one JSON object"

# --dry-run with a database: names from it, nothing written
"$prog" -c "$tmp/conf" migrate upgrade >/dev/null 2>&1 || fail "migrate upgrade"
sql <"$corpus/sites.sql" || fail "loading sites.sql"
mkdir "$tmp/dry"
rc=0
"$prog" -c "$tmp/conf" parse --dry-run --output-dir "$tmp/dry" "$corpus"/messages/*.eml 2>"$tmp/log2" || rc=$?
[ "$rc" = 0 ] || { cat "$tmp/log2"; fail "--dry-run exited $rc"; }
grep -q "^$n messages, 0 stored, 0 duplicates, 0 failed$" "$tmp/log2" || fail "--dry-run summary"
[ "$(sql -e 'SELECT (SELECT COUNT(*) FROM ingest_messages) + (SELECT COUNT(*) FROM newsletters) + (SELECT COUNT(*) FROM parsed_dive_trips)')" = 0 ] ||
	fail "--dry-run wrote to the database"
grep -q '"dive_site_id": [0-9]' "$tmp/dry"/*.json || fail "--dry-run resolved no site from the database's names"

# --dry-run with an unreachable database: a clear error, no guessing
port=$((MARIADB_PORT == 1 ? 2 : 1))
rc=0
DATABASE_URL="mysql://nobody:x@127.0.0.1:$port/none" "$prog" -c "$tmp/conf" parse --dry-run \
	"$corpus/all.mbox" >/dev/null 2>"$tmp/log3" || rc=$?
[ "$rc" = 75 ] || { cat "$tmp/log3"; fail "unreachable database: exit $rc, want 75"; }
grep -q 'cannot reach the database.*--no-db' "$tmp/log3" || { cat "$tmp/log3"; fail "unreachable database: unclear message"; }

# usage errors
rc=0
"$prog" -c "$tmp/conf" parse --dry-run 2>/dev/null || rc=$?
[ "$rc" = 64 ] || fail "no files: exit $rc, want 64"
rc=0
"$prog" -c "$tmp/conf" parse --no-db "$tmp/missing.eml" 2>/dev/null || rc=$?
[ "$rc" = 66 ] || fail "missing file: exit $rc, want 66"
"$prog" parse --help | grep -q -- '--dry-run' || fail "--help"
# rules that cannot be loaded: a configuration error before any message is read
sed "s|^rules_dir = .*|rules_dir = $tmp/no-rules|" "$tmp/conf" >"$tmp/conf-bad"
rc=0
env -u DATABASE_URL "$prog" -c "$tmp/conf-bad" parse --no-db "$corpus/all.mbox" >"$tmp/out-bad" 2>/dev/null || rc=$?
[ "$rc" = 78 ] && [ ! -s "$tmp/out-bad" ] || fail "missing rules: exit $rc, want 78 and no output"
echo "PASS: dry runs print or write results and store nothing"
