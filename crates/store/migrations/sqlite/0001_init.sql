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
-- The seq is the identity: the hub (the one writer) maps (account, product, id) to seqs in
-- memory, so no index on those columns. Such an index takes inserts at random places
-- (finding ids are not ordered), which cost several times the bytes of the findings.
-- seq > 0: scans start after 0, and max_finding_seq is 0 when there is none.
CREATE TABLE findings (
    seq             INTEGER PRIMARY KEY CHECK (seq > 0),
    account_id      TEXT NOT NULL,
    product_arn     TEXT NOT NULL,
    finding_id      TEXT NOT NULL,
    updated_at_ms   INTEGER NOT NULL,
    record_state    TEXT NOT NULL,
    customer_fields INTEGER NOT NULL,
    body            TEXT NOT NULL
) STRICT;

-- Indexed by the finding's seq, not its textual identity: new findings get increasing seqs,
-- so their records append at the end of the index. (The rowid, history_id, ends every index
-- entry: the index orders by (finding_seq, update_time_ms, history_id).)
CREATE TABLE finding_history (
    history_id     INTEGER PRIMARY KEY,
    finding_seq    INTEGER NOT NULL CHECK (finding_seq > 0),
    account_id     TEXT NOT NULL,
    product_arn    TEXT NOT NULL,
    finding_id     TEXT NOT NULL,
    update_time_ms INTEGER NOT NULL,
    created        INTEGER NOT NULL,
    source_type    TEXT NOT NULL,
    identity       TEXT NOT NULL,
    updates_json   TEXT NOT NULL
) STRICT;
CREATE INDEX finding_history_by_finding ON finding_history (finding_seq, update_time_ms);
CREATE INDEX finding_history_by_time ON finding_history (update_time_ms);

-- Named counters. finding_seq: at least every seq written and since deleted (raised by
-- deletes), so the high-water mark is the greater of it and the highest seq in findings,
-- and writes need not touch it.
CREATE TABLE store_counters (
    name  TEXT NOT NULL PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
INSERT INTO store_counters (name, value) VALUES ('finding_seq', 0);
