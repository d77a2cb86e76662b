-- Dive sites, aliases and diving centers that the answers of this set refer to.
-- Load after the schema is migrated. MySQL 8 / MariaDB 10.6+ dialect, UTF-8.
SET NAMES utf8mb4;

INSERT INTO diving_centers (id, name, email, website) VALUES
 (1, 'Thalassa Diving Chania',    'info@thalassachania.example',   'https://thalassachania.example'),
 (2, 'Zante Blue Divers',         'news@zanteblue.example',        'https://zanteblue.example'),
 (3, 'Halkidiki Scuba Club',      'club@halkidikiscuba.example',   'https://halkidikiscuba.example'),
 (4, 'Rhodes Reef Divers',        'hello@rhodesreef.example',      'https://rhodesreef.example'),
 (5, 'Lavrio Tech Diving',        'tech@lavriotech.example',       'https://lavriotech.example'),
 (6, 'Corfu Ionian Divers',       'info@corfuionian.example',      'https://corfuionian.example'),
 (7, 'Limassol Bay Divers',       'bookings@limassolbay.example',  'https://limassolbay.example'),
 (8, 'Λέσχη Υποβρυχίων Δραστηριοτήτων Λαυρίου', 'lesxi@lyd-lavrio.example', 'https://lyd-lavrio.example');

INSERT INTO dive_sites (id, name, country, region, latitude, longitude, max_depth) VALUES
 (1,  'Ναυάγιο Πατρίς',          'Greece', 'Attica',     37.66000000, 24.09500000, 60.00),
 (2,  'Μακρόνησος',              'Greece', 'Attica',     37.70000000, 24.12000000, 35.00),
 (3,  'Σπήλαιο Ελεφάντων',       'Greece', 'Crete',      35.44000000, 24.18000000, 12.00),
 (4,  'Ναυάγιο Ελπίς',           'Greece', 'Chalkidiki', 39.99000000, 23.73000000, 30.00),
 (5,  'Σπηλιές Κερίου',          'Greece', 'Zakynthos',  37.65000000, 20.81000000, 25.00),
 (6,  'Μαραθονήσι',              'Greece', 'Zakynthos',  37.68000000, 20.86000000, 20.00),
 (7,  'Ξέρα Αγίου Νικολάου',     'Greece', 'Crete',      35.46000000, 24.15000000, 28.00),
 (8,  'Καλλιθέα',                'Greece', 'Rhodes',     36.38000000, 28.24000000, 24.00),
 (9,  'Ναυάγιο Ταξιάρχης',       'Greece', 'Chalkidiki', 40.05000000, 23.95000000, 38.00),
 (10, 'Φάρος Κασσάνδρας',        'Greece', 'Chalkidiki', 39.96000000, 23.36000000, 32.00),
 (11, 'Σπηλιά Δράκου',           'Greece', 'Crete',      35.48000000, 24.12000000, 18.00),
 (12, 'Κολοβρί',                 'Greece', 'Corfu',      39.69000000, 19.69000000, 35.00),
 (13, 'Κουδούνια',               'Greece', 'Attica',     37.62000000, 24.05000000, 18.00),
 (14, 'Ναυάγιο Κυρά Λένη',       'Greece', 'Attica',     37.62500000, 24.10000000, 22.00),
 (15, 'Τοίχος Πρασονησίου',      'Greece', 'Rhodes',     35.88000000, 27.76000000, 40.00),
 (16, 'Ξέρα Λιαπάδων',           'Greece', 'Corfu',      39.67000000, 19.73000000, 26.00),
 (17, 'Zenobia',                 'Cyprus', 'Larnaca',    34.90000000, 33.66000000, 42.00),
 (18, 'Ποθητός',                 'Greece', 'Attica',     37.64200000, 24.06900000, 30.00),
 (19, 'Costandis',               'Cyprus', 'Limassol',   34.63000000, 33.03000000, 26.00);

INSERT INTO dive_site_aliases (dive_site_id, alias) VALUES
 (1,  'Patris'), (1, 'SS Patris'),
 (2,  'Makronisos'), (2, 'Μακρονήσι'),
 (3,  'Elephant Cave'), (3, 'Σπηλιά των Ελεφάντων'), (3, 'Σπηλιά Ελεφάντων'),
 (4,  'Elpis'), (4, 'Elpis wreck'),
 (5,  'Keri caves'), (5, 'Σπηλιές Κεριού'),
 (6,  'Marathonisi'), (6, 'Turtle Island'),
 (7,  'Agios Nikolaos reef'), (7, 'Ξέρα Αγ. Νικολάου'),
 (8,  'Kallithea'), (8, 'Kallithea Springs'), (8, 'Λουτρά Καλλιθέας'),
 (9,  'Taxiarchis'), (9, 'Taxiarchis wreck'),
 (10, 'Kassandra lighthouse'), (10, 'Φάρος Ποσειδίου'),
 (11, 'Dragon Cave'), (11, 'Σπηλιά του Δράκου'),
 (12, 'Kolovri'), (12, 'Kolovri Island'), (12, 'νησάκι Κολοβρί'),
 (13, 'Koudounia'), (13, 'ν. Κουδούνια'),
 (14, 'Kyra Leni'), (14, 'Κυρά Λένη'),
 (15, 'Prasonisi wall'),
 (16, 'Liapades reef'), (16, 'Ξέρα Λιαπάδες'),
 (17, 'Zenobia wreck'), (17, 'MS Zenobia'), (17, 'Ζηνοβία'),
 (18, 'Pothitos'), (18, 'ν. Ποθητός'),
 (19, 'Costandis wreck'), (19, 'Κωνσταντής');
