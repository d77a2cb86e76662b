# rules/: language packs, installed under $(pkgdatadir)/rules.
rulesdir = $(pkgdatadir)/rules
dist_rules_DATA = rules/common.rules rules/el.rules rules/en.rules rules/README.md
