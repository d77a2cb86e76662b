# parsers/: the pure pipeline (no database, no clock, no logging).
