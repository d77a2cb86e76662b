#!/bin/bash
# The configuration examples people copy load as written: the [ini] block of
# README.md and contrib/divemap-ingest.conf.example (read through a command
# that needs the configuration but no database).
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
sed -n '/^```ini$/,/^```$/p' "$top_srcdir/README.md" | sed '1d;$d' >"$d/readme.conf"
[ -s "$d/readme.conf" ] || { echo "FAIL: no [ini] block in README.md"; exit 1; }
for f in "$d/readme.conf" "$top_srcdir/contrib/divemap-ingest.conf.example"; do
	"$top_builddir/divemap-ingest" -c "$f" migrate heads --dir "$top_srcdir/migrations" >/dev/null ||
		{ echo "FAIL: $f does not load"; exit 1; }
	echo "loads: ${f#"$d/"}"
done
