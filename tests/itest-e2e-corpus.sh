#!/bin/bash
# End to end over the corpus against a private MariaDB (run by
# tests/run-test): `parse all.mbox` stores, extracts and writes every
# newsletter; then the rows are read back by query, per message, into the
# corpus's JSON format and
#   1. compared field by field with what the pipeline itself printed for the
#      same message (`parse --dry-run`): the database holds exactly the
#      extraction, nothing lost or changed on the way;
#   2. scored against tests/corpus/expected with the corpus's score.py, with
#      the floors of the extractor (facts F1 0.98, sites 0.95, 90% of the
#      messages perfect, no false values).
# On our baseline schema and on Divemap's own (tests/fixtures/).
set -euo pipefail
: "${MARIADB_SOCKET:?run this test through tests/run-test}"
: "${top_srcdir:?}" "${top_builddir:?}"
prog=$top_builddir/divemap-ingest
corpus=$top_srcdir/tests/corpus
. "$top_srcdir/tests/itest-lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
sql() { mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -N -B "$db" "$@"; }
itest_conf "$tmp/conf"

new_db() { # $1: baseline | divemap
	db=e2e_$1
	mariadb --no-defaults -S "$MARIADB_SOCKET" -u root -e "
		CREATE DATABASE \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
		GRANT ALL ON \`$db\`.* TO '$MARIADB_USER'@'127.0.0.1', '$MARIADB_USER'@'localhost';"
	export DATABASE_URL="mysql://$MARIADB_USER:$MARIADB_PASSWORD@127.0.0.1:$MARIADB_PORT/$db"
	if [ "$1" = divemap ]; then
		sql <"$top_srcdir/tests/fixtures/divemap-0092.sql"
		"$prog" -c "$tmp/conf" migrate upgrade head 2>/dev/null || fail "$1: migrate"
		sql <"$top_srcdir/tests/fixtures/sites-divemap.sql"
	else
		"$prog" -c "$tmp/conf" migrate upgrade head 2>/dev/null || fail "$1: migrate"
		sql <"$corpus/sites.sql"
	fi
}

suite() { # $1: baseline | divemap
	echo "== $1 schema"
	new_db "$1"
	rm -rf "$tmp/direct" "$tmp/db"
	rc=0
	"$prog" -c "$tmp/conf" parse "$corpus/all.mbox" 2>"$tmp/parse.log" || rc=$?
	[ "$rc" = 0 ] || { tail -5 "$tmp/parse.log"; fail "parse all.mbox exited $rc"; }
	mkdir "$tmp/direct" "$tmp/db"
	"$prog" -c "$tmp/conf" parse --dry-run --output-dir "$tmp/direct" "$corpus"/messages/*.eml \
		2>"$tmp/dry.log" || { tail -5 "$tmp/dry.log"; fail "parse --dry-run"; }

	# the rows, by query, as the corpus's JSON
	sql -e "SELECT m.message_id, t.id, t.diving_center_id, t.trip_date, t.trip_time,
			t.trip_duration, t.trip_price, t.trip_currency, t.group_size_limit, l.code,
			t.special_requirements
		FROM parsed_dive_trips t JOIN ingest_messages m ON m.newsletter_id = t.source_newsletter_id
		LEFT JOIN difficulty_levels l ON l.id = t.trip_difficulty_id
		ORDER BY m.id, t.id" >"$tmp/trips.tsv"
	sql -e "SELECT d.trip_id, d.dive_number, d.dive_site_id, d.dive_time, d.dive_duration
		FROM parsed_dives d ORDER BY d.trip_id, d.dive_number" >"$tmp/dives.tsv"
	sql -e "SELECT message_id FROM ingest_messages" >"$tmp/messages.tsv"

	python3 - "$corpus/expected" "$tmp" <<'PY'
import json, sys
from pathlib import Path
expected, tmp = Path(sys.argv[1]), Path(sys.argv[2])

def cell(v, conv=str):
    return None if v == "NULL" else conv(v)

def hhmm(v):
    return None if v is None else v[:5]

def price(v):
    return None if v is None else float(v)

trips, dives = {}, {}
for line in (tmp / "dives.tsv").read_text().splitlines():
    tid, num, site, time, dur = line.split("\t")
    dives.setdefault(tid, []).append({"dive_number": int(num), "dive_site_id": cell(site, int),
                                      "dive_time": hhmm(cell(time)), "dive_duration": cell(dur, int)})
for line in (tmp / "trips.tsv").read_text().splitlines():
    (mid, tid, center, date, time, dur, pr, cur, size, diff, req) = line.split("\t")
    trips.setdefault(mid, []).append({
        "diving_center_id": cell(center, int), "trip_date": date, "trip_time": hhmm(cell(time)),
        "trip_duration": cell(dur, int), "trip_price": price(cell(pr)), "trip_currency": cell(cur),
        "group_size_limit": cell(size, int), "trip_difficulty": cell(diff),
        "special_requirements": cell(req), "dives": dives.get(tid, [])})
stored = set(tmp.joinpath("messages.tsv").read_text().split("\n")) - {""}

def comparable(t):  # what the writer must keep: every scored field, dives by number
    return (t["trip_date"], hhmm(t.get("trip_time")), t.get("trip_duration"),
            None if t.get("trip_price") is None else round(float(t["trip_price"]), 2),
            t.get("trip_currency") or "EUR", t.get("group_size_limit"), t.get("trip_difficulty"),
            bool(t.get("special_requirements")),
            tuple((d.get("dive_number"), d.get("dive_site_id"), hhmm(d.get("dive_time")),
                   d.get("dive_duration")) for d in t.get("dives", [])))

bad = []
for exp in sorted(expected.glob("*.json")):
    mid = json.loads(exp.read_text())["message_id"]
    if mid not in stored:
        bad.append(f"{exp.stem}: {mid} not stored")
        continue
    mine = trips.get(mid, [])
    (tmp / "db" / exp.name).write_text(json.dumps({"message_id": mid, "trips": mine}))
    direct = json.loads((tmp / "direct" / exp.name).read_text())
    want = sorted(comparable(t) for t in direct.get("trips", []) if t.get("trip_date"))
    got = sorted(comparable(t) for t in mine)
    if want != got:
        bad.append(f"{exp.stem}: the rows differ from the extraction\n  extracted {want}\n  rows      {got}")
if bad:
    sys.exit("\n".join(bad))
print(f"ok: the rows of all {len(list(expected.glob('*.json')))} messages are exactly their extraction")
PY

	python3 "$corpus/score.py" "$corpus/expected" "$tmp/db" | tail -3
	python3 "$corpus/score.py" --json "$corpus/expected" "$tmp/db" >"$tmp/score.json"
	python3 - "$tmp/score.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
floors = [("facts F1", s["facts"]["f1"], 0.98), ("sites", s["sites"]["rate"], 0.95),
          ("messages perfect", s["messages_perfect"] / s["messages"], 0.90)]
bad = [f"{name} {got:.3f} < {floor}" for name, got, floor in floors if got < floor]
if s["facts"]["false_value"]:
    bad.append(f"{s['facts']['false_value']} false values (printed where the text states none)")
if bad:
    sys.exit("the database rows score below the floor: " + "; ".join(bad))
print("ok: the database rows score above every floor")
PY
}

suite baseline
if [ -f "$top_srcdir/tests/fixtures/divemap-0092.sql" ]; then
	suite divemap
else
	echo "tests/fixtures/divemap-0092.sql missing: Divemap's schema not tested"
fi
