/* migrate.h: the schema migrator (numbered up/down SQL files).
 *
 * Files are DIR/NNNN_name.up.sql and DIR/NNNN_name.down.sql; NNNN is the
 * version. Applied versions are rows of ingest_migrations (made by the
 * migrator itself), each with the SHA-256 of its up file, verified before
 * every upgrade. Statements run one by one (MySQL DDL commits implicitly)
 * and progress is recorded per statement; a failure leaves a 'failed' row
 * that makes every later run refuse until `migrate repair` (resume at the
 * failed statement) or `migrate stamp`. Changes run under a database lock:
 * GET_LOCK, or on Galera a lease row in ingest_migrate_lock. A file marked
 * `-- migrate: divemap-owned` is skipped on a database that Divemap's
 * Alembic manages; its `-- migrate: require TABLE(col, ...)` lines are
 * checked instead.
 *
 * All functions log what they refuse and why, and return 0 or -errno. */
#ifndef DIVEMAP_MIGRATE_H
#define DIVEMAP_MIGRATE_H

#include <stdbool.h>
#include <stdio.h>

#include "cleanup.h"
#include "digest.h"

struct config;
struct db;
struct migrate;

enum migrate_lock_scheme { MIGRATE_LOCK_AUTO, MIGRATE_LOCK_SERVER, MIGRATE_LOCK_ROW };
enum migrate_state { MIGRATE_PENDING, MIGRATE_APPLYING, MIGRATE_APPLIED, MIGRATE_FAILED };

struct migrate_settings {
	const char *dir;         /* NULL: migrate_default_dir(cfg) */
	unsigned lock_timeout_s; /* waiting for another migrating process */
	enum migrate_lock_scheme lock;
	FILE *sql_out; /* set: upgrade/downgrade print SQL, run nothing */
};

/* One version, from its files, its ingest_migrations row, or both. */
struct migration {
	unsigned version;
	char *name;
	char *up_path, *down_path;      /* NULL: no file */
	char checksum[SHA256_HEX_SIZE]; /* of the up file; "" without one */
	bool recorded;                  /* a row exists */
	enum migrate_state state;       /* MIGRATE_PENDING when no row */
	char db_checksum[SHA256_HEX_SIZE];
	unsigned statements_done, statements_total;
	char *error; /* failure, or the note of a skipped/stamped migration */
	char *applied_by, *applied_at;
	long long duration_ms; /* -1: NULL */
};

/* The configured folder, else PKGDATADIR/migrations. */
const char *migrate_default_dir(const struct config *cfg);
void migrate_settings_from_config(struct migrate_settings *s, const struct config *cfg);

/* Reads the folder and, when db is not NULL and ingest_migrations exists,
 * the records. Changes nothing. */
int migrate_open(struct db *db, const struct migrate_settings *s, struct migrate **ret);
struct migrate *migrate_free(struct migrate *m);
DEFINE_CLEANUP_FUNC(struct migrate, migrate_free)

const struct migration *migrate_list(const struct migrate *m, size_t *ret_n);
unsigned migrate_head(const struct migrate *m);    /* 0: no files */
unsigned migrate_current(const struct migrate *m); /* highest applied, 0: base */
/* Divemap's Alembic revision(s), or NULL when Alembic does not manage the database. */
const char *migrate_alembic_revision(const struct migrate *m);

/* TARGET: "head", "+N" or a version ("2", "0002", "0002_ingest_tables"). */
int migrate_upgrade(struct migrate *m, const char *target);
/* TARGET: "-N", a version or "base". */
int migrate_downgrade(struct migrate *m, const char *target);
/* Records exactly the versions up to TARGET (or "head"/"base") as applied,
 * running nothing. */
int migrate_stamp(struct migrate *m, const char *target);
/* After review: records the files' checksums for applied versions whose
 * file changed, and lets a failed upgrade resume at its failed statement. */
int migrate_repair(struct migrate *m);

/* At start-up (serve): applies what is pending or, with auto_migrate off,
 * refuses naming the pending versions. */
int migrate_ensure(struct db *db, const struct config *cfg);

#endif
