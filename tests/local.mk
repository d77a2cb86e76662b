# tests/: cmocka unit tests (no server) and integration tests (a private
# MariaDB or Dovecot started by tests/run-test for names itest-*).
TEST_LIBS = libdivemap.a $(DEPS_LIBS) $(CMOCKA_LIBS)
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	export top_srcdir top_builddir;
LOG_COMPILER = $(SHELL) $(top_srcdir)/tests/run-test
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL) $(top_srcdir)/tests/run-test
EXTRA_DIST += tests/run-test tests/mariadb.sh
