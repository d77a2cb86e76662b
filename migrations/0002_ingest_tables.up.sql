-- divemap-ingest's own tables. Everything the daemon adds to a Divemap
-- database lives in tables prefixed ingest_; Divemap's tables are only
-- referred to. (ingest_migrations is made by the migrator itself.)

CREATE TABLE IF NOT EXISTS ingest_messages (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	newsletter_id INT NULL,
	sha256 CHAR(64) CHARACTER SET ascii NOT NULL,
	message_id VARCHAR(998) NULL,
	source ENUM('mbox', 'eml', 'maildir', 'imap', 'stdin') NOT NULL,
	source_ref VARCHAR(2048) NOT NULL,
	subject VARCHAR(998) NULL,
	sender VARCHAR(320) NULL,
	sender_name VARCHAR(255) NULL,
	sent_at DATETIME NULL,
	sent_tz_min SMALLINT NULL,
	size INT UNSIGNED NOT NULL,
	status ENUM('pending', 'parsing', 'parsed', 'no_trips', 'partial', 'failed') NOT NULL DEFAULT 'pending',
	status_reason VARCHAR(1024) NULL,
	claimed_by VARCHAR(255) NULL,
	claimed_at DATETIME NULL,
	created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
	PRIMARY KEY (id),
	UNIQUE KEY sha256 (sha256),
	KEY message_id (message_id(191)),
	KEY status (status),
	KEY newsletter_id (newsletter_id),
	CONSTRAINT ingest_messages_newsletter_fk FOREIGN KEY (newsletter_id)
		REFERENCES newsletters (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS ingest_raw_messages (
	message_id BIGINT UNSIGNED NOT NULL,
	raw LONGBLOB NOT NULL,
	PRIMARY KEY (message_id),
	CONSTRAINT ingest_raw_messages_message_fk FOREIGN KEY (message_id)
		REFERENCES ingest_messages (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS ingest_checkpoints (
	id INT NOT NULL AUTO_INCREMENT,
	account VARCHAR(255) NOT NULL,
	mailbox VARCHAR(255) NOT NULL,
	uidvalidity INT UNSIGNED NOT NULL,
	last_uid INT UNSIGNED NOT NULL,
	updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
	PRIMARY KEY (id),
	UNIQUE KEY account_mailbox (account, mailbox)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS ingest_parse_log (
	id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
	message_id BIGINT UNSIGNED NOT NULL,
	newsletter_id INT NULL,
	parsed_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	duration_us INT UNSIGNED NOT NULL,
	rules_version CHAR(64) NOT NULL,
	status ENUM('ok', 'no_trips', 'partial', 'failed') NOT NULL,
	reason VARCHAR(1024) NULL,
	trips INT NOT NULL DEFAULT 0,
	dives INT NOT NULL DEFAULT 0,
	unresolved INT NOT NULL DEFAULT 0,
	warnings TEXT NULL,
	details LONGTEXT NULL,
	PRIMARY KEY (id),
	KEY message_id (message_id),
	KEY newsletter_id (newsletter_id),
	KEY parsed_at (parsed_at),
	KEY status (status),
	CONSTRAINT ingest_parse_log_message_fk FOREIGN KEY (message_id)
		REFERENCES ingest_messages (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS ingest_unresolved (
	id INT NOT NULL AUTO_INCREMENT,
	kind ENUM('site', 'center') NOT NULL,
	name VARCHAR(255) NOT NULL,
	name_key VARCHAR(255) NOT NULL,
	seen_count INT NOT NULL DEFAULT 1,
	first_seen TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
	last_seen TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
	newsletter_ids TEXT NULL,
	candidates TEXT NULL,
	PRIMARY KEY (id),
	UNIQUE KEY kind_name (kind, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
