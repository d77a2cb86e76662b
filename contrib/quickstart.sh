#!/bin/sh
# The quickstart: installs what is needed, builds, starts a private MariaDB
# under ./.quickstart (the one of an earlier run is stopped and replaced),
# migrates it, loads the sample dive sites, parses the sample mailbox into
# it and prints the parse log. The database stays up for you to look at;
# the last lines say how to reach it and how to stop it. Idempotent.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
sh contrib/install-deps.sh
autoreconf -fi >/dev/null
mkdir -p build
(cd build && { [ -f Makefile ] || "$top/configure" -q; } && make -j"$(nproc)" >/dev/null)
bin=$top/build/divemap-ingest

qs=$top/.quickstart
[ -d "$qs/db" ] && bash tests/mariadb.sh stop "$qs/db"
rm -rf "$qs"
mkdir -p "$qs"
eval "$(bash tests/mariadb.sh start "$qs/db")"
cat >"$qs/divemap-ingest.conf" <<CONF
[database]
url = mysql://$MARIADB_USER:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT/$MARIADB_DATABASE
migrations_dir = $top/migrations

[parser]
rules_dir = $top/rules
CONF
echo "== private MariaDB $MARIADB_PORT, data in $qs/db"
echo "== divemap-ingest --version: $("$bin" --version)"
run() { echo "\$ divemap-ingest $*"; "$bin" -c "$qs/divemap-ingest.conf" "$@"; }
run migrate upgrade head
mariadb --no-defaults -S "$MARIADB_SOCKET" -u root "$MARIADB_DATABASE" <tests/corpus/sites.sql
echo "== loaded the sample dive sites and centers (tests/corpus/sites.sql)"
run parse tests/corpus/all.mbox
run log
cat <<DONE

The database is still running. Look at it with
  mariadb --no-defaults -S $MARIADB_SOCKET -u root $MARIADB_DATABASE
and stop it with
  bash tests/mariadb.sh stop $qs/db
DONE
