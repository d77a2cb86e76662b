#!/bin/bash
# The systemd unit: `systemd-analyze verify` must be silent and
# `systemd-analyze security` must rate its exposure at most 2.0.
# Skipped (77) where systemd-analyze is missing and cannot be installed.
set -u
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
max_exposure=2.0

if ! command -v systemd-analyze >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "systemd-analyze missing: installing the systemd package"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends systemd \
			>/dev/null 2>&1
	fi
	command -v systemd-analyze >/dev/null 2>&1 ||
		{ echo "SKIP: systemd-analyze is not installed (package systemd)"; exit 77; }
fi
bin=$(cd "$top_builddir" && pwd)
[ -x "$bin/divemap-ingest" ] || { echo "FAIL: build divemap-ingest first"; exit 1; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
# ExecStart must name an existing program: the one just built
sed -e "s|@bindir@|$bin|g" -e "s|@docdir@|/usr/share/doc/divemap-ingest|g" \
	"$top_srcdir/contrib/systemd/divemap-ingest.service.in" >"$d/divemap-ingest.service"

out=$(systemd-analyze verify "$d/divemap-ingest.service" 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
	echo "FAIL: systemd-analyze verify (exit $rc):"
	echo "$out"
	exit 1
fi
echo "systemd-analyze verify: clean"

out=$(systemd-analyze security --offline=true "$d/divemap-ingest.service" 2>&1)
level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -z "$level" ]; then
	echo "SKIP: this systemd-analyze cannot rate a unit file offline:"
	printf '%s\n' "$out" | tail -3
	exit 77
fi
echo "systemd-analyze security: exposure $level (at most $max_exposure)"
if ! awk -v l="$level" -v m="$max_exposure" 'BEGIN { exit !(l <= m) }'; then
	printf '%s\n' "$out" | grep '✗'
	echo "FAIL: exposure $level is above $max_exposure"
	exit 1
fi
