# parsers/: the pure pipeline (no database, no clock, no logging).
libdivemap_a_SOURCES += \
	parsers/message.h \
	parsers/charset.c parsers/charset.h \
	parsers/html-text.c parsers/html-text.h \
	parsers/mime-decode.c parsers/mime-decode.h
libdivemap_a_SOURCES += \
	parsers/normalize.c parsers/normalize.h \
	parsers/translit.c parsers/translit.h \
	parsers/alias-index.c parsers/alias-index.h \
	parsers/alias-index-private.h parsers/alias-index-postings.c \
	parsers/alias-index-score.c
libdivemap_a_SOURCES += \
	parsers/fold.c parsers/fold.h \
	parsers/rules.c parsers/rules.h parsers/rules-private.h \
	parsers/rules-parse.c parsers/rules-compile.c parsers/rules-scan.c \
	parsers/rules-pattern.c parsers/rules-prefilter.c parsers/rules-trie.c \
	parsers/aho-corasick.c parsers/aho-corasick.h \
	parsers/dates.c parsers/dates.h
libdivemap_a_SOURCES += \
	parsers/extract.c parsers/extract.h parsers/extract-private.h \
	parsers/extract-facts.c parsers/extract-sites.c parsers/extract-times.c \
	parsers/extract-trip.c \
	parsers/extract-json.c
libdivemap_a_SOURCES += parsers/pipeline.c parsers/pipeline.h
