# tests/fuzz/: fuzz harnesses (tests/fuzz/README.md). Each fuzz-NAME.c is
# built two ways: tests/fuzz/replay-NAME (replay.c's main() over the inputs in
# tests/fuzz/regress/NAME/), a test of make check; and, with
# `configure --enable-fuzzing` (clang), tests/fuzz/fuzz-NAME on libFuzzer,
# run by tests/fuzz/run-all.sh.
FUZZ_COMMON = tests/fuzz/fuzz-common.c tests/fuzz/fuzz.h
FUZZ_LIBS = libdivemap.a $(DEPS_LIBS)
EXTRA_DIST += tests/fuzz/README.md tests/fuzz/run-all.sh tests/fuzz/make-seeds.sh tests/fuzz/regress
check_PROGRAMS += tests/fuzz/replay-mime
TESTS += tests/fuzz/replay-mime
tests_fuzz_replay_mime_SOURCES = tests/fuzz/fuzz-mime.c tests/fuzz/replay.c $(FUZZ_COMMON)
tests_fuzz_replay_mime_LDADD = $(FUZZ_LIBS)
check_PROGRAMS += tests/fuzz/replay-html
TESTS += tests/fuzz/replay-html
tests_fuzz_replay_html_SOURCES = tests/fuzz/fuzz-html.c tests/fuzz/replay.c $(FUZZ_COMMON)
tests_fuzz_replay_html_LDADD = $(FUZZ_LIBS)
check_PROGRAMS += tests/fuzz/replay-extract
TESTS += tests/fuzz/replay-extract
tests_fuzz_replay_extract_SOURCES = tests/fuzz/fuzz-extract.c tests/fuzz/replay.c $(FUZZ_COMMON)
tests_fuzz_replay_extract_LDADD = $(FUZZ_LIBS)
check_PROGRAMS += tests/fuzz/replay-mbox
TESTS += tests/fuzz/replay-mbox
tests_fuzz_replay_mbox_SOURCES = tests/fuzz/fuzz-mbox.c tests/fuzz/replay.c $(FUZZ_COMMON)
tests_fuzz_replay_mbox_LDADD = $(FUZZ_LIBS)
check_PROGRAMS += tests/fuzz/replay-config
TESTS += tests/fuzz/replay-config
tests_fuzz_replay_config_SOURCES = tests/fuzz/fuzz-config.c tests/fuzz/replay.c $(FUZZ_COMMON)
tests_fuzz_replay_config_LDADD = $(FUZZ_LIBS)
check_PROGRAMS += tests/fuzz/replay-normalize
TESTS += tests/fuzz/replay-normalize
tests_fuzz_replay_normalize_SOURCES = tests/fuzz/fuzz-normalize.c tests/fuzz/replay.c $(FUZZ_COMMON)
tests_fuzz_replay_normalize_LDADD = $(FUZZ_LIBS)
check_PROGRAMS += tests/fuzz/replay-frame
TESTS += tests/fuzz/replay-frame
tests_fuzz_replay_frame_SOURCES = tests/fuzz/fuzz-frame.c tests/fuzz/replay.c $(FUZZ_COMMON)
tests_fuzz_replay_frame_LDADD = $(FUZZ_LIBS)
if FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz-mime
tests_fuzz_fuzz_mime_SOURCES = tests/fuzz/fuzz-mime.c $(FUZZ_COMMON)
tests_fuzz_fuzz_mime_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_mime_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
noinst_PROGRAMS += tests/fuzz/fuzz-html
tests_fuzz_fuzz_html_SOURCES = tests/fuzz/fuzz-html.c $(FUZZ_COMMON)
tests_fuzz_fuzz_html_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_html_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
noinst_PROGRAMS += tests/fuzz/fuzz-extract
tests_fuzz_fuzz_extract_SOURCES = tests/fuzz/fuzz-extract.c $(FUZZ_COMMON)
tests_fuzz_fuzz_extract_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_extract_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
noinst_PROGRAMS += tests/fuzz/fuzz-mbox
tests_fuzz_fuzz_mbox_SOURCES = tests/fuzz/fuzz-mbox.c $(FUZZ_COMMON)
tests_fuzz_fuzz_mbox_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_mbox_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
noinst_PROGRAMS += tests/fuzz/fuzz-config
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz-config.c $(FUZZ_COMMON)
tests_fuzz_fuzz_config_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_config_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
noinst_PROGRAMS += tests/fuzz/fuzz-normalize
tests_fuzz_fuzz_normalize_SOURCES = tests/fuzz/fuzz-normalize.c $(FUZZ_COMMON)
tests_fuzz_fuzz_normalize_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_normalize_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
noinst_PROGRAMS += tests/fuzz/fuzz-frame
tests_fuzz_fuzz_frame_SOURCES = tests/fuzz/fuzz-frame.c $(FUZZ_COMMON)
tests_fuzz_fuzz_frame_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_frame_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
endif

# Hardening: the unit tests and the replays under valgrind memcheck.
check-valgrind: $(check_PROGRAMS)
	top_srcdir=$(top_srcdir) top_builddir=$(top_builddir) $(SHELL) $(top_srcdir)/tests/check-valgrind.sh
.PHONY: check-valgrind
EXTRA_DIST += tests/check-valgrind.sh
EXTRA_DIST += tests/check-sanitizers.sh
# Hardening: no password in output or in the worker (private MariaDB).
TESTS += tests/itest-secrets.sh
EXTRA_DIST += tests/itest-secrets.sh
# Hardening: no SQL text built by printf-style formatting with data.
TESTS += tests/check-sql.sh
EXTRA_DIST += tests/check-sql.sh
# Hardening: hostile mail through the pipeline, timed (tests/test-hostile.c).
check_PROGRAMS += tests/test-hostile
TESTS += tests/test-hostile
tests_test_hostile_SOURCES = tests/test-hostile.c
tests_test_hostile_LDADD = $(TEST_LIBS)
# Fault injection against serve: documented commands, not tests (minutes).
EXTRA_DIST += tests/fault-lib.sh tests/fault-kill9.sh tests/fault-db-outage.sh
