-- Each kind of request numbers its requestIds on its own (a GetLog and an UpdateFirmware may
-- both be requestId 1): key request records by kind too, so one no longer replaces the other.
CREATE TABLE requests_by_kind (
    station_id TEXT NOT NULL REFERENCES stations ON DELETE CASCADE,
    request_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT,
    complete INTEGER NOT NULL,
    request TEXT,
    PRIMARY KEY (station_id, kind, request_id)
) STRICT, WITHOUT ROWID;
INSERT INTO requests_by_kind (station_id, request_id, kind, created_at, status, complete, request)
    SELECT station_id, request_id, kind, created_at, status, complete, request FROM requests;
DROP TABLE requests;
ALTER TABLE requests_by_kind RENAME TO requests;
