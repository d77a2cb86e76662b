#!/bin/bash
# Scores the pure pipeline (decode, extract, resolve) on one newsletter set of
# tests/ (SET/messages, SET/expected, SET/sites.sql) with the corpus's own
# score.py, and fails below the given floors (facts F1, sites, share of
# messages perfect) or on any false value (a value printed where the text
# states none).
#   usage: score-set.sh SET F1_FLOOR SITES_FLOOR PERFECT_FLOOR
set -eu
: "${top_srcdir:?}" "${top_builddir:?}"
set_=$1 f1=$2 sites=$3 perfect=$4
dir=$top_srcdir/tests/$set_
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 "$top_srcdir/tests/sites-to-names.py" "$dir/sites.sql" >"$out/names.json"
mkdir "$out/json"
"$top_builddir/tests/pipeline-run" "$top_srcdir/rules" "$out/names.json" "$out/json" \
	"$dir"/messages/*.eml
score=$top_srcdir/tests/corpus/score.py
python3 "$score" "$dir/expected" "$out/json"
python3 "$score" --json "$dir/expected" "$out/json" >"$out/score.json"
python3 - "$out/score.json" "$set_" "$f1" "$sites" "$perfect" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
name, f1, sites, perfect = sys.argv[2], *map(float, sys.argv[3:6])
floors = [("facts F1", s["facts"]["f1"], f1), ("sites", s["sites"]["rate"], sites),
          ("messages perfect", s["messages_perfect"] / s["messages"], perfect)]
bad = [f"{what} {got:.3f} < {floor}" for what, got, floor in floors if got < floor]
if s["facts"]["false_value"]:
    bad.append(f"{s['facts']['false_value']} false values (printed where the text states none)")
if bad:
    sys.exit(f"{name}: below the floor: " + "; ".join(bad))
print(f"{name}: above every floor")
PY
