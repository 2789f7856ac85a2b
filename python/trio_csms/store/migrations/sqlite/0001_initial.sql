-- The initial schema. Columns are named after the record fields in store/base.py, so rows and
-- records convert by name. Datetimes are ISO 8601 UTC text with microseconds (fixed width, so
-- text order is time order); JSON columns hold msgspec-encoded text with sorted keys;
-- booleans are 0/1. Every row that belongs to a station references it with ON DELETE CASCADE,
-- so deleting a station deletes everything stored for it. STRICT makes SQLite refuse a value
-- of the wrong type instead of storing it silently.

CREATE TABLE stations (
    station_id TEXT PRIMARY KEY NOT NULL,
    security_profile INTEGER NOT NULL,
    password_hash TEXT,
    previous_password_hash TEXT,
    registration_policy TEXT,
    registration_status TEXT,
    charging_station TEXT,
    last_boot_at TEXT,
    last_boot_reason TEXT,
    last_seen TEXT,
    firmware_status TEXT,
    onboarded INTEGER NOT NULL,
    created_at TEXT
) STRICT, WITHOUT ROWID;

CREATE TABLE connectors (
    station_id TEXT NOT NULL REFERENCES stations ON DELETE CASCADE,
    evse_id INTEGER NOT NULL,
    connector_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (station_id, evse_id, connector_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE id_tokens (
    id_token TEXT NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    group_id_token TEXT,
    cache_expiry_date_time TEXT,
    evse_id TEXT,
    language1 TEXT,
    personal_message TEXT,
    PRIMARY KEY (id_token, type)
) STRICT, WITHOUT ROWID;

CREATE TABLE transactions (
    station_id TEXT NOT NULL REFERENCES stations ON DELETE CASCADE,
    transaction_id TEXT NOT NULL,
    evse_id INTEGER,
    connector_id INTEGER,
    id_token TEXT,
    active INTEGER NOT NULL,
    charging_state TEXT,
    started_at TEXT,
    ended_at TEXT,
    stopped_reason TEXT,
    remote_start_id INTEGER,
    first_seq_no INTEGER NOT NULL,
    last_seq_no INTEGER NOT NULL,
    seq_no_gaps TEXT NOT NULL,
    energy_imported_wh REAL,
    updated_at TEXT,
    PRIMARY KEY (station_id, transaction_id)
) STRICT, WITHOUT ROWID;

-- list_transactions(active=...) pages in key order without scanning the other kind.
CREATE INDEX transactions_by_active ON transactions (active, station_id, transaction_id);

-- A rowid table: payloads are whole TransactionEventRequests, too large to sit in a
-- WITHOUT ROWID b-tree. The UNIQUE key is what makes a retransmission detectable.
CREATE TABLE transaction_events (
    station_id TEXT NOT NULL REFERENCES stations ON DELETE CASCADE,
    transaction_id TEXT NOT NULL,
    seq_no INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    trigger_reason TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    offline INTEGER NOT NULL,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (station_id, transaction_id, seq_no)
) STRICT;

CREATE TABLE meter_values (
    station_id TEXT NOT NULL REFERENCES stations ON DELETE CASCADE,
    evse_id INTEGER,
    transaction_id TEXT,
    timestamp TEXT NOT NULL,
    sampled_value TEXT NOT NULL
) STRICT;

CREATE INDEX meter_values_by_transaction ON meter_values (station_id, transaction_id, timestamp);

-- component and variable are JSON with sorted keys, so equal objects give equal keys.
CREATE TABLE variables (
    station_id TEXT NOT NULL REFERENCES stations ON DELETE CASCADE,
    component TEXT NOT NULL,
    variable TEXT NOT NULL,
    variable_attribute TEXT NOT NULL,
    variable_characteristics TEXT,
    UNIQUE (station_id, component, variable)
) STRICT;

CREATE TABLE requests (
    station_id TEXT NOT NULL REFERENCES stations ON DELETE CASCADE,
    request_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT,
    complete INTEGER NOT NULL,
    request TEXT,
    PRIMARY KEY (station_id, request_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE notifications (
    station_id TEXT NOT NULL REFERENCES stations ON DELETE CASCADE,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL,
    request_id INTEGER,
    seq_no INTEGER
) STRICT;

CREATE INDEX notifications_by_action ON notifications (station_id, action, request_id);
