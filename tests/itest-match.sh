#!/bin/bash
# `divemap-ingest match` reading sites and aliases from a real, migrated
# database (the private MariaDB of tests/run-test).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${DATABASE_URL:?}"
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
printf '[parser]\nrules_dir = %s/rules\n[database]\nmigrations_dir = %s/migrations\n' \
	"$top_srcdir" "$top_srcdir" >"$d/conf"
bin() { "$top_builddir/divemap-ingest" -c "$d/conf" "$@"; }
bin migrate upgrade head >/dev/null
mariadb --no-defaults -S "$MARIADB_SOCKET" -u root "$MARIADB_DATABASE" <"$top_srcdir/tests/corpus/sites.sql"
out=$(bin match "Kira Leni" "Makronissos")
echo "$out"
grep -q "resolves to 7 " <<<"$out" || { echo "FAIL: Kira Leni"; exit 1; }
grep -q "resolves to 4 " <<<"$out" || { echo "FAIL: Makronissos"; exit 1; }
# a new alias is seen by the next run
mariadb --no-defaults -S "$MARIADB_SOCKET" -u root "$MARIADB_DATABASE" \
	-e "INSERT INTO dive_site_aliases (dive_site_id, alias) VALUES (25, 'Azure Window Hole')"
out=$(bin match "Azure Window Hole")
grep -q "resolves to 25 .*exact-alias" <<<"$out" || { echo "FAIL: new alias: $out"; exit 1; }
echo "match against the database: as expected"
