# contrib/: systemd unit and friends, set-up scripts.
# The systemd unit (paths filled in at build time), its system user, and an
# example configuration in the documentation folder.
systemdsystemunit_DATA = contrib/systemd/divemap-ingest.service
sysusersdir = $(prefix)/lib/sysusers.d
dist_sysusers_DATA = contrib/systemd/sysusers/divemap-ingest.conf
dist_doc_DATA = contrib/divemap-ingest.conf.example
contrib/systemd/divemap-ingest.service: contrib/systemd/divemap-ingest.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib/systemd && \
	sed -e 's|@bindir[@]|$(bindir)|g' -e 's|@docdir[@]|$(docdir)|g' \
		$(srcdir)/contrib/systemd/divemap-ingest.service.in >$@
CLEANFILES += contrib/systemd/divemap-ingest.service
EXTRA_DIST += contrib/systemd/divemap-ingest.service.in
# distcheck installs as an ordinary user: the unit under the prefix, not /lib
AM_DISTCHECK_CONFIGURE_FLAGS = --with-systemdsystemunitdir='$${prefix}/lib/systemd/system'
