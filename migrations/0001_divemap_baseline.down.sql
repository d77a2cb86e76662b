-- Undoes the baseline on a standalone database only. Divemap's data is never
-- dropped: the migrator refuses to run this file while any table named in
-- the require-empty line holds a row (the four seeded difficulty levels are
-- ours), and on a database that Divemap's Alembic manages it runs none of
-- it, because the baseline never created anything there.
--
-- migrate: divemap-owned
-- migrate: require-empty parsed_dives, parsed_dive_trips, newsletters, dive_site_aliases, dive_sites, diving_centers

DROP TABLE IF EXISTS parsed_dives;
DROP TABLE IF EXISTS parsed_dive_trips;
DROP TABLE IF EXISTS newsletters;
DROP TABLE IF EXISTS dive_site_aliases;
DROP TABLE IF EXISTS dive_sites;
DROP TABLE IF EXISTS diving_centers;
DROP TABLE IF EXISTS difficulty_levels;
