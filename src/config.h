/* config.h: the INI configuration file, checked.
 *
 * Sections [database], [parser], [log], and any number of sources written
 * [imap] / [imap NAME] and [maildir] / [maildir NAME]. Unknown sections and
 * keys and bad values are errors naming file, line and key. DATABASE_URL in
 * the environment overrides [database] url. Every key has a default, so a
 * missing default file is no error. */
#ifndef DIVEMAP_CONFIG_H
#define DIVEMAP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "cleanup.h"

#define CONFIG_DEFAULT_PATH SYSCONFDIR "/divemap-ingest/divemap-ingest.conf"
#define CONFIG_DEFAULT_URL  "mysql+pymysql://divemap_user:divemap_password@localhost:3306/divemap"

enum source_kind { SOURCE_IMAP, SOURCE_MAILDIR };
enum imap_tls { IMAP_TLS_IMPLICIT, IMAP_TLS_STARTTLS, IMAP_TLS_NONE };
enum imap_after { IMAP_AFTER_NOTHING, IMAP_AFTER_SEEN, IMAP_AFTER_MOVE };

struct config_source {
	enum source_kind kind;
	char *name;
	/* imap */
	char *host;
	unsigned port; /* 0: 993 for implicit TLS, else 143 */
	enum imap_tls tls;
	char *user;
	char *password_file;
	char *mailbox;
	char *ca_file;
	bool allow_plaintext;
	unsigned idle_interval_s;
	unsigned poll_interval_s;
	unsigned timeout_s;
	unsigned batch_size;
	enum imap_after after;
	char *move_to;
	/* maildir */
	char *path;
	bool watch_cur;
};

struct config {
	char *path; /* the file read, NULL when none */
	struct {
		char *url;
		char *password_file;
		unsigned connect_attempts;
		unsigned connect_retry_min_ms;
		unsigned connect_retry_max_ms;
		unsigned connect_timeout_s;
		bool auto_migrate;
		char *migrations_dir;
		unsigned lock_timeout_s;
	} database;
	struct {
		char *rules_dir;
		char *rules_override_dir;
		uint64_t max_message_size;
		unsigned worker_timeout_s;
		double match_threshold;
		double match_margin;
		unsigned alias_refresh_s;
		bool store_likely_duplicates; /* same Message-ID and sender, other bytes */
	} parser;
	struct {
		int level;  /* LOG_ERR .. LOG_DEBUG */
		int target; /* enum log_target */
	} log;
	struct config_source *sources;
	size_t n_sources;
};

/* Loads PATH (NULL: the default path, which may be absent). Returns 0, or
 * -errno with *reterr_reason ("FILE:LINE: [section] key: what is wrong"). */
int config_load(const char *path, struct config **ret, char **reterr_reason);
struct config *config_free(struct config *c);
DEFINE_CLEANUP_FUNC(struct config, config_free)

#endif
