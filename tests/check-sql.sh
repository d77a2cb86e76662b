#!/bin/sh
# check-sql.sh: no SQL statement in src/ is built with printf-style
# formatting. Every call of snprintf, asprintf, sprintf, buf_printf and their
# v-forms whose format (all its string literals, joined) holds an SQL
# keyword (SELECT, INSERT, UPDATE .. SET, DELETE FROM, WHERE, ...) and a
# conversion (%s, %d, ...) fails the check: data goes through placeholders
# (prepared statements), never into the text. Where the formatted part is no
# data (a fixed identifier, a column list known at compile time), a comment
# "sql-format-ok: WHY" on the call's line or the two lines before allows it,
# or, for a file this check does not edit, an entry of ALLOWED below (file,
# the format's start, why).
set -eu
: "${top_srcdir:=.}"
exec python3 - "$top_srcdir"/src/*.c "$top_srcdir"/parsers/*.c <<'PY'
import re, sys

CALL = re.compile(r'\b(v?snprintf|v?asprintf|v?sprintf|buf_v?printf)\s*\(')
STR = re.compile(r'"((?:[^"\\]|\\.)*)"')
SQL = re.compile(r'\b(SELECT|INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM|WHERE|REPLACE\s+INTO|'
                 r'CREATE\s+TABLE|ALTER\s+TABLE|DROP\s+TABLE|GRANT|VALUES\s*\()\b')
CONV = re.compile(r'%(?!%)[-+ #0-9.*]*(?:hh|h|ll|l|z|j|t)?[sdiuxXcpgfeE]')

ALLOWED = [
    ('src/cmd-log.c', 'SELECT %s FROM ingest_parse_log',
     'the column list: a compile-time constant of every cmdlog_query() caller'),
    ('src/migrate-state.c', 'SELECT 1 FROM `%s`',
     'a table name from a migration file, refused unless is_identifier()'),
]

bad = checked = allowed = 0
for path in sys.argv[1:]:
    text = open(path, encoding='utf-8', errors='replace').read()
    lines = text.split('\n')
    for m in CALL.finditer(text):
        # the call's text: to the parenthesis that closes it
        depth, i, in_str = 0, m.end() - 1, False
        while i < len(text):
            c = text[i]
            if in_str:
                if c == '\\':
                    i += 1
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c == '(':
                depth += 1
            elif c == ')':
                depth -= 1
                if depth == 0:
                    break
            i += 1
        call = text[m.start():i + 1]
        fmt = ''.join(STR.findall(call))
        if not SQL.search(fmt) or not CONV.search(fmt):
            continue
        checked += 1
        line = text.count('\n', 0, m.start()) + 1
        near = '\n'.join(lines[max(0, line - 3):line])
        if 'sql-format-ok:' in near or any(path.endswith(f) and fmt.startswith(start)
                                            for f, start, _ in ALLOWED):
            allowed += 1
            continue
        bad += 1
        print('%s:%d: SQL built by %s with data: "%s"' % (path, line, m.group(1), fmt[:120]))
print('check-sql: %d formatted SQL strings, %d allowed (sql-format-ok comment or ALLOWED), %d not'
      % (checked, allowed, bad))
sys.exit(1 if bad else 0)
PY
