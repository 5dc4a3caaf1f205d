-- What the device gateway records: connection history (audit reads it) and metric
-- datapoints (detect reads them; ListMetricValues shows them). Append-only, pruned by age.

CREATE TABLE connection_events (
    event_id       INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     TEXT NOT NULL,
    time_ms        INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    certificate_id TEXT NOT NULL,
    thing_name     TEXT NOT NULL,
    source_ip      TEXT NOT NULL,
    source_port    INTEGER NOT NULL,
    reason         TEXT NOT NULL
) STRICT;
CREATE INDEX connection_events_by_time ON connection_events (account_id, time_ms, event_id);
CREATE INDEX connection_events_by_age ON connection_events (time_ms);

CREATE TABLE metric_datapoints (
    datapoint_id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   TEXT NOT NULL,
    thing_name   TEXT NOT NULL,
    metric       TEXT NOT NULL,
    dimension    TEXT NOT NULL,
    time_ms      INTEGER NOT NULL,
    value_json   TEXT NOT NULL
) STRICT;
CREATE INDEX metric_datapoints_lookup
    ON metric_datapoints (account_id, thing_name, metric, dimension, time_ms, datapoint_id);
CREATE INDEX metric_datapoints_by_age ON metric_datapoints (time_ms);
