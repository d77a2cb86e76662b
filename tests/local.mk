# tests/: cmocka unit tests (no server) and integration tests (a private
# MariaDB or Dovecot started by tests/run-test for names itest-*).
TEST_LIBS = libdivemap.a $(DEPS_LIBS) $(CMOCKA_LIBS)
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	export top_srcdir top_builddir;
LOG_COMPILER = $(SHELL) $(top_srcdir)/tests/run-test
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL) $(top_srcdir)/tests/run-test
EXTRA_DIST += tests/run-test tests/mariadb.sh tests/itest-lib.sh

check_PROGRAMS += tests/test-buf tests/test-dburl tests/test-config tests/itest-db-connect
TESTS += tests/test-buf tests/test-dburl tests/test-config tests/itest-db-connect
tests_test_buf_SOURCES = tests/test-buf.c
tests_test_buf_LDADD = $(TEST_LIBS)
tests_test_dburl_SOURCES = tests/test-dburl.c
tests_test_dburl_LDADD = $(TEST_LIBS)
tests_test_config_SOURCES = tests/test-config.c
tests_test_config_LDADD = $(TEST_LIBS)
tests_itest_db_connect_SOURCES = tests/itest-db-connect.c
tests_itest_db_connect_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/corpus

check_PROGRAMS += tests/test-sql-split
TESTS += tests/test-sql-split
tests_test_sql_split_SOURCES = tests/test-sql-split.c
tests_test_sql_split_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/test-normalize tests/test-alias-index
TESTS += tests/test-normalize tests/test-alias-index
tests_test_normalize_SOURCES = tests/test-normalize.c tests/fixtures/site-terms.h
tests_test_normalize_LDADD = $(TEST_LIBS)
tests_test_alias_index_SOURCES = tests/test-alias-index.c tests/fixtures/site-terms.h
tests_test_alias_index_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/test-mime-decode tests/test-html-text
TESTS += tests/test-mime-decode tests/test-html-text
tests_test_mime_decode_SOURCES = tests/test-mime-decode.c
tests_test_mime_decode_LDADD = $(TEST_LIBS)
tests_test_html_text_SOURCES = tests/test-html-text.c
tests_test_html_text_LDADD = $(TEST_LIBS)

# The alias matcher's benchmark (not a test): bench/matcher.sh runs it.
noinst_PROGRAMS += bench/bench-matcher
bench_bench_matcher_SOURCES = bench/bench-matcher.c tests/fixtures/site-terms.h
bench_bench_matcher_LDADD = libdivemap.a $(DEPS_LIBS)
EXTRA_DIST += bench/matcher.sh
check_PROGRAMS += tests/test-source-mbox
TESTS += tests/test-source-mbox
tests_test_source_mbox_SOURCES = tests/test-source-mbox.c
tests_test_source_mbox_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/test-source-maildir
TESTS += tests/test-source-maildir
tests_test_source_maildir_SOURCES = tests/test-source-maildir.c
tests_test_source_maildir_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/dovecot.sh

# The pure pipeline over the corpus, scored (tests/test-corpus-score.sh).
check_PROGRAMS += tests/pipeline-run
tests_pipeline_run_SOURCES = tests/pipeline-run.c
tests_pipeline_run_LDADD = $(TEST_LIBS)
TESTS += tests/test-corpus-score.sh
EXTRA_DIST += tests/test-corpus-score.sh tests/sites-to-names.py
check_PROGRAMS += tests/test-frame
TESTS += tests/test-frame
tests_test_frame_SOURCES = tests/test-frame.c
tests_test_frame_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/itest-writer
TESTS += tests/itest-writer
tests_itest_writer_SOURCES = tests/itest-writer.c
tests_itest_writer_LDADD = $(TEST_LIBS) -lpthread
# The worker against a test double of the pipeline (tests/pipeline-fake.c).
check_PROGRAMS += tests/test-worker
TESTS += tests/test-worker
tests_test_worker_SOURCES = tests/test-worker.c tests/pipeline-fake.c
tests_test_worker_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/test-tls-stream
TESTS += tests/test-tls-stream
tests_test_tls_stream_SOURCES = tests/test-tls-stream.c
tests_test_tls_stream_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/itest-imap-source
TESTS += tests/itest-imap-source
tests_itest_imap_source_SOURCES = tests/itest-imap-source.c
tests_itest_imap_source_LDADD = $(TEST_LIBS)
TESTS += tests/itest-writer-reparse.sh
EXTRA_DIST += tests/itest-writer-reparse.sh

# The migrator: integration tests against a private MariaDB (run-test starts it).
TESTS += tests/itest-migrate-roundtrip.sh tests/itest-migrate-sql.sh \
	tests/itest-migrate-concurrent.sh tests/itest-migrate-broken.sh \
	tests/itest-migrate-divemap.sh
EXTRA_DIST += tests/itest-migrate-roundtrip.sh tests/itest-migrate-sql.sh \
	tests/itest-migrate-concurrent.sh tests/itest-migrate-broken.sh \
	tests/itest-migrate-divemap.sh tests/itest-migrate-lib.sh \
	tests/fixtures/divemap-0092.sql tests/fixtures/sites-divemap.sql
TESTS += tests/itest-parse-store.sh tests/itest-parse-hostile.sh tests/itest-parse-dryrun.sh
EXTRA_DIST += tests/itest-parse-store.sh tests/itest-parse-hostile.sh tests/itest-parse-dryrun.sh
TESTS += tests/itest-parse-group.sh
EXTRA_DIST += tests/itest-parse-group.sh
check_PROGRAMS += tests/itest-migrate-ensure
TESTS += tests/itest-migrate-ensure
tests_itest_migrate_ensure_SOURCES = tests/itest-migrate-ensure.c
tests_itest_migrate_ensure_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/test-notify
TESTS += tests/test-notify
tests_test_notify_SOURCES = tests/test-notify.c
tests_test_notify_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/test-report-html
TESTS += tests/test-report-html
tests_test_report_html_SOURCES = tests/test-report-html.c
tests_test_report_html_LDADD = $(TEST_LIBS)

check_PROGRAMS += tests/test-dates tests/test-rules tests/test-extract
TESTS += tests/test-dates tests/test-rules tests/test-extract
tests_test_dates_SOURCES = tests/test-dates.c
tests_test_dates_LDADD = $(TEST_LIBS)
tests_test_rules_SOURCES = tests/test-rules.c
tests_test_rules_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/test-fold
TESTS += tests/test-fold
tests_test_fold_SOURCES = tests/test-fold.c
tests_test_fold_LDADD = $(TEST_LIBS)
check_PROGRAMS += tests/test-aho-corasick
TESTS += tests/test-aho-corasick
tests_test_aho_corasick_SOURCES = tests/test-aho-corasick.c
tests_test_aho_corasick_LDADD = $(TEST_LIBS)
tests_test_extract_SOURCES = tests/test-extract.c
tests_test_extract_LDADD = $(TEST_LIBS)
TESTS += tests/check-unit.sh
EXTRA_DIST += tests/check-unit.sh
EXTRA_DIST += bench/parse.sh bench/lib.sh bench/ingest-db.sh \
	bench/extract.sh bench/imap-sync.sh bench/push-latency.sh bench/README.md
check_PROGRAMS += tests/itest-imap-serve
TESTS += tests/itest-imap-serve
tests_itest_imap_serve_SOURCES = tests/itest-imap-serve.c
tests_itest_imap_serve_LDADD = $(TEST_LIBS)
TESTS += tests/itest-writer-log.sh
EXTRA_DIST += tests/itest-writer-log.sh
check_PROGRAMS += tests/itest-parse-store-api
TESTS += tests/itest-parse-store-api
tests_itest_parse_store_api_SOURCES = tests/itest-parse-store-api.c
tests_itest_parse_store_api_LDADD = $(TEST_LIBS)
TESTS += tests/itest-e2e-corpus.sh
EXTRA_DIST += tests/itest-e2e-corpus.sh
TESTS += tests/test-match.sh tests/itest-match.sh
EXTRA_DIST += tests/test-match.sh tests/itest-match.sh
check_PROGRAMS += tests/test-imap-utf7
TESTS += tests/test-imap-utf7
tests_test_imap_utf7_SOURCES = tests/test-imap-utf7.c
tests_test_imap_utf7_LDADD = $(TEST_LIBS)
TESTS += tests/test-holdout-score.sh
EXTRA_DIST += tests/score-set.sh tests/test-holdout-score.sh tests/holdout tests/holdout2
TESTS += tests/test-config-examples.sh
EXTRA_DIST += tests/test-config-examples.sh
TESTS += tests/itest-serve-reload.sh
EXTRA_DIST += tests/itest-serve-reload.sh
TESTS += tests/itest-report-render.sh
EXTRA_DIST += tests/itest-report-render.sh
TESTS += tests/test-holdout2-score.sh
EXTRA_DIST += tests/test-holdout2-score.sh
CLEANFILES += tests/report.png
TESTS += tests/itest-serve-backlog.sh
EXTRA_DIST += tests/itest-serve-backlog.sh
EXTRA_DIST += tests/fault-imap.sh tests/fault-db-readonly.sh
TESTS += tests/itest-fault-quick.sh
EXTRA_DIST += tests/itest-fault-quick.sh
EXTRA_DIST += bench/idle.sh
TESTS += tests/itest-writer-refused.sh
EXTRA_DIST += tests/itest-writer-refused.sh
