#!/bin/bash
# A database that Divemap's Alembic manages (tests/fixtures/divemap-0092.sql,
# Divemap's real schema at revision 0092): the baseline creates, alters and
# drops nothing there, is recorded as applied with a note, and our ingest_
# tables are added beside Divemap's. A Divemap too old for us (no
# difficulty_levels, before Divemap's 0040) is refused, naming what lacks.
. "$(dirname "$0")/itest-migrate-lib.sh"
fixtures=$top_srcdir/tests/fixtures
divemap_tables="alembic_version difficulty_levels dive_site_aliases dive_sites diving_centers newsletters parsed_dive_trips parsed_dives"
divemap_schema() { # (our test row moves newsletters' AUTO_INCREMENT)
	for t in $divemap_tables; do root_sql "$1" -e "SHOW CREATE TABLE $t" | sed "s/ AUTO_INCREMENT=[0-9]*//"; done
}
divemap_rows() {
	db_sql "$1" "SELECT (SELECT COUNT(*) FROM dive_sites), (SELECT COUNT(*) FROM diving_centers),
		(SELECT COUNT(*) FROM difficulty_levels), (SELECT GROUP_CONCAT(version_num) FROM alembic_version)"
}

db=divemap
new_db $db >/dev/null
root_sql $db <"$fixtures/divemap-0092.sql" || fail "cannot load divemap-0092.sql"
root_sql $db <"$fixtures/sites-divemap.sql" || fail "cannot load sites-divemap.sql"
divemap_schema $db >"$WORK/before.schema"
divemap_rows $db >"$WORK/before.rows"

mig $db upgrade head --sql >"$WORK/up.sql" 2>/dev/null || fail "upgrade --sql"
grep -q "^-- not run: skipped: Divemap's Alembic manages these tables (revision 0092)" "$WORK/up.sql" ||
	fail "--sql does not say the baseline is skipped"
grep -q "CREATE TABLE IF NOT EXISTS dive_sites" "$WORK/up.sql" && fail "--sql would create dive_sites"

mig $db upgrade head 2>"$WORK/up.log" || { cat "$WORK/up.log"; fail "upgrade head on Divemap's database"; }
expect_in "$WORK/up.log" "0001_divemap_baseline: skipped: Divemap's Alembic manages these tables (revision 0092)"
divemap_schema $db | diff -u "$WORK/before.schema" - || fail "upgrade changed Divemap's tables"
divemap_rows $db | diff -u "$WORK/before.rows" - || fail "upgrade changed Divemap's rows"
for t in ingest_messages ingest_raw_messages ingest_checkpoints ingest_parse_log ingest_unresolved; do
	[ -n "$(root_sql $db -e "SHOW TABLES LIKE '$t'")" ] || fail "no $t beside Divemap's tables"
done
[ "$(db_sql $db "SELECT state, statements_done, error LIKE 'skipped: Divemap%' FROM ingest_migrations WHERE version = 1")" = \
	"applied	0	1" ] || fail "the baseline is not recorded as skipped"
mig $db current | grep -q "Divemap's Alembic manages this database (revision 0092)" || fail "current hides Alembic"
ok "Divemap's Alembic database: baseline checked not run, ingest_ tables added, Divemap's tables untouched"

# our rows can point at Divemap's newsletters
db_sql $db "INSERT INTO newsletters (content) VALUES ('x');
	INSERT INTO ingest_messages (newsletter_id, sha256, source, source_ref, size)
	VALUES (LAST_INSERT_ID(), REPEAT('a', 64), 'eml', 'test.eml', 1)" || fail "ingest_messages -> newsletters"

# downgrade base drops only ours, even though Divemap's tables hold rows
mig $db downgrade base 2>"$WORK/down.log" || { cat "$WORK/down.log"; fail "downgrade base"; }
expect_in "$WORK/down.log" "not run, Divemap's Alembic manages these tables"
db_sql $db "DELETE FROM newsletters"
divemap_schema $db | diff -u "$WORK/before.schema" - || fail "downgrade changed Divemap's tables"
divemap_rows $db | diff -u "$WORK/before.rows" - || fail "downgrade changed Divemap's rows"
[ -z "$(root_sql $db -e "SHOW TABLES LIKE 'ingest_messages'")" ] || fail "ingest_messages survived downgrade base"
mig $db upgrade head 2>/dev/null || fail "upgrade head again"
ok "downgrade base on Divemap's database drops only the ingest_ tables"

# a Divemap before its migration 0040: no difficulty_levels, no trips.view_count
old=divemap_old
new_db $old >/dev/null
root_sql $old <"$fixtures/divemap-0092.sql" || fail "cannot load divemap-0092.sql"
db_sql $old "SET FOREIGN_KEY_CHECKS = 0;
	ALTER TABLE parsed_dive_trips DROP FOREIGN KEY parsed_dive_trips_ibfk_3, DROP COLUMN trip_difficulty_id,
		DROP COLUMN view_count;
	ALTER TABLE dive_sites DROP FOREIGN KEY dive_sites_ibfk_1, DROP COLUMN difficulty_id;
	DROP TABLE difficulty_levels; UPDATE alembic_version SET version_num = '0039'"
mig $old upgrade head 2>"$WORK/old.log" && fail "a Divemap too old for us was accepted"
expect_in "$WORK/old.log" "managed by Divemap's Alembic (revision 0039)"
expect_in "$WORK/old.log" "table difficulty_levels"
expect_in "$WORK/old.log" "parsed_dive_trips lacks trip_difficulty_id, view_count"
expect_in "$WORK/old.log" "alembic upgrade head"
[ -z "$(root_sql $old -e "SHOW TABLES LIKE 'difficulty_levels'")" ] || fail "difficulty_levels was created"
[ -z "$(root_sql $old -e "SHOW TABLES LIKE 'ingest_messages'")" ] || fail "ingest_ tables were created"
[ "$(db_sql $old 'SELECT COUNT(*) FROM ingest_migrations')" = 0 ] || fail "a refused baseline was recorded"
ok "a Divemap too old (revision 0039) is refused, naming what lacks; nothing created"

# a standalone database with an incompatible pre-existing table: checked after the run
alone=standalone
new_db $alone >/dev/null
db_sql $alone "CREATE TABLE newsletters (id INT AUTO_INCREMENT PRIMARY KEY, body TEXT)"
mig $alone upgrade head 2>"$WORK/alone.log" && fail "an incompatible newsletters table was accepted"
expect_in "$WORK/alone.log" "still falls short: newsletters lacks content, received_at"
[ "$(db_sql $alone "SELECT state FROM ingest_migrations WHERE version = 1")" = failed ] ||
	fail "the baseline is not recorded as failed"
ok "standalone: a pre-existing table lacking columns fails the baseline, naming them"
