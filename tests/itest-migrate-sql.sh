#!/bin/bash
# --sql prints exactly what upgrade and downgrade run and runs nothing: the
# printed script, fed to the mariadb client, gives the schema and records
# that the real run gives, and the server's general log shows the real run
# sending the printed migration statements, in that order.
. "$(dirname "$0")/itest-migrate-lib.sh"
new_db real >/dev/null
new_db script >/dev/null

mig script upgrade head --sql >"$WORK/up.sql" 2>"$WORK/up.err" || { cat "$WORK/up.err"; fail "upgrade --sql"; }
[ -z "$(tables_of script)" ] || fail "upgrade --sql ran something: $(tables_of script)"
grep -q '^CREATE TABLE IF NOT EXISTS ingest_messages' "$WORK/up.sql" || fail "no ingest_messages in --sql"
ok "upgrade --sql runs nothing"

# the real run, with the server's general log on
root_sql -e "SET GLOBAL log_output = 'TABLE'; SET GLOBAL general_log = 1; TRUNCATE mysql.general_log"
mig real upgrade head 2>/dev/null || fail "upgrade head"
root_sql -e "SET GLOBAL general_log = 0"
root_sql mysql -e "SELECT argument FROM general_log WHERE command_type = 'Query' ORDER BY event_time" \
	-r --raw >"$WORK/general.log"

# the printed statements, bookkeeping aside (sent as prepared statements
# with the same values), are what the server got
python3 - "$WORK/up.sql" "$WORK/general.log" <<'PY' || fail "--sql and the real run differ"
import sys
printed = [s.strip() for s in open(sys.argv[1]).read().split(";\n")]
printed = [s for s in printed if s and not all(l.startswith("--") for l in s.splitlines())]
printed = ["\n".join(l for l in s.splitlines() if not l.startswith("-- ")).strip() for s in printed]
sent = open(sys.argv[2]).read()
migration = [s for s in printed if "ingest_migrations" not in s or s.startswith("CREATE TABLE")]
pos = 0
for s in migration:
    at = sent.find(s, pos)
    if at < 0:
        sys.exit("not sent (in this order): %r" % s[:120])
    pos = at + len(s)
print("ok: the %d printed migration statements were sent, in order" % len(migration))
PY

root_sql script <"$WORK/up.sql" || fail "the --sql script does not run in the mariadb client"
# (the lock table is the running migrator's own; a script needs none)
diff -u <(schema_of real | grep -v '^ingest_migrate_lock') <(schema_of script) ||
	fail "the --sql script gives another schema"
diff -u <(records_of real) <(records_of script) || fail "the --sql script records other migrations"
mig script current | grep -qx '0002_ingest_tables (head)' || fail "current after the script"
ok "the upgrade script gives the same schema and records as the real upgrade"

# downgrade --sql, likewise
mig real downgrade base --sql >"$WORK/down.sql" 2>/dev/null || fail "downgrade --sql"
[ "$(mig real current)" = "0002_ingest_tables (head)" ] || fail "downgrade --sql ran something"
root_sql script <"$WORK/down.sql" || fail "the downgrade script does not run"
mig real downgrade base 2>/dev/null || fail "downgrade base"
[ "$(tables_of script)" = "ingest_migrations " ] || fail "the downgrade script left: $(tables_of script)"
[ "$(tables_of real)" = "ingest_migrate_lock ingest_migrations " ] || fail "downgrade left: $(tables_of real)"
[ -z "$(records_of script)" ] && [ -z "$(records_of real)" ] || fail "records left after downgrade"
ok "downgrade --sql runs nothing, and its script does what downgrade does"
