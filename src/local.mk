# src/: the program (everything but main() goes into libdivemap.a).
libdivemap_a_SOURCES += \
	src/buf.c src/buf.h \
	src/cleanup.h \
	src/digest.c src/digest.h \
	src/log.c src/log.h \
	src/strutil.c src/strutil.h
libdivemap_a_SOURCES += \
	src/commands.h \
	src/config.c src/config.h \
	src/db.c src/db.h \
	src/dburl.c src/dburl.h
libdivemap_a_SOURCES += \
	src/sql-split.c src/sql-split.h
libdivemap_a_SOURCES += \
	src/source.c src/source.h \
	src/source-mbox.c src/source-mbox.h \
	src/source-eml.c src/source-eml.h
libdivemap_a_SOURCES += \
	src/source-maildir.c src/source-maildir.h
libdivemap_a_SOURCES += \
	src/migrate.c src/migrate.h src/migrate-private.h src/migrate-admin.c \
	src/migrate-files.c src/migrate-lock.c src/migrate-state.c
libdivemap_a_SOURCES += \
	src/writer.c src/writer.h
libdivemap_a_SOURCES += src/cmd-migrate.c
libdivemap_a_SOURCES += \
	src/frame.c src/frame.h
libdivemap_a_SOURCES += \
	src/worker.c src/worker.h \
	src/worker-sandbox.c src/worker-sandbox.h
libdivemap_a_SOURCES += \
	src/store.c src/store.h \
	src/names.c src/names.h \
	src/cmd-parse.c
libdivemap_a_SOURCES += \
	src/tls-stream.c src/tls-stream.h \
	src/source-imap.c src/source-imap.h \
	src/source-config.c
libdivemap_a_SOURCES += src/cmd-reparse.c
libdivemap_a_SOURCES += src/claim.c src/claim.h
libdivemap_a_SOURCES += \
	src/notify.c src/notify.h \
	src/daemon.c src/daemon.h
libdivemap_a_SOURCES += src/report-html.c src/report-html.h
libdivemap_a_SOURCES += src/cmd-rules.c
libdivemap_a_SOURCES += src/cmd-log.c src/cmd-log.h src/cmd-report.c
libdivemap_a_SOURCES += src/cmd-serve.c
libdivemap_a_SOURCES += src/writer-unresolved.c src/writer-private.h
libdivemap_a_SOURCES += src/cmd-match.c
libdivemap_a_SOURCES += src/source-imap-session.c src/source-imap-private.h
libdivemap_a_SOURCES += src/imap-utf7.c src/imap-utf7.h
libdivemap_a_SOURCES += src/ingest.c src/ingest.h
libdivemap_a_SOURCES += src/clock.h
# The helper programs of src/libexec.h: the worker, and src/main.c with the
# commands that run the parsers in-process (match, rules), so that neither
# the daemon nor the worker loads what it does not call. --as-needed: each
# program records only the libraries it calls.
libdivemap_a_SOURCES += src/worker-child.c src/worker-private.h
libdivemap_a_SOURCES += src/libexec.c src/libexec.h
pkglibexec_PROGRAMS = divemap-ingest-worker divemap-ingest-parsers
divemap_ingest_worker_SOURCES = src/worker-main.c
divemap_ingest_worker_LDADD = libdivemap.a $(DEPS_LIBS)
divemap_ingest_worker_LDFLAGS = $(AM_LDFLAGS) -Wl,--as-needed
divemap_ingest_parsers_SOURCES = src/main.c
divemap_ingest_parsers_CPPFLAGS = $(AM_CPPFLAGS) -DDIVEMAP_PARSERS_PROGRAM
divemap_ingest_parsers_LDADD = libdivemap.a $(DEPS_LIBS)
divemap_ingest_parsers_LDFLAGS = $(AM_LDFLAGS) -Wl,--as-needed
divemap_ingest_LDFLAGS = $(AM_LDFLAGS) -Wl,--as-needed
EXTRA_divemap_ingest_DEPENDENCIES = $(pkglibexec_PROGRAMS)
