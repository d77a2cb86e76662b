#!/bin/bash
# upgrade head -> downgrade base -> upgrade head gives the same schema;
# steps (+1, -1), stamp and current agree; --json parses; the baseline's down
# file refuses to drop Divemap tables that hold rows.
. "$(dirname "$0")/itest-migrate-lib.sh"
db=roundtrip
new_db $db >/dev/null

mig $db heads | grep -qx '0002_ingest_tables (head)' || fail "heads does not name 0002"
mig $db current | grep -qx 'base (nothing applied)' || fail "an empty database is not at base"

mig $db upgrade head 2>"$WORK/up.log" || { cat "$WORK/up.log"; fail "upgrade head"; }
expect_in "$WORK/up.log" "applied 0001_divemap_baseline"
expect_in "$WORK/up.log" "applied 0002_ingest_tables"
mig $db current | grep -qx '0002_ingest_tables (head)' || fail "current after upgrade"
schema_of $db >"$WORK/first.schema"
for t in difficulty_levels dive_sites dive_site_aliases diving_centers newsletters \
	parsed_dive_trips parsed_dives ingest_messages ingest_raw_messages ingest_checkpoints \
	ingest_parse_log ingest_unresolved ingest_migrations; do
	grep -q "^$t	CREATE TABLE \`$t\`" "$WORK/first.schema" || fail "no table $t after upgrade"
done
[ "$(db_sql $db 'SELECT GROUP_CONCAT(id, code ORDER BY id) FROM difficulty_levels')" = \
	"1OPEN_WATER,2ADVANCED_OPEN_WATER,3DEEP_NITROX,4TECHNICAL_DIVING" ] ||
	fail "difficulty_levels not seeded"
grep -q "UNIQUE KEY \`_dive_site_alias_uc\` (\`dive_site_id\`,\`alias\`)" "$WORK/first.schema" ||
	fail "dive_site_aliases lacks UNIQUE(dive_site_id, alias)"
ok "upgrade head"

# an upgrade with nothing to do changes nothing
mig $db upgrade 2>"$WORK/noop.log" || fail "second upgrade"
expect_in "$WORK/noop.log" "nothing to upgrade"

mig $db downgrade -1 2>/dev/null || fail "downgrade -1"
mig $db current | grep -qx '0001_divemap_baseline' || fail "current after downgrade -1"
[ -z "$(root_sql $db -e "SHOW TABLES LIKE 'ingest_messages'")" ] || fail "ingest_messages survived -1"
mig $db upgrade +1 2>/dev/null || fail "upgrade +1"
mig $db current | grep -qx '0002_ingest_tables (head)' || fail "current after +1"

mig $db downgrade base 2>/dev/null || fail "downgrade base"
[ "$(tables_of $db)" = "ingest_migrate_lock ingest_migrations " ] ||
	fail "downgrade base left: $(tables_of $db)"
[ "$(db_sql $db 'SELECT COUNT(*) FROM ingest_migrations')" = 0 ] || fail "records left at base"
mig $db upgrade head 2>/dev/null || fail "upgrade head again"
schema_of $db >"$WORK/second.schema"
diff -u "$WORK/first.schema" "$WORK/second.schema" || fail "the schema differs after a round trip"
ok "upgrade head -> downgrade base -> upgrade head: identical schema ($(grep -c CREATE "$WORK/first.schema") tables)"

# stamp and current agree; stamp runs nothing
mig $db stamp 0001 2>/dev/null || fail "stamp 0001"
mig $db current | grep -qx '0001_divemap_baseline' || fail "current after stamp 0001"
[ -n "$(root_sql $db -e "SHOW TABLES LIKE 'ingest_messages'")" ] || fail "stamp dropped a table"
mig $db stamp head 2>/dev/null || fail "stamp head"
mig $db current | grep -qx '0002_ingest_tables (head)' || fail "current after stamp head"
mig $db stamp base 2>/dev/null || fail "stamp base"
mig $db current | grep -qx 'base (nothing applied)' || fail "current after stamp base"
mig $db stamp 0002_ingest_tables 2>/dev/null || fail "stamp 0002_ingest_tables"
[ "$(db_sql $db "SELECT COUNT(*) FROM ingest_migrations WHERE state = 'applied' AND error LIKE 'stamped%'")" = 2 ] ||
	fail "stamp did not record both versions with a note"
mig $db current --json | python3 -c '
import json, sys
o = json.load(sys.stdin)
assert o["current"] == 2 and o["head"] == 2 and o["pending"] == 0, o' || fail "current --json"
mig $db history --json | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert [m["version"] for m in a] == [1, 2] and all(m["checksum_ok"] for m in a), a' ||
	fail "history --json"
mig $db history --verbose | grep -q 'sha256: ' || fail "history --verbose shows no checksum"
ok "stamp, current, history --json"

# Divemap's data is never dropped: the baseline's down file refuses
root_sql $db <"$top_srcdir/tests/corpus/sites.sql" || fail "cannot load the corpus sites"
mig $db downgrade base 2>"$WORK/down.log" && fail "downgrade base dropped tables holding rows"
expect_in "$WORK/down.log" "which holds rows"
expect_in "$WORK/down.log" "stop at 0001"
[ "$(db_sql $db 'SELECT COUNT(*) > 20 FROM dive_sites')" = 1 ] || fail "dive_sites lost rows"
mig $db current | grep -qx '0001_divemap_baseline' || fail "current after the refused downgrade"
ok "the baseline's down file refuses to drop Divemap tables that hold rows"

# usage errors
mig $db downgrade 2>/dev/null && fail "downgrade without a version"
mig $db upgrade 0009 2>/dev/null && fail "upgrade to an unknown version"
mig $db frobnicate 2>/dev/null && fail "an unknown verb"
ok "usage errors"
