# migrations/: numbered up/down SQL, installed under $(pkgdatadir)/migrations.
migrationsdir = $(pkgdatadir)/migrations
dist_migrations_DATA = \
	migrations/0001_divemap_baseline.up.sql migrations/0001_divemap_baseline.down.sql \
	migrations/0002_ingest_tables.up.sql migrations/0002_ingest_tables.down.sql
