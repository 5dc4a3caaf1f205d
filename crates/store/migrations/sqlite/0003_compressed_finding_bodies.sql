-- Finding bodies are stored as BLOBs, compressed (see src/sqlite/body_codec.rs): a ~2.8 KB
-- JSON body takes ~1.2 KB, so an 8 KiB page holds six findings instead of two, and every
-- import writes a third of the bytes to the WAL and the file. Bodies written before this
-- migration keep their JSON bytes (a body starting with `{` is plain JSON).
CREATE TABLE findings_compressed (
    seq             INTEGER PRIMARY KEY CHECK (seq > 0),
    account_id      TEXT NOT NULL,
    product_arn     TEXT NOT NULL,
    finding_id      TEXT NOT NULL,
    updated_at_ms   INTEGER NOT NULL,
    record_state    TEXT NOT NULL,
    customer_fields INTEGER NOT NULL,
    body            BLOB NOT NULL
) STRICT;
INSERT INTO findings_compressed
    SELECT seq, account_id, product_arn, finding_id, updated_at_ms, record_state,
           customer_fields, CAST(body AS BLOB)
    FROM findings ORDER BY seq;
DROP TABLE findings;
ALTER TABLE findings_compressed RENAME TO findings;
