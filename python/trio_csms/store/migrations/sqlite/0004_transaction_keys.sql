-- Transactions get an integer key in the order they were first stored, and their events are
-- keyed by it. Why: the transactions a fleet is charging now are the last ones started, so
-- under this key their rows and their events' index entries sit together at the end of each
-- b-tree, and a batch of TransactionEvents from a thousand stations rewrites a few pages.
-- Keyed by (station_id, transaction_id), each station's entries sat on a page of their own,
-- so every event rewrote one page per b-tree, and more of them the longer the history.
--
-- A TransactionEvent's meter values are no longer copied into meter_values: they are read
-- from the stored event (its payload is the whole request). meter_values keeps what comes
-- outside TransactionEvents (MeterValues). The copies removed here are the rows of the
-- transactions the CSMS recorded: trio-csms itself stored meter values with a transaction_id
-- only from TransactionEvents.

CREATE TABLE transactions_keyed (
    transaction_key INTEGER PRIMARY KEY,
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
    UNIQUE (station_id, transaction_id)
) STRICT;

INSERT INTO transactions_keyed (
    station_id, transaction_id, evse_id, connector_id, id_token, active, charging_state,
    started_at, ended_at, stopped_reason, remote_start_id, first_seq_no, last_seq_no,
    seq_no_gaps, energy_imported_wh, updated_at
)
SELECT
    station_id, transaction_id, evse_id, connector_id, id_token, active, charging_state,
    started_at, ended_at, stopped_reason, remote_start_id, first_seq_no, last_seq_no,
    seq_no_gaps, energy_imported_wh, updated_at
FROM transactions ORDER BY updated_at, started_at;

-- station_id and transaction_id stay in each event (its record has them) but are not keys:
-- deleting a station reaches its events through its transactions.
CREATE TABLE transaction_events_keyed (
    transaction_key INTEGER NOT NULL REFERENCES transactions_keyed ON DELETE CASCADE,
    station_id TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    seq_no INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    trigger_reason TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    offline INTEGER NOT NULL,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL,
    UNIQUE (transaction_key, seq_no)
) STRICT;

INSERT INTO transaction_events_keyed (
    transaction_key, station_id, transaction_id, seq_no, event_type, trigger_reason,
    timestamp, offline, payload, received_at
)
SELECT
    t.transaction_key, e.station_id, e.transaction_id, e.seq_no, e.event_type,
    e.trigger_reason, e.timestamp, e.offline, e.payload, e.received_at
FROM transaction_events AS e
JOIN transactions_keyed AS t USING (station_id, transaction_id)
ORDER BY e.rowid;

DELETE FROM meter_values
WHERE transaction_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM transactions_keyed AS t
    WHERE t.station_id = meter_values.station_id AND t.transaction_id = meter_values.transaction_id
);

DROP TABLE transaction_events;
DROP INDEX transactions_by_active;
DROP TABLE transactions;
ALTER TABLE transactions_keyed RENAME TO transactions;
ALTER TABLE transaction_events_keyed RENAME TO transaction_events;

-- list_transactions(active=...) pages in key order without scanning the other kind.
CREATE INDEX transactions_by_active ON transactions (active, station_id, transaction_id);
