#!/bin/sh
# make-seeds.sh OUTDIR: seed corpora for the fuzz harnesses, made from the
# test corpus (tests/corpus) and a few hand-written inputs, one folder per
# harness: OUTDIR/mime, html, extract, mbox, config, normalize, frame.
# Nothing here is committed: the seeds are rebuilt from the corpus each time.
set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
out=$1
corpus=$top_srcdir/tests/corpus
for h in mime html extract mbox config normalize frame; do
	mkdir -p "$out/$h"
	# the regression inputs are seeds too
	[ -d "$top_srcdir/tests/fuzz/regress/$h" ] && cp "$top_srcdir/tests/fuzz/regress/$h/"* "$out/$h/" 2>/dev/null || true
done

i=0
for f in "$corpus"/messages/*.eml; do
	i=$((i + 1))
	cp "$f" "$out/mime/$i.eml"
	# the body after the header, as text for the rule engine and as HTML
	sed '1,/^\r\{0,1\}$/d' "$f" >"$out/extract/$i.txt"
	sed '1,/^\r\{0,1\}$/d' "$f" | grep -i -q '<html\|<table\|<p\b' &&
		sed '1,/^\r\{0,1\}$/d' "$f" >"$out/html/$i.html"
	# one message as an mbox of its own
	{ echo "From sender@example.com Sat Jan  1 00:00:00 2000"; sed 's/^\(>*From \)/>\1/' "$f"; echo; } \
		>"$out/mbox/$i.mbox"
done
# the first 64 KiB of the corpus mbox: several messages and their From lines
head -c 65536 "$corpus/all.mbox" >"$out/mbox/all-head.mbox"
printf '<p>Sunday <b>12/7</b> 08:30<br>Wreck&nbsp;Zenobia &amp; Blue Hole</p><ul><li>45 &euro;</li></ul>' \
	>"$out/html/small.html"

# site names as written in sites.sql, one per file
grep -o "'[^']\{3,60\}'" "$corpus/sites.sql" | tr -d "'" | head -200 | while IFS= read -r name; do
	i=$((i + 1))
	printf '%s' "$name" >"$out/normalize/$i.txt"
done

cp "$top_srcdir/contrib/divemap-ingest.conf.example" "$out/config/example.conf"
printf 'mysql+pymysql://divemap_user:divemap_password@localhost:3306/divemap\n' >"$out/config/url1"
printf 'mariadb://u:p%%40ss@[::1]:3307/db?unix_socket=/run/mysqld/mysqld.sock&charset=utf8mb4\n' \
	>"$out/config/url2"
printf '[database]\nurl = mysql://a:b@h/d\nauto_migrate = yes\n[maildir in]\npath = /m\n[imap]\nhost = h\nuser = u\n' \
	>"$out/config/small.conf"

# frames: header {type, len, id} in native (little-endian) order, payloads
# of u32, u64, strings and bytes
printf '\001\000\000\000\020\000\000\000\007\000\000\000\000\002\003\000abc\000\003\000\000\000xyz' \
	>"$out/frame/mixed.bin"
printf '\002\000\000\000\010\000\000\000\001\000\000\000\001\001\001\001\001\001\001\001' \
	>"$out/frame/u64.bin"
