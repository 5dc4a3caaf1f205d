-- Fleetward store schema (SQLite). Times are epoch milliseconds, ids and bodies text.
-- STRICT tables reject values of the wrong type instead of silently storing them.

CREATE TABLE accounts (
    account_id TEXT NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    created_ms INTEGER NOT NULL
) STRICT;

CREATE TABLE access_keys (
    access_key_id     TEXT NOT NULL PRIMARY KEY,
    secret_access_key TEXT NOT NULL,
    account_id        TEXT NOT NULL REFERENCES accounts (account_id),
    status            TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),
    created_ms        INTEGER NOT NULL
) STRICT;
CREATE INDEX access_keys_by_account ON access_keys (account_id, created_ms);

CREATE TABLE documents (
    account_id TEXT NOT NULL,
    kind       TEXT NOT NULL,
    doc_key    TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, kind, doc_key)
) STRICT;
CREATE INDEX documents_listing ON documents (account_id, kind, created_ms, doc_key);

-- seq INTEGER PRIMARY KEY is the rowid itself: lookups by seq need no separate index.
CREATE TABLE findings (
    seq             INTEGER PRIMARY KEY,
    account_id      TEXT NOT NULL,
    product_arn     TEXT NOT NULL,
    finding_id      TEXT NOT NULL,
    updated_at_ms   INTEGER NOT NULL,
    record_state    TEXT NOT NULL,
    customer_fields INTEGER NOT NULL,
    body            TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX findings_identity ON findings (account_id, product_arn, finding_id);

CREATE TABLE finding_history (
    history_id     INTEGER PRIMARY KEY,
    account_id     TEXT NOT NULL,
    product_arn    TEXT NOT NULL,
    finding_id     TEXT NOT NULL,
    update_time_ms INTEGER NOT NULL,
    created        INTEGER NOT NULL,
    source_type    TEXT NOT NULL,
    identity       TEXT NOT NULL,
    updates_json   TEXT NOT NULL
) STRICT;
CREATE INDEX finding_history_by_finding
    ON finding_history (account_id, product_arn, finding_id, update_time_ms, history_id);
CREATE INDEX finding_history_by_time ON finding_history (update_time_ms);

-- Named counters; finding_seq is the highest finding seq ever written.
CREATE TABLE store_counters (
    name  TEXT NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
INSERT INTO store_counters (name, value) VALUES ('finding_seq', 0);
