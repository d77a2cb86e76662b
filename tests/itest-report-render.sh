#!/bin/bash
# The admins' HTML report as a browser shows it: the corpus parsed into the
# private MariaDB, `report --html`, then headless Chromium renders the page
# to a PNG (kept as tests/report.png in the build folder for a person to
# look at) and dumps its DOM: the page must render, hold every newsletter's
# subject, and show a <script> from mail as text.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}" "${MARIADB_SOCKET:?}" "${DATABASE_URL:?}"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "SKIP: no chromium (apt-get install chromium)"; exit 77; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
printf '[database]\nmigrations_dir = %s/migrations\n[parser]\nrules_dir = %s/rules\n' \
	"$top_srcdir" "$top_srcdir" >"$d/conf"
bin() { "$top_builddir/divemap-ingest" -c "$d/conf" "$@"; }
bin migrate upgrade head >/dev/null
mariadb --no-defaults -S "$MARIADB_SOCKET" -u root "$MARIADB_DATABASE" <"$top_srcdir/tests/corpus/sites.sql"
{
	cat "$top_srcdir/tests/corpus/all.mbox"
	printf '\nFrom evil@example Mon Sep  1 10:00:00 2025\n'
	printf 'From: Evil <evil@example.org>\nSubject: <script>alert("subject")</script>\n'
	printf 'Date: Mon, 01 Sep 2025 10:00:00 +0300\nMessage-ID: <evil@example.org>\n\n'
	printf 'Hello <script>alert("body")</script>\n\n'
} >"$d/in.mbox"
bin parse "$d/in.mbox" 2>"$d/parse.log" || true
grep -q '^33 messages, 33 stored' "$d/parse.log" || fail "parse: $(tail -1 "$d/parse.log")"
bin report --html "$d/report.html"
chrome() {
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$d/profile" "$@" "file://$d/report.html" 2>"$d/chrome.log"
}
chrome --window-size=1280,4000 --screenshot="$d/report.png" >/dev/null ||
	fail "chromium could not render the report: $(tail -3 "$d/chrome.log")"
chrome --dump-dom >"$d/dom.html" || fail "chromium could not load the report"
size=$(stat -c %s "$d/report.png")
[ "$size" -gt 20000 ] || fail "the screenshot is only $size bytes"
cp "$d/report.png" "$top_builddir/tests/report.png"
n=$(grep -o 'Πρόγραμμα καταδύσεων: 23 – 30 Αυγούστου' "$d/dom.html" | head -1)
[ -n "$n" ] || fail "a subject is missing from the rendered page"
grep -q '&lt;script&gt;alert("subject")&lt;/script&gt;' "$d/dom.html" || fail "the subject's <script> is not shown as text"
grep -q '&lt;script&gt;alert("body")' "$d/dom.html" || fail "the body's <script> is not shown as text"
grep -q '<script' "$d/dom.html" && fail "the rendered page holds a script element"
echo "report rendered: $size bytes of PNG; subjects and mail's <script> shown as text"
