#!/usr/bin/env python3
"""Turns a sites.sql of the corpus (INSERT INTO diving_centers / dive_sites /
dive_site_aliases) into the names JSON the worker and `parse --names` take:
{"sites": [[id, name]], "aliases": [[site_id, alias]], "centers": [[id, name, email]]}.
usage: sites-to-names.py SITES.SQL > names.json"""
import json
import re
import sys

TUPLE = re.compile(r"\(\s*(\d+)\s*,\s*'((?:[^']|'')*)'(?:\s*,\s*'((?:[^']|'')*)')?")


def tuples(sql, table):
    m = re.search(r"INSERT INTO\s+`?%s`?\s*\([^)]*\)\s*VALUES(.*?);\s*$" % table, sql, re.S | re.M)
    if not m:
        return []
    return [(int(a), b.replace("''", "'"), (c or "").replace("''", "'"))
            for a, b, c in TUPLE.findall(m.group(1))]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sql = open(sys.argv[1], encoding="utf-8").read()
    out = {
        "sites": [[i, n] for i, n, _ in tuples(sql, "dive_sites")],
        "aliases": [[i, a] for i, a, _ in tuples(sql, "dive_site_aliases")],
        "centers": [[i, n, e] for i, n, e in tuples(sql, "diving_centers")],
    }
    if not out["sites"]:
        sys.exit("no dive_sites found in " + sys.argv[1])
    json.dump(out, sys.stdout, ensure_ascii=False)


main()
