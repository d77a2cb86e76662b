#!/bin/bash
# A private, throwaway Dovecot (IMAP on one port, IMAPS on another) for the tests.
#   eval "$(tests/dovecot.sh start DIR)"   DIR: a new short folder; prints IMAP_* assignments
#   tests/dovecot.sh stop DIR              SIGTERM to the master pid in DIR/server.pid, waits, then SIGKILL
# Mail is delivered as uid/gid 8 ("mail" in Debian's base-passwd): Dovecot refuses uid 0.
# A self-signed EC certificate for localhost and 127.0.0.1 is made in DIR/cert.pem (it is its own CA).
# Env overrides: IMAP_USER IMAP_PASSWORD. The server's log goes to DIR/dovecot.log.
set -euo pipefail

alive() { # running and not a zombie
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

stop() {
	local d=$1 pid
	local kids k
	pid=$(cat "$d/server.pid" 2>/dev/null) || return 0
	# login processes that proxy TLS outlive the master while their client
	# stays connected: note the master's children by pid and stop them too
	kids=$(grep -l "^PPid:[[:space:]]*$pid\$" /proc/[0-9]*/status 2>/dev/null | cut -d/ -f3) || true
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 600); do alive "$pid" || break; sleep 0.05; done
	alive "$pid" && { echo "dovecot $pid still up after 30 s: SIGKILL" >&2; kill -KILL "$pid" || true; }
	for k in $kids; do kill -TERM "$k" 2>/dev/null || true; done
	rm -f "$d/server.pid"
}

free_port() { # below the ephemeral range, nobody listening, not $1
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 12000))
		[ "$p" = "${1:-}" ] && continue
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
	done
	return 1
}

write_conf() { # $1 dir, $2 imap port, $3 imaps port
	cat >"$1/dovecot.conf" <<CONF
base_dir = $1/run
state_dir = $1/state
instance_name = dovecot-test-$2
protocols = imap
listen = 127.0.0.1
log_path = $1/dovecot.log
info_log_path = $1/dovecot.log
auth_verbose = yes
auth_failure_delay = 0
ssl = yes
ssl_cert = <$1/cert.pem
ssl_key = <$1/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 8
first_valid_gid = 8
mail_uid = mail
mail_gid = mail
mail_home = $1/home/%u
mail_location = maildir:$1/mail/%u
mail_max_userip_connections = 50
namespace inbox {
  inbox = yes
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $1/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $1/users
}
service imap-login {
  inet_listener imap {
    port = $2
  }
  inet_listener imaps {
    port = $3
    ssl = yes
  }
}
CONF
}

probe() { # an IMAP greeting on 127.0.0.1:$1, then LOGOUT
	timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		IFS= read -r -t 2 l <&3 || exit 1
		printf "x LOGOUT\r\n" >&3; cat <&3 >/dev/null
		case $l in "* OK"*) exit 0;; esac; exit 1' _ "$1" 2>/dev/null
}

login_works() { # one real LOGIN: a broken passdb or mail set-up fails here
	timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; IFS= read -r -t 2 l <&3
		printf "a LOGIN \"%s\" \"%s\"\r\nb LOGOUT\r\n" "$2" "$3" >&3
		while IFS= read -r -t 3 l <&3; do case $l in "a OK"*) exit 0;; a\ *) exit 1;; esac; done
		exit 1' _ "$@" 2>/dev/null
}

# start DIR [P1 P2]: given ports restart a stopped instance on the same ports
start() {
	local d=$1 user=${IMAP_USER:-divemap} pw=${IMAP_PASSWORD:-divemap-imap-pw} p1 p2 pid ready a
	mkdir -p "$d"
	d=$(cd "$d" && pwd)
	[ ${#d} -le 60 ] || { echo "folder path too long for Dovecot's sockets: $d" >&2; exit 1; }
	# auth runs as user dovecot and imap as uid 8: every folder above needs o+x
	chmod 755 "$d"
	a=$(dirname "$d")
	while [ "$a" != / ]; do
		[ "$((0$(stat -c %a "$a") & 1))" = 1 ] || { echo "$a lacks o+x" >&2; exit 1; }
		a=$(dirname "$a")
	done
	mkdir -p "$d/run" "$d/state" "$d/mail" "$d/home"
	chown mail:mail "$d/mail" "$d/home"
	if [ ! -e "$d/cert.pem" ]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
			-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
			-keyout "$d/key.pem" -out "$d/cert.pem" >"$d/openssl.log" 2>&1 ||
			{ cat "$d/openssl.log" >&2; exit 1; }
		chmod 600 "$d/key.pem"
	fi
	printf '%s:{PLAIN}%s::::::\n' "$user" "$pw" >"$d/users"
	chmod 644 "$d/users"
	for _ in 1 2 3 4 5; do
		p1=${2:-$(free_port)}
		p2=${3:-$(free_port "$p1")}
		write_conf "$d" "$p1" "$p2"
		dovecot -F -c "$d/dovecot.conf" </dev/null >>"$d/dovecot.out" 2>&1 &
		pid=$!
		echo "$pid" >"$d/server.pid"
		ready=
		for _ in $(seq 300); do
			if probe "$p1"; then ready=1; break; fi
			alive "$pid" || break
			sleep 0.05
		done
		[ -n "$ready" ] && break
		if alive "$pid"; then stop "$d"; echo "dovecot not ready in 15 s" >&2; exit 1; fi
		if [ -z "${2:-}" ] && grep -qs 'Address already in use' "$d/dovecot.out" "$d/dovecot.log"; then
			: >"$d/dovecot.out"; continue
		fi
		echo "dovecot exited:" >&2; tail -20 "$d/dovecot.out" "$d/dovecot.log" >&2 2>/dev/null; exit 1
	done
	[ -n "$ready" ] || { echo "could not start dovecot" >&2; exit 1; }
	if ! login_works "$p1" "$user" "$pw"; then
		echo "dovecot is up but a test LOGIN failed:" >&2; tail -5 "$d/dovecot.log" >&2
		stop "$d"; exit 1
	fi
	printf 'export IMAP_DIR=%q IMAP_HOST=127.0.0.1 IMAP_PORT=%s IMAPS_PORT=%s IMAP_TLS_NAME=localhost\n' \
		"$d" "$p1" "$p2"
	printf 'export IMAP_CA=%q IMAP_USER=%q IMAP_PASSWORD=%q IMAP_MAILDIR=%q IMAP_CONF=%q IMAP_PID=%s\n' \
		"$d/cert.pem" "$user" "$pw" "$d/mail/$user" "$d/dovecot.conf" "$pid"
}

case ${1:-} in
start) start "${2:?usage: $0 start DIR [PORT PORT]}" "${3:-}" "${4:-}" ;;
stop) stop "${2:?usage: $0 stop DIR}" ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
