#!/bin/bash
# `divemap-ingest match` with a names file: resolved names exit 0 and print
# the site, unresolved ones exit 1 and say why; --json is one object a name.
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
python3 "$top_srcdir/tests/sites-to-names.py" "$top_srcdir/tests/corpus/sites.sql" >"$d/names.json"
printf '[parser]\nrules_dir = %s/rules\n' "$top_srcdir" >"$d/conf"
m() { "$top_builddir/divemap-ingest" -c "$d/conf" match --names "$d/names.json" "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

out=$(m "Kira Leni" "ΝΑΥΑΓΙΟ ΚΥΡΑ ΛΕΝΗ" "Πάτροκλο" "στον Ποθητό" "the wreck of the Zenobia") ||
	fail "known names did not all resolve"
echo "$out"
[ "$(grep -c "resolves to 7 " <<<"$out")" = 2 ] || fail "Kyra Leni spellings"
grep -q "resolves to 16 'Πάτροκλος'" <<<"$out" || fail "Πάτροκλο is Πάτροκλος"
grep -q "resolves to 1 'Ποθητός'" <<<"$out" || fail "an article before a name"
grep -q "resolves to 24 " <<<"$out" || fail "the wreck of the Zenobia"

set +e
out=$(m "Blue Hole Dahab")
rc=$?
set -e
echo "$out"
[ "$rc" = 1 ] || fail "an unknown place must exit 1, got $rc"
grep -q "unresolved" <<<"$out" || fail "an unknown place must say it is unresolved"

json=$(m --json "Petrokaravo" "Nowhere Reef" || true)
echo "$json"
python3 - "$json" <<'PY' || fail "--json output"
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
assert [r["name"] for r in rows] == ["Petrokaravo", "Nowhere Reef"], rows
assert rows[0]["resolved"] == 13 and rows[0]["candidates"][0]["id"] == 13, rows[0]
assert rows[1]["resolved"] is None, rows[1]
PY
out=$(m --centers "Aqua Lavrio") || fail "center name"
grep -q "resolves to 1 " <<<"$out" || fail "Aqua Lavrio is center 1"
echo "match: all cases as expected"
