#!/bin/bash
# 8 processes starting `upgrade head` at once on an empty database: each
# migration is applied once and all succeed, with GET_LOCK and with the
# Galera lease row. A process that waits says who holds the lock, and gives
# up after --lock-timeout naming the holder.
. "$(dirname "$0")/itest-migrate-lib.sh"

race() { # $1: database, $2: --lock scheme
	local db=$1 pids=() i rc
	new_db "$db" >/dev/null
	for i in 1 2 3 4 5 6 7 8; do
		mig "$db" upgrade head --lock="$2" >"$WORK/$db.$i.log" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}"
		rc=$?
		[ $rc = 0 ] || { cat "$WORK/$db.$((i + 1)).log" >&2; fail "process $((i + 1)) ($2) exited $rc"; }
	done
	for v in 0001_divemap_baseline 0002_ingest_tables; do
		n=$(cat "$WORK/$db".*.log | grep -c "^applied $v ")
		[ "$n" = 1 ] || fail "$v was applied $n times ($2 lock)"
	done
	[ "$(db_sql "$db" "SELECT GROUP_CONCAT(version, state ORDER BY version) FROM ingest_migrations")" = \
		"1applied,2applied" ] || fail "records after the race ($2 lock)"
	n=$(cat "$WORK/$db".*.log | grep -c "nothing to upgrade")
	[ "$n" = 7 ] || fail "$n processes, not 7, found nothing left to do ($2 lock)"
	ok "8 concurrent upgrades, $2 lock: each migration applied once, all exit 0"
}
race race_server server
race race_row row
race race_auto auto

# a lock held elsewhere: the waiting process names the holder and times out
new_db held >/dev/null
name=$(root_sql -e "SELECT CONCAT('divemap-ingest-migrate:', LEFT(SHA2('held', 256), 32))")
mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -e "SELECT GET_LOCK('$name', 0); SELECT SLEEP(30)" \
	>/dev/null 2>&1 &
holder_pid=$!
conn=NULL
for _ in $(seq 100); do
	conn=$(root_sql -e "SELECT IS_USED_LOCK('$name')")
	[ "$conn" != NULL ] && break
	sleep 0.1
done
[ "$conn" != NULL ] || fail "the test could not take the lock itself"
mig held upgrade head --lock-timeout=1 2>"$WORK/held.log" && fail "upgrade ran while the lock was held"
kill "$holder_pid" 2>/dev/null
wait "$holder_pid" 2>/dev/null
expect_in "$WORK/held.log" "waiting up to 1 s for the migration lock, held by connection $conn"
expect_in "$WORK/held.log" "still held after 1 s by connection $conn"
ok "GET_LOCK held elsewhere: the waiting process names connection $conn and gives up"

# the same with the lease row (Galera's scheme): a live lease blocks, an expired one does not
db_sql held "UPDATE ingest_migrate_lock SET holder = 'node2:4242', connection_id = 7,
	acquired_at = NOW(3), expires_at = NOW(3) + INTERVAL 1 HOUR WHERE id = 1"
mig held upgrade head --lock=row --lock-timeout=1 2>"$WORK/row.log" && fail "upgrade ran under a live lease"
expect_in "$WORK/row.log" "process node2:4242"
expect_in "$WORK/row.log" "lease until"
db_sql held "UPDATE ingest_migrate_lock SET expires_at = NOW(3) - INTERVAL 1 SECOND WHERE id = 1"
mig held upgrade head --lock=row --lock-timeout=1 2>/dev/null || fail "an expired lease still blocks"
[ "$(db_sql held "SELECT holder IS NULL FROM ingest_migrate_lock")" = 1 ] || fail "the lease was not released"
ok "lease row: a live lease blocks naming its holder, an expired one is taken over"
