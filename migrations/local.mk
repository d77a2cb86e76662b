# migrations/: numbered up/down SQL, installed under $(pkgdatadir)/migrations.
