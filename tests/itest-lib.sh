# Not a test: shared by the tests/itest-*.sh that run divemap-ingest on the
# private MariaDB tests/run-test starts (sourced; top_srcdir is set).

# itest_conf FILE: the configuration they share: the packaged migrations and
# rules, and a database retried quickly (3 attempts, 100 to 200 ms apart).
itest_conf() {
	cat >"$1" <<CONF
[database]
migrations_dir = $top_srcdir/migrations
connect_attempts = 3
connect_retry_min = 100ms
connect_retry_max = 200ms
[parser]
rules_dir = $top_srcdir/rules
CONF
}
