#!/bin/bash
# A migration that fails half-way leaves a 'failed' record naming the
# statement and the error; every later run refuses with that message and the
# way out; after the fix and `migrate repair` the upgrade resumes at the
# failed statement and succeeds. An interrupted migration is refused the same
# way. An applied migration edited afterwards is refused until it is
# restored or repaired.
. "$(dirname "$0")/itest-migrate-lib.sh"
db=broken
new_db $db >/dev/null
dir=$WORK/migrations
mkdir "$dir"
cp "$MIGRATIONS"/*.sql "$dir/"
cat >"$dir/0003_widgets.up.sql" <<'SQL'
-- three statements; the second one is broken
CREATE TABLE widget_a (id INT PRIMARY KEY);
CREATE TABLE widget_b (id INT PRIMARY KEY, oops NOT_A_TYPE);
CREATE TABLE widget_c (id INT PRIMARY KEY);
SQL
printf 'DROP TABLE IF EXISTS widget_c;\nDROP TABLE IF EXISTS widget_b;\nDROP TABLE IF EXISTS widget_a;\n' \
	>"$dir/0003_widgets.down.sql"

mig $db --dir="$dir" upgrade head 2>"$WORK/fail1.log" && fail "the broken migration succeeded"
expect_in "$WORK/fail1.log" "migration 0003_widgets failed: statement 2 of 3 (0003_widgets.up.sql line 3: CREATE TABLE widget_b"
expect_in "$WORK/fail1.log" "NOT_A_TYPE"
expect_in "$WORK/fail1.log" "divemap-ingest migrate repair"
expect_in "$WORK/fail1.log" "divemap-ingest migrate stamp 0003"
[ "$(db_sql $db "SELECT state, statements_done, statements_total FROM ingest_migrations WHERE version = 3")" = \
	"failed	1	3" ] || fail "no failed record at statement 1 of 3"
db_sql $db "SELECT error FROM ingest_migrations WHERE version = 3" | grep -q "statement 2 of 3" ||
	fail "the record does not name the statement"
mig $db --dir="$dir" current | grep -q "0003_widgets: FAILED: statement 2 of 3" || fail "current hides the failure"
ok "a failed migration leaves a failed record (statement 2 of 3)"

for try in 2 3; do
	mig $db --dir="$dir" upgrade head 2>"$WORK/fail$try.log" && fail "run $try did not refuse"
	expect_in "$WORK/fail$try.log" "statement 2 of 3 (0003_widgets.up.sql line 3"
	expect_in "$WORK/fail$try.log" "divemap-ingest migrate repair"
	grep -q "already exists" "$WORK/fail$try.log" && fail "run $try re-ran statement 1"
done
[ -n "$(root_sql $db -e "SHOW TABLES LIKE 'widget_a'")" ] || fail "statement 1 was undone"
ok "every later run refuses with the statement and the recovery command"

# the fix, the documented recovery, and the upgrade resumes at statement 2
sed -i 's/oops NOT_A_TYPE/fixed INT/' "$dir/0003_widgets.up.sql"
mig $db --dir="$dir" upgrade head 2>/dev/null && fail "upgrade ran before repair"
mig $db --dir="$dir" repair 2>"$WORK/repair.log" || { cat "$WORK/repair.log"; fail "repair"; }
expect_in "$WORK/repair.log" "resumes at statement 2"
mig $db --dir="$dir" upgrade head 2>"$WORK/resume.log" || { cat "$WORK/resume.log"; fail "upgrade after repair"; }
expect_in "$WORK/resume.log" "resuming at statement 2 of 3"
[ "$(tables_of $db | grep -o 'widget_[abc]' | tr '\n' ' ')" = "widget_a widget_b widget_c " ] ||
	fail "widgets after the resume: $(tables_of $db)"
mig $db --dir="$dir" current | grep -qx '0003_widgets (head)' || fail "current after the resume"
[ "$(db_sql $db "SELECT state, statements_done FROM ingest_migrations WHERE version = 3")" = "applied	3" ] ||
	fail "the record after the resume"
ok "after the fix and migrate repair the upgrade resumes and succeeds"

# an edited applied migration is refused, naming the file and the ways out
cp "$dir/0003_widgets.up.sql" "$WORK/0003.orig"
echo "-- an innocent-looking edit" >>"$dir/0003_widgets.up.sql"
mig $db --dir="$dir" upgrade head 2>"$WORK/edited.log" && fail "an edited applied migration was accepted"
expect_in "$WORK/edited.log" "$dir/0003_widgets.up.sql was edited after it was applied"
expect_in "$WORK/edited.log" "Restore the file"
expect_in "$WORK/edited.log" "divemap-ingest migrate repair"
mig $db --dir="$dir" history | grep -q "EDITED SINCE APPLIED" || fail "history does not flag the edit"
cp "$WORK/0003.orig" "$dir/0003_widgets.up.sql"
mig $db --dir="$dir" upgrade head 2>/dev/null || fail "the restored file is still refused"
echo "-- an innocent-looking edit" >>"$dir/0003_widgets.up.sql"
mig $db --dir="$dir" repair 2>"$WORK/repair2.log" || fail "repair of the checksum"
expect_in "$WORK/repair2.log" "recorded the checksum of the edited file"
mig $db --dir="$dir" upgrade head 2>/dev/null || fail "refused after repair"
ok "an edited applied migration is refused until restored or repaired"

# a process that died mid-migration: its 'applying' row is refused the same way
cat >"$dir/0004_gadgets.up.sql" <<'SQL'
CREATE TABLE gadget_a (id INT PRIMARY KEY);
CREATE TABLE gadget_b (id INT PRIMARY KEY);
SQL
echo 'DROP TABLE IF EXISTS gadget_b; DROP TABLE IF EXISTS gadget_a;' >"$dir/0004_gadgets.down.sql"
db_sql $db "CREATE TABLE gadget_a (id INT PRIMARY KEY);
	INSERT INTO ingest_migrations (version, name, checksum, state, statements_done, statements_total, applied_by)
	VALUES (4, 'gadgets', '$(sha256sum "$dir/0004_gadgets.up.sql" | cut -c1-64)', 'applying', 1, 2, 'deadhost:99')"
mig $db --dir="$dir" upgrade head 2>"$WORK/dead.log" && fail "an interrupted migration was not refused"
expect_in "$WORK/dead.log" "interrupted after statement 1 of 2 (process deadhost:99"
expect_in "$WORK/dead.log" "divemap-ingest migrate repair"
mig $db --dir="$dir" repair 2>/dev/null || fail "repair of the interrupted migration"
mig $db --dir="$dir" upgrade head 2>/dev/null || fail "resume of the interrupted migration"
[ -n "$(root_sql $db -e "SHOW TABLES LIKE 'gadget_b'")" ] || fail "gadget_b missing after the resume"
ok "an interrupted migration is refused, repaired and resumed"

# stamp as the other way out: the admin undid the statements by hand
cat >"$dir/0005_bad.up.sql" <<'SQL'
CREATE TABLE bad_a (id INT PRIMARY KEY);
CREATE TABLE bad_a (id INT PRIMARY KEY);
SQL
echo 'DROP TABLE IF EXISTS bad_a;' >"$dir/0005_bad.down.sql"
mig $db --dir="$dir" upgrade head 2>"$WORK/bad.log" && fail "0005 succeeded"
expect_in "$WORK/bad.log" "already exists"
expect_in "$WORK/bad.log" "divemap-ingest migrate stamp 0004"
db_sql $db "DROP TABLE bad_a"
mig $db --dir="$dir" stamp 0004 2>/dev/null || fail "stamp 0004"
printf 'CREATE TABLE bad_a (id INT PRIMARY KEY);\n' >"$dir/0005_bad.up.sql"
mig $db --dir="$dir" upgrade head 2>/dev/null || fail "upgrade after undo and stamp"
mig $db --dir="$dir" current | grep -qx '0005_bad (head)' || fail "current after stamp recovery"
ok "undone by hand, stamp, upgrade: it runs again from statement 1"

# a folder that is not a valid set of migrations is refused before anything runs
bad=$WORK/bad
check_folder() { # $1: what the error must say
	mig $db --dir="$bad" heads 2>"$WORK/folder.log" && fail "folder accepted: $1"
	expect_in "$WORK/folder.log" "$1"
	rm -rf "$bad"
}
mkdir "$bad" && cp "$MIGRATIONS"/0001_* "$bad/" && touch "$bad/0002_x.up.sql"
check_folder "0002_x has no down file"
mkdir "$bad" && touch "$bad/0002_a.up.sql" "$bad/0002_a.down.sql" "$bad/0002_b.up.sql"
check_folder "two migrations have version 0002"
mkdir "$bad" && touch "$bad/2x_y.up.sql"
check_folder "2x_y.up.sql: not a migration file name"
mkdir "$bad" && cp "$dir"/* "$bad/" && printf "INSERT INTO bad_a VALUES (1);\nSELECT 'oops;\n" >"$bad/0006_q.up.sql" &&
	touch "$bad/0006_q.down.sql"
mig $db --dir="$bad" upgrade head 2>"$WORK/quote.log" && fail "an unterminated string was run"
expect_in "$WORK/quote.log" "0006_q.up.sql: line 2: unterminated 'string'"
[ "$(db_sql $db 'SELECT COUNT(*) FROM bad_a')" = 0 ] || fail "a file that does not split ran its first statement"
[ "$(db_sql $db 'SELECT COUNT(*) FROM ingest_migrations WHERE version = 6')" = 0 ] || fail "0006 was recorded"
printf -- "-- migrate: frobnicate\nDO 1;\n" >"$bad/0006_q.up.sql"
mig $db --dir="$bad" upgrade head 2>"$WORK/directive.log" && fail "an unknown directive was accepted"
expect_in "$WORK/directive.log" "unknown directive '-- migrate: frobnicate'"
printf "SELECT COUNT(*) FROM bad_a;\n" >"$bad/0006_q.up.sql"
mig $db --dir="$bad" upgrade head 2>"$WORK/select.log" && fail "a SELECT in a migration was accepted"
expect_in "$WORK/select.log" "0006_q.up.sql line 1: a statement that returns rows"
ok "bad folders and files are refused before anything runs"
