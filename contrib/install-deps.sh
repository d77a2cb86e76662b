#!/bin/sh
# Installs what divemap-ingest needs to build, run and be tested, on Debian 12.
# Idempotent; run as root (or with sudo available).
set -eu
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
PACKAGES="
	build-essential autoconf automake pkg-config
	libetpan-dev libpcre2-dev default-libmysqlclient-dev libxml2-dev libsystemd-dev
	libinih-dev libjansson-dev libutf8proc-dev nettle-dev libssl-dev libgnutls28-dev libcmocka-dev
	mariadb-server mariadb-client dovecot-imapd openssl
	python3 valgrind cppcheck clang-format chromium
"
missing=
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	$SUDO apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
