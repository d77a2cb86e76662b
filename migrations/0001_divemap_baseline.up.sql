-- Divemap's own tables, as far as divemap-ingest reads and writes them: the
-- columns, types, defaults, enums and foreign keys of Divemap's database
-- documentation, with the NOT NULL defaults and ON DELETE actions that
-- Divemap's Alembic migrations give them. The spatial `location` columns are
-- Divemap's business and are left out.
--
-- Every table is created only where it is absent (a standalone or test
-- database). On a database that Divemap's Alembic manages (it has an
-- `alembic_version` table) the migrator runs none of these statements: it
-- checks the `require` lines below instead and records the migration as
-- applied with a note.
--
-- migrate: divemap-owned
-- migrate: require difficulty_levels(id, code, label, order_index)
-- migrate: require dive_sites(id, name, latitude, longitude, country, region, difficulty_id)
-- migrate: require dive_site_aliases(id, dive_site_id, alias)
-- migrate: require diving_centers(id, name, email, website)
-- migrate: require newsletters(id, content, received_at)
-- migrate: require parsed_dive_trips(id, diving_center_id, trip_date, trip_time, trip_duration, trip_difficulty_id, trip_price, trip_currency, group_size_limit, current_bookings, trip_description, special_requirements, trip_status, source_newsletter_id, extracted_at, created_at, updated_at, view_count)
-- migrate: require parsed_dives(id, trip_id, dive_site_id, dive_number, dive_time, dive_duration, dive_description, created_at, updated_at)

CREATE TABLE IF NOT EXISTS difficulty_levels (
	id INT NOT NULL AUTO_INCREMENT,
	code VARCHAR(50) NOT NULL,
	label VARCHAR(100) NOT NULL,
	order_index INT NOT NULL,
	PRIMARY KEY (id),
	UNIQUE KEY ix_difficulty_levels_code (code),
	UNIQUE KEY label (label),
	KEY ix_difficulty_levels_order_index (order_index)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT IGNORE INTO difficulty_levels (id, code, label, order_index) VALUES
	(1, 'OPEN_WATER', 'Open Water', 1),
	(2, 'ADVANCED_OPEN_WATER', 'Advanced Open Water', 2),
	(3, 'DEEP_NITROX', 'Deep/Nitrox', 3),
	(4, 'TECHNICAL_DIVING', 'Technical Diving', 4);

CREATE TABLE IF NOT EXISTS dive_sites (
	id INT NOT NULL AUTO_INCREMENT,
	name VARCHAR(255) NOT NULL,
	description TEXT,
	latitude DECIMAL(10, 8),
	longitude DECIMAL(11, 8),
	address TEXT,
	access_instructions TEXT,
	dive_plans TEXT,
	gas_tanks_necessary TEXT,
	difficulty_id INT NULL,
	marine_life TEXT,
	safety_information TEXT,
	max_depth DECIMAL(5, 2),
	country VARCHAR(100),
	region VARCHAR(100),
	view_count INT NOT NULL DEFAULT 0,
	created_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
	PRIMARY KEY (id),
	KEY ix_dive_sites_name (name),
	KEY ix_dive_sites_country (country),
	KEY ix_dive_sites_region (region),
	KEY ix_dive_sites_difficulty_id (difficulty_id),
	CONSTRAINT dive_sites_difficulty_fk FOREIGN KEY (difficulty_id) REFERENCES difficulty_levels (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS dive_site_aliases (
	id INT NOT NULL AUTO_INCREMENT,
	dive_site_id INT NOT NULL,
	alias VARCHAR(255) NOT NULL,
	created_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	PRIMARY KEY (id),
	UNIQUE KEY _dive_site_alias_uc (dive_site_id, alias),
	KEY ix_dive_site_aliases_alias (alias),
	CONSTRAINT dive_site_aliases_site_fk FOREIGN KEY (dive_site_id) REFERENCES dive_sites (id)
		ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS diving_centers (
	id INT NOT NULL AUTO_INCREMENT,
	name VARCHAR(255) NOT NULL,
	description TEXT,
	email VARCHAR(255),
	phone VARCHAR(50),
	website VARCHAR(255),
	latitude DECIMAL(10, 8),
	longitude DECIMAL(11, 8),
	view_count INT NOT NULL DEFAULT 0,
	created_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
	PRIMARY KEY (id),
	KEY ix_diving_centers_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS newsletters (
	id INT NOT NULL AUTO_INCREMENT,
	content LONGTEXT NOT NULL,
	received_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	PRIMARY KEY (id),
	KEY ix_newsletters_received_at (received_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS parsed_dive_trips (
	id INT NOT NULL AUTO_INCREMENT,
	diving_center_id INT NULL,
	trip_date DATE NOT NULL,
	trip_time TIME,
	trip_duration INT,
	trip_difficulty_id INT NULL,
	trip_price DECIMAL(10, 2),
	trip_currency VARCHAR(3) NOT NULL DEFAULT 'EUR',
	group_size_limit INT,
	current_bookings INT NOT NULL DEFAULT 0,
	trip_description TEXT,
	special_requirements TEXT,
	trip_status ENUM('scheduled', 'confirmed', 'cancelled', 'completed') NOT NULL DEFAULT 'scheduled',
	source_newsletter_id INT NULL,
	extracted_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	created_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
	view_count INT NOT NULL DEFAULT 0,
	PRIMARY KEY (id),
	KEY ix_parsed_dive_trips_trip_date (trip_date),
	KEY ix_parsed_dive_trips_trip_status (trip_status),
	CONSTRAINT parsed_dive_trips_center_fk FOREIGN KEY (diving_center_id)
		REFERENCES diving_centers (id) ON DELETE CASCADE,
	CONSTRAINT parsed_dive_trips_difficulty_fk FOREIGN KEY (trip_difficulty_id)
		REFERENCES difficulty_levels (id),
	CONSTRAINT parsed_dive_trips_newsletter_fk FOREIGN KEY (source_newsletter_id)
		REFERENCES newsletters (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS parsed_dives (
	id INT NOT NULL AUTO_INCREMENT,
	trip_id INT NOT NULL,
	dive_site_id INT NULL,
	dive_number INT NOT NULL,
	dive_time TIME,
	dive_duration INT,
	dive_description TEXT,
	created_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
	updated_at TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
	PRIMARY KEY (id),
	CONSTRAINT parsed_dives_trip_fk FOREIGN KEY (trip_id) REFERENCES parsed_dive_trips (id)
		ON DELETE CASCADE,
	CONSTRAINT parsed_dives_site_fk FOREIGN KEY (dive_site_id) REFERENCES dive_sites (id)
		ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
