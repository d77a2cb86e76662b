#!/bin/bash
# A private, throwaway MariaDB for the tests.
#   eval "$(tests/mariadb.sh start DIR)"   DIR: a new short folder; prints MARIADB_* assignments
#   tests/mariadb.sh stop DIR              SIGTERM to the pid in DIR/server.pid, waits, then SIGKILL
# Listens on DIR/mysqld.sock and 127.0.0.1 (and ::1 when the machine has it) on a free port.
# The server's own output goes to DIR/error.log.
set -euo pipefail

alive() { # running and not a zombie
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

stop() {
	local d=$1 pid
	pid=$(cat "$d/server.pid" 2>/dev/null) || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 600); do alive "$pid" || break; sleep 0.05; done
	alive "$pid" && { echo "mariadbd $pid still up after 30 s: SIGKILL" >&2; kill -KILL "$pid" || true; }
	rm -f "$d/server.pid"
}

free_port() { # below the ephemeral range, nobody listening
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 12000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	return 1
}

start() {
	local d=$1 sock port pid ready bind=127.0.0.1 asroot=()
	mkdir -p "$d"
	d=$(cd "$d" && pwd)
	sock=$d/mysqld.sock
	[ ${#sock} -le 100 ] || { echo "socket path too long: $sock" >&2; exit 1; }
	[ "$(id -u)" = 0 ] && asroot=(--user=root)
	# ::1 too, when the machine has an IPv6 loopback
	[ -e /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6 && bind='127.0.0.1,::1'
	mariadb-install-db --no-defaults "${asroot[@]}" --datadir="$d/data" --tmpdir="$d" \
		--auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
		--innodb-log-file-size=8M >"$d/install.log" 2>&1 || { cat "$d/install.log" >&2; exit 1; }
	for _ in 1 2 3 4 5; do
		port=$(free_port)
		mariadbd --no-defaults "${asroot[@]}" --datadir="$d/data" --socket="$sock" \
			--port="$port" --bind-address="$bind" --skip-name-resolve \
			--pid-file="$d/mariadbd.pid" --log-error="$d/error.log" --tmpdir="$d" \
			--character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
			--innodb-buffer-pool-size=32M --innodb-log-file-size=8M \
			--innodb-buffer-pool-load-at-startup=0 --innodb-buffer-pool-dump-at-shutdown=0 \
			--max-connections=200 </dev/null >>"$d/mariadbd.out" 2>&1 &
		pid=$!
		echo "$pid" >"$d/server.pid"
		ready=
		for _ in $(seq 600); do
			if mariadb-admin --no-defaults -S "$sock" -u root --connect-timeout=1 ping >/dev/null 2>&1; then
				ready=1; break
			fi
			alive "$pid" || break
			sleep 0.05
		done
		[ -n "$ready" ] && break
		if alive "$pid"; then stop "$d"; echo "mariadbd not ready in 30 s" >&2; exit 1; fi
		grep -q 'Address already in use' "$d/error.log" 2>/dev/null && { : >"$d/error.log"; continue; }
		echo "mariadbd exited:" >&2; tail -20 "$d/error.log" >&2; exit 1
	done
	[ -n "$ready" ] || { echo "could not start mariadbd" >&2; exit 1; }
	local db=divemap_test user=divemap pw=divemap-test-pw
	mariadb --no-defaults -S "$sock" -u root <<SQL
CREATE DATABASE \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER '$user'@'localhost' IDENTIFIED BY '$pw';
CREATE USER '$user'@'127.0.0.1' IDENTIFIED BY '$pw';
CREATE USER '$user'@'::1' IDENTIFIED BY '$pw';
GRANT ALL ON \`$db\`.* TO '$user'@'localhost', '$user'@'127.0.0.1', '$user'@'::1';
SQL
	printf 'export MARIADB_DIR=%q MARIADB_SOCKET=%q MARIADB_HOST=127.0.0.1 MARIADB_PORT=%s\n' "$d" "$sock" "$port"
	printf 'export MARIADB_DATABASE=%q MARIADB_USER=%q MARIADB_PASSWORD=%q\n' "$db" "$user" "$pw"
	printf 'export MARIADB_ROOT_USER=root MARIADB_PID=%s MARIADB_IPV6=%s\n' "$pid" "$([ "$bind" = 127.0.0.1 ] && echo no || echo yes)"
	printf 'export DATABASE_URL=%q\n' "mysql://$user:$pw@127.0.0.1:$port/$db"
}

case ${1:-} in
start) start "${2:?usage: $0 start DIR}" ;;
stop) stop "${2:?usage: $0 stop DIR}" ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
