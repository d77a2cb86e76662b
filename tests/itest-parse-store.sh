#!/bin/bash
# parse of the corpus mailbox against a private MariaDB (run by tests/run-test):
# every message is stored once with its raw bytes intact and a newsletters
# row; a second run stores nothing and reports every message as a duplicate.
set -euo pipefail
: "${MARIADB_SOCKET:?run this test through tests/run-test}"
: "${top_srcdir:?}" "${top_builddir:?}"
prog=$top_builddir/divemap-ingest
mbox=$top_srcdir/tests/corpus/all.mbox
. "$top_srcdir/tests/itest-lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
sql() { mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -N -B "$MARIADB_DATABASE" -e "$1"; }
itest_conf "$tmp/conf"

# The mailbox split independently (mboxrd: From_ after a blank line, the
# blank line is the separator, ">From" loses one '>'), one file per message.
mkdir "$tmp/split"
python3 - "$mbox" "$tmp/split" <<'PY'
import re, sys
msgs, cur, prev_blank = [], None, True
for line in open(sys.argv[1], 'rb').read().splitlines(keepends=True):
    if line.startswith(b'From ') and prev_blank:
        if cur is not None:
            msgs.append(cur)
        cur, prev_blank = [], False
        continue
    cur.append(line)
    prev_blank = line in (b'\n', b'\r\n')
msgs.append(cur)
for i, m in enumerate(msgs, 1):
    if m and m[-1] in (b'\n', b'\r\n'):
        m = m[:-1]
    body = b''.join(re.sub(rb'^>(>*From )', rb'\1', l) for l in m)
    open('%s/%04d' % (sys.argv[2], i), 'wb').write(body)
PY
n=$(ls "$tmp/split" | wc -l)
[ "$n" -ge 30 ] || fail "the mailbox split into $n messages only"

# first run: everything stored
rc=0
"$prog" -c "$tmp/conf" parse "$mbox" 2>"$tmp/log1" || rc=$?
[ "$rc" = 0 ] || { cat "$tmp/log1"; fail "first run exited $rc"; }
grep -q "^$n messages, $n stored, 0 duplicates, 0 failed$" "$tmp/log1" ||
	{ tail -3 "$tmp/log1"; fail "first run: wrong summary"; }
[ "$(sql 'SELECT COUNT(*) FROM ingest_messages')" = "$n" ] || fail "ingest_messages rows"
[ "$(sql 'SELECT COUNT(*) FROM ingest_raw_messages')" = "$n" ] || fail "ingest_raw_messages rows"
[ "$(sql "SELECT COUNT(*) FROM ingest_messages WHERE source = 'mbox' AND status <> 'pending'")" = "$n" ] ||
	fail "every message should be mbox and parsed (not left pending)"

# the raw bytes read back are the bytes of the mailbox, in order
(cd "$tmp/split" && sha256sum -- * | cut -d' ' -f1) >"$tmp/want"
sql 'SELECT SHA2(r.raw, 256) FROM ingest_raw_messages r JOIN ingest_messages m ON m.id = r.message_id ORDER BY m.id' >"$tmp/got"
diff "$tmp/want" "$tmp/got" || fail "raw bytes differ from the mailbox's messages"
[ "$(sql 'SELECT COUNT(*) FROM ingest_messages m JOIN ingest_raw_messages r ON r.message_id = m.id WHERE CAST(m.sha256 AS BINARY) = CAST(SHA2(r.raw, 256) AS BINARY) AND m.size = LENGTH(r.raw)')" = "$n" ] ||
	fail "sha256 or size columns do not describe the raw bytes"

# refs are FILE:OFFSET of each From_ line
first=$(sql 'SELECT source_ref FROM ingest_messages ORDER BY id LIMIT 1')
[ "$first" = "$mbox:0" ] || fail "first ref is '$first'"
sql 'SELECT source_ref FROM ingest_messages ORDER BY id' | while IFS= read -r ref; do
	off=${ref##*:}
	[ "$(tail -c +"$((off + 1))" "$mbox" | head -c 5)" = "From " ] || fail "ref $ref is not at a From_ line"
done

# a newsletters row for each, with the raw message or a marked rendering
[ "$(sql 'SELECT COUNT(*) FROM ingest_messages m JOIN newsletters n ON n.id = m.newsletter_id WHERE n.received_at IS NOT NULL')" = "$n" ] ||
	fail "newsletters rows missing"
same=$(sql 'SELECT COUNT(*) FROM ingest_messages m JOIN newsletters n ON n.id = m.newsletter_id JOIN ingest_raw_messages r ON r.message_id = m.id WHERE CAST(n.content AS BINARY) = r.raw')
marked=$(sql "SELECT COUNT(*) FROM ingest_messages m JOIN newsletters n ON n.id = m.newsletter_id WHERE CAST(n.content AS BINARY) LIKE CAST(CONCAT('%[divemap-ingest: %ingest_messages.id ', m.id, ', sha256 ', m.sha256, ']%') AS BINARY)")
[ "$((same + marked))" = "$n" ] || fail "newsletters.content: $same raw + $marked marked of $n"
# metadata from the headers
[ "$(sql 'SELECT COUNT(*) FROM ingest_messages WHERE message_id LIKE "<%>" AND sender LIKE "%@%" AND subject IS NOT NULL')" = "$n" ] ||
	fail "Message-ID, sender or subject missing"

# second run: nothing new
rc=0
"$prog" -c "$tmp/conf" parse "$mbox" 2>"$tmp/log2" || rc=$?
[ "$rc" = 0 ] || { cat "$tmp/log2"; fail "second run exited $rc"; }
grep -q "^$n messages, 0 stored, $n duplicates, 0 failed$" "$tmp/log2" ||
	{ tail -3 "$tmp/log2"; fail "second run: wrong summary"; }
[ "$(sql 'SELECT COUNT(*) FROM ingest_messages')" = "$n" ] || fail "second run added messages"
[ "$(sql 'SELECT COUNT(*) FROM newsletters')" = "$n" ] || fail "second run added newsletters"

# the same messages as single files are duplicates too
rc=0
"$prog" -c "$tmp/conf" parse "$tmp/split/0001" "$tmp/split/0002" 2>"$tmp/log3" || rc=$?
grep -q "^2 messages, 0 stored, 2 duplicates, 0 failed$" "$tmp/log3" || fail "eml duplicates"

# same Message-ID and sender, other bytes: a likely duplicate, not stored
sed 's/^Subject: /Subject: Fwd: /' "$tmp/split/0003" >"$tmp/resent.eml"
rc=0
"$prog" -c "$tmp/conf" parse "$tmp/resent.eml" 2>"$tmp/log4" || rc=$?
grep -q "likely a duplicate" "$tmp/log4" || { cat "$tmp/log4"; fail "likely duplicate not reported"; }
[ "$(sql 'SELECT COUNT(*) FROM ingest_messages')" = "$n" ] || fail "likely duplicate stored"
printf 'store_likely_duplicates = yes\n' >>"$tmp/conf"
"$prog" -c "$tmp/conf" parse "$tmp/resent.eml" 2>"$tmp/log5" || true
[ "$(sql 'SELECT COUNT(*) FROM ingest_messages')" = "$((n + 1))" ] ||
	{ cat "$tmp/log5"; fail "store_likely_duplicates = yes did not store it"; }

# a maildir: its new messages are stored (or known) and moved to cur/
mkdir -p "$tmp/md/new" "$tmp/md/cur" "$tmp/md/tmp"
cp "$tmp/split/0004" "$tmp/md/new/1700000000.M1P1.test"
sed 's/^Message-I[Dd]: .*/Message-ID: <maildir-only@test.example>/' "$tmp/split/0005" >"$tmp/md/new/1700000001.M2P1.test"
rc=0
"$prog" -c "$tmp/conf" parse "$tmp/md" 2>"$tmp/log6" || rc=$?
[ "$rc" = 0 ] || { cat "$tmp/log6"; fail "maildir: exit $rc"; }
grep -q "^2 messages, 1 stored, 1 duplicates, 0 failed$" "$tmp/log6" || { cat "$tmp/log6"; fail "maildir summary"; }
[ -z "$(ls "$tmp/md/new")" ] && [ "$(ls "$tmp/md/cur" | grep -c ':2,S$')" = 2 ] || fail "maildir: messages not moved to cur/ as seen"
[ "$(sql "SELECT source FROM ingest_messages WHERE message_id = '<maildir-only@test.example>'")" = maildir ] ||
	fail "maildir: source column"
echo "PASS: $n messages stored once, raw bytes identical, duplicates reported"
