#!/bin/bash
# The fault scripts, small enough for make check (about a minute): the
# database refusing writes for 10 s while serve ingests 400 newsletters
# (fault-db-readonly.sh), and Dovecot killed -9 while serve IDLEs and a
# client APPENDs 200 (fault-imap.sh dovecot-kill9). Each starts its own
# servers; the full-size runs are documented in README.md (Hardening).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
if ! command -v dovecot >/dev/null 2>&1; then
	echo "SKIP: needs dovecot (install the packages: see README.md)"
	exit 77
fi
bash "$top_srcdir/tests/fault-db-readonly.sh" 400 10 read_only
bash "$top_srcdir/tests/fault-imap.sh" dovecot-kill9 200 20
