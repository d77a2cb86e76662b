# rules/: language packs, installed under $(pkgdatadir)/rules.
