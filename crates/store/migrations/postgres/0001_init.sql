-- Fleetward store schema (PostgreSQL). Times are epoch milliseconds, ids and bodies text.
-- Keys use the "C" collation so ORDER BY matches SQLite's byte order whatever the
-- database locale, and their indexes compare bytes (faster).

CREATE TABLE accounts (
    account_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name       TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE access_keys (
    access_key_id     TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    secret_access_key TEXT NOT NULL,
    account_id        TEXT COLLATE "C" NOT NULL REFERENCES accounts (account_id),
    status            TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),
    created_ms        BIGINT NOT NULL
);
CREATE INDEX access_keys_by_account ON access_keys (account_id, created_ms);

CREATE TABLE documents (
    account_id TEXT COLLATE "C" NOT NULL,
    kind       TEXT COLLATE "C" NOT NULL,
    doc_key    TEXT COLLATE "C" NOT NULL,
    body       TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, kind, doc_key)
);
CREATE INDEX documents_listing ON documents (account_id, kind, created_ms, doc_key);

-- The seq is the identity: the hub (the one writer) maps (account, product, id) to seqs in
-- memory, so no index on those columns. Such an index takes inserts at random places
-- (finding ids are not ordered), which cost several times the bytes of the findings.
-- seq > 0: scans start after 0, and max_finding_seq is 0 when there is none.
CREATE TABLE findings (
    seq             BIGINT NOT NULL PRIMARY KEY CHECK (seq > 0),
    account_id      TEXT COLLATE "C" NOT NULL,
    product_arn     TEXT COLLATE "C" NOT NULL,
    finding_id      TEXT COLLATE "C" NOT NULL,
    updated_at_ms   BIGINT NOT NULL,
    record_state    TEXT NOT NULL,
    customer_fields BIGINT NOT NULL,
    body            TEXT NOT NULL
);

-- Indexed by the finding's seq, not its textual identity: new findings get increasing seqs,
-- so their records append at the end of the index.
CREATE TABLE finding_history (
    history_id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    finding_seq    BIGINT NOT NULL CHECK (finding_seq > 0),
    account_id     TEXT COLLATE "C" NOT NULL,
    product_arn    TEXT COLLATE "C" NOT NULL,
    finding_id     TEXT COLLATE "C" NOT NULL,
    update_time_ms BIGINT NOT NULL,
    created        BOOLEAN NOT NULL,
    source_type    TEXT NOT NULL,
    identity       TEXT NOT NULL,
    updates_json   TEXT NOT NULL
);
CREATE INDEX finding_history_by_finding
    ON finding_history (finding_seq, update_time_ms, history_id);
CREATE INDEX finding_history_by_time ON finding_history (update_time_ms);

-- Named counters. finding_seq: at least every seq written and since deleted (raised by
-- deletes), so the high-water mark is the greater of it and the highest seq in findings,
-- and writes need not touch it (nor serialise on its row).
CREATE TABLE store_counters (
    name  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO store_counters (name, value) VALUES ('finding_seq', 0);
