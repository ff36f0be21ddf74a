-- Relay mode (services/gateway README): what the gateway did with each message it held: forwarded,
-- stopped, deferred (the downstream could not take it; the upstream resends), no_route, and a
-- verdict that came after the message failed open (late_verdict). One row per record id
-- (message id + outcome): a redelivered record collapses on merge; exact reads use FINAL.
-- No Nullable, LowCardinality or DateTime64 in the sorting key: this runs on 18.16 and current ClickHouse.
CREATE TABLE IF NOT EXISTS delivery_records
(
    id String,
    message_id String,
    received_at DateTime,
    at DateTime,
    inserted_at DateTime DEFAULT now(),
    gateway_id String,
    account String,
    route Nullable(String),
    smsc Nullable(String),
    source String,
    destination String,
    parts UInt8,
    outcome String,
    reason String,
    verdict_action Nullable(String),
    decision_ms UInt32,
    downstream_ids Array(String)
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(at)
ORDER BY (at, id);

CREATE VIEW IF NOT EXISTS delivery_records_dedup AS SELECT * FROM delivery_records FINAL;
