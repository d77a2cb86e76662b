/* migrate-private.h: what migrate*.c share; see migrate.h. */
#ifndef DIVEMAP_MIGRATE_PRIVATE_H
#define DIVEMAP_MIGRATE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "migrate.h"
#include "sql-split.h"

#define MIGRATE_MAX_FILE (16u << 20) /* one migration file */
#define MIGRATE_LEASE_S  300         /* the Galera lock row's lease, renewed per statement */

struct migrate {
	struct db *db; /* borrowed; NULL: files only */
	struct migrate_settings settings;
	char *dir;
	struct migration *list; /* by version */
	size_t n;
	bool have_table; /* ingest_migrations exists */
	char *alembic;   /* Divemap's revision(s); NULL: no alembic_version table */
	char who[300];   /* host:pid */
	bool locked;
	bool row_lock; /* the lease row, not GET_LOCK */
	char *lock_name;
};

/* A migration file, read and split. */
struct migrate_script {
	const char *path;
	char checksum[SHA256_HEX_SIZE];
	struct sql_stmt *stmts;
	size_t n;
	bool divemap_owned;
	char **require; /* "table(col, col)" */
	size_t n_require;
	char **require_empty; /* table names */
	size_t n_require_empty;
};

/* migrate-files.c */
int migrate_files_load(struct migrate *m);
int migrate_script_load(const char *path, struct migrate_script *ret);
void migrate_script_done(struct migrate_script *s);
struct migration *migrate_find(struct migrate *m, unsigned version);
struct migration *migrate_add(struct migrate *m, unsigned version);

/* migrate-state.c */
int migrate_state_load(struct migrate *m);
int migrate_bootstrap(struct migrate *m);
/* Runs (or prints, in --sql mode) a bookkeeping statement whose '?' are vals. */
int migrate_record(struct migrate *m, const char *tmpl, const struct db_value *vals, size_t n);
/* Checks the script's require lines; *reterr_missing names what lacks. */
int migrate_check_require(struct migrate *m, const struct migrate_script *s, char **reterr_missing);
/* The first require-empty table holding rows, in *ret_table; 0 when none. */
int migrate_check_empty(struct migrate *m, const struct migrate_script *s, char **ret_table);

/* migrate.c */
#define DOWNGRADE_PREFIX "downgrade"
bool migrate_is_downgrade_failure(const struct migration *mg);
int migrate_refuse_failed(struct migrate *m, const struct migration *mg);
/* locked: we hold the lock, so an 'applying' row is a dead process's. */
int migrate_check_state(struct migrate *m, bool locked, bool checksums);
int migrate_parse_version(struct migrate *m, const char *s, unsigned *ret);
int migrate_prepare_change(struct migrate *m);

/* migrate-lock.c */
int migrate_lock(struct migrate *m);
int migrate_lock_renew(struct migrate *m);
void migrate_unlock(struct migrate *m);

#endif
