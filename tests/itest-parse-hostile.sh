#!/bin/bash
# parse of hostile messages against a private MariaDB (run by tests/run-test):
# every one is stored with its bytes intact, a message the worker refuses or
# dies on is marked failed and the run goes on; on a Divemap-sized TEXT
# newsletters.content a large, non-UTF-8 message gets a marked rendering;
# a message over the size bound keeps its first bytes and is marked failed.
set -euo pipefail
: "${MARIADB_SOCKET:?run this test through tests/run-test}"
: "${top_srcdir:?}" "${top_builddir:?}"
prog=$top_builddir/divemap-ingest
. "$top_srcdir/tests/itest-lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
sql() { mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -N -B "$MARIADB_DATABASE" -e "$1"; }
itest_conf "$tmp/conf"

hdr() { # $1 message-id, $2 subject
	printf 'From: Test Center <news@center.example>\r\nTo: in@divemap.example\r\n'
	printf 'Subject: %s\r\nDate: Mon, 1 Sep 2025 10:00:00 +0300\r\nMessage-ID: <%s@center.example>\r\n' "$2" "$1"
}
# boundary="\"" crashes libetpan 1.9.4's mailmime_parse
{
	hdr crash 'boundary'
	printf 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="\\""\r\n\r\n'
	printf -- '--"\r\nContent-Type: text/plain\r\n\r\nSaturday 6 September 09:00 Blue Hole\r\n--"--\r\n'
} >"$tmp/crash.eml"
# over 64 KB, Latin-1 bytes declared as nothing at all
{
	hdr big "caf$(printf '\xe9') programme"
	printf 'Content-Type: text/plain\r\n\r\n'
	for i in $(seq 2000); do printf 'Line %04d: plong\xe9e \xe0 la cale, d\xe9part 09:00\r\n' "$i"; done
} >"$tmp/big.eml"
# no Date: header
{
	printf 'From: news@center.example\nSubject: no date\nMessage-ID: <nodate@center.example>\n\n'
	printf 'Saturday 6 September: two dives at the Blue Hole, 09:00.\n'
} >"$tmp/nodate.eml"
# NUL bytes in the body and a header
{
	hdr nul "nul$(printf '\001')s"
	printf '\r\nbefore\0after\r\n\0\0\0\r\nSunday 7 September 10:00 dive\r\n'
} >"$tmp/nul.eml"
: >"$tmp/empty.eml"
[ "$(wc -c <"$tmp/big.eml")" -gt 70000 ] || fail "fixture too small"

"$prog" -c "$tmp/conf" migrate upgrade >/dev/null 2>&1 || fail "migrate upgrade"
# Divemap's own schema has TEXT here, not our baseline's LONGTEXT
sql 'ALTER TABLE newsletters MODIFY content TEXT NOT NULL'

files=(crash big nodate nul empty)
rc=0
paths=()
for f in "${files[@]}"; do paths+=("$tmp/$f.eml"); done
"$prog" -c "$tmp/conf" parse "${paths[@]}" 2>"$tmp/log" || rc=$?
[ "$rc" = 65 ] || { cat "$tmp/log"; fail "exit status $rc, want 65 (some message failed)"; }
grep -q '^5 messages, 5 stored, 0 duplicates, [1-5] failed$' "$tmp/log" ||
	{ cat "$tmp/log"; fail "wrong summary"; }

for f in "${files[@]}"; do
	want=$(sha256sum <"$tmp/$f.eml" | cut -d' ' -f1)
	got=$(sql "SELECT SHA2(r.raw, 256) FROM ingest_messages m JOIN ingest_raw_messages r ON r.message_id = m.id WHERE m.source_ref = '$tmp/$f.eml'")
	[ "$want" = "$got" ] || fail "$f: raw bytes differ ($got)"
	[ "$(sql "SELECT COUNT(*) FROM ingest_messages m JOIN newsletters n ON n.id = m.newsletter_id WHERE m.source_ref = '$tmp/$f.eml' AND m.status <> 'pending'")" = 1 ] ||
		fail "$f: no newsletters row, or left pending"
done

# the crasher: stored, failed with a reason, and the later files went on
row=$(sql "SELECT status, status_reason IS NOT NULL FROM ingest_messages WHERE source_ref = '$tmp/crash.eml'")
[ "$row" = "$(printf 'failed\t1')" ] || fail "crash.eml: '$row', want failed with a reason"
[ "$(sql "SELECT COUNT(*) FROM ingest_parse_log l JOIN ingest_messages m ON m.id = l.message_id WHERE m.source_ref = '$tmp/crash.eml' AND l.status = 'failed'")" = 1 ] ||
	fail "crash.eml: no failed parse-log row"

# the big Latin-1 message in a TEXT column: a rendering that fits, with the marker
id=$(sql "SELECT id FROM ingest_messages WHERE source_ref = '$tmp/big.eml'")
sha=$(sha256sum <"$tmp/big.eml" | cut -d' ' -f1)
row=$(sql "SELECT LENGTH(n.content) <= 65535, CAST(n.content AS BINARY) LIKE CAST(CONCAT('%[divemap-ingest: %ingest_messages.id $id, sha256 $sha]', CHAR(10)) AS BINARY), n.content LIKE 'From: Test Center%' FROM ingest_messages m JOIN newsletters n ON n.id = m.newsletter_id WHERE m.id = $id")
[ "$row" = "$(printf '1\t1\t1')" ] || fail "big.eml: content '$row' (fits, marker, starts with the headers)"
[ "$(sql "SELECT subject FROM ingest_messages WHERE id = $id")" != "" ] || fail "big.eml: no subject"

# no Date: stored and parsed, sent_at stays NULL
[ "$(sql "SELECT sent_at IS NULL AND status <> 'pending' FROM ingest_messages WHERE source_ref = '$tmp/nodate.eml'")" = 1 ] ||
	fail "nodate.eml: sent_at set or not parsed"

# over the size bound: the first bytes kept, the full size recorded, failed
sed 's/<big@/<over@/' "$tmp/big.eml" >"$tmp/over-full.eml"
head -c 20000 "$tmp/over-full.eml" >"$tmp/over.eml"
sed 's/^\[parser\]$/[parser]\nmax_message_size = 4K/' "$tmp/conf" >"$tmp/conf-small"
rc=0
"$prog" -c "$tmp/conf-small" parse "$tmp/over.eml" 2>"$tmp/log2" || rc=$?
[ "$rc" = 65 ] || { cat "$tmp/log2"; fail "over.eml: exit status $rc"; }
row=$(sql "SELECT m.status, m.size, LENGTH(r.raw), m.status_reason LIKE 'over the size bound%' FROM ingest_messages m JOIN ingest_raw_messages r ON r.message_id = m.id WHERE m.source_ref = '$tmp/over.eml'")
[ "$row" = "$(printf 'failed\t20000\t4096\t1')" ] || fail "over.eml: '$row'"
[ "$(sql "SELECT CAST(n.content AS BINARY) LIKE CAST('%[divemap-ingest: the message is 20000 bytes, over the size bound; its first 4096 bytes are ingest_messages.id %' AS BINARY) FROM ingest_messages m JOIN newsletters n ON n.id = m.newsletter_id WHERE m.source_ref = '$tmp/over.eml'")" = 1 ] ||
	fail "over.eml: newsletters.content has no marker"
"$prog" -c "$tmp/conf-small" parse "$tmp/over.eml" 2>"$tmp/log3" || true
grep -q '^1 messages, 0 stored, 1 duplicates, 0 failed$' "$tmp/log3" || fail "over.eml: not a duplicate the second time"
echo "PASS: hostile messages stored intact; failures marked, the run went on"
