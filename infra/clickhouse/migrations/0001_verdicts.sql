-- Verdicts from the scoring workers. ReplacingMergeTree keyed by the
-- deterministic verdict id: a redelivered verdict collapses on merge, and
-- queries that must be exact use FINAL or GROUP BY id (see the views added later).
-- Runs on ClickHouse 18.16 and current versions: no TTL, DateTime64 or LowCardinality.
CREATE TABLE IF NOT EXISTS verdicts
(
    id String,
    message_id String,
    kind String,
    received_at DateTime,
    scored_at DateTime,
    inserted_at DateTime DEFAULT now(),
    source String,
    destination String,
    score Float64,
    label String,
    category Nullable(String),
    action String,
    contributions String,
    rule_ids Array(String),
    campaign_id Nullable(String),
    ruleset_version String,
    model_version String,
    receive_to_verdict_ms UInt32
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(received_at)
ORDER BY (received_at, id);
