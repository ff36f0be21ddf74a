-- Every record topic gets a table. Dedup rule for all of them: a redelivered
-- record (same id, same content) carries the same sorting key and partition,
-- so ReplacingMergeTree collapses it on merge; exact reads use FINAL (the
-- *_dedup / *_current views) or argMax/uniqExact GROUP BY. Analytics tables are
-- AggregatingMergeTree holding uniqExact states of record ids, so a duplicate
-- row adds nothing to a count. No TTL, DateTime64, LowCardinality or Nullable
-- sorting keys: this runs on 18.16 and current ClickHouse.

-- Raw traffic, sorted for the report verification lookup (reporter, sender, time).
CREATE TABLE IF NOT EXISTS traffic_raw
(
    id String,
    received_at DateTime,
    inserted_at DateTime DEFAULT now(),
    gateway_id String,
    account String,
    source String,
    destination String,
    text String,
    data_coding UInt8,
    parts UInt8,
    partial UInt8
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(received_at)
ORDER BY (destination, source, received_at, id);

CREATE VIEW IF NOT EXISTS traffic_raw_dedup AS SELECT * FROM traffic_raw FINAL;

-- Reports without the reporter's number: only its keyed hash.
CREATE TABLE IF NOT EXISTS reports
(
    id String,
    message_id String,
    received_at DateTime,
    inserted_at DateTime DEFAULT now(),
    gateway_id String,
    short_code String,
    reporter_hash String,
    reported_number Nullable(String),
    content Nullable(String),
    raw_text String,
    status String,
    parse_error Nullable(String),
    allow_listed UInt8
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(received_at)
ORDER BY (received_at, id);

CREATE VIEW IF NOT EXISTS reports_dedup AS SELECT * FROM reports FINAL;

-- Restricted: the reporter's MSISDN, needed only to send the outcome reply.
-- Grant it to the decider's user only (users.xml / GRANT); analytics never read it.
CREATE TABLE IF NOT EXISTS restricted_report_contacts
(
    report_id String,
    received_at DateTime,
    inserted_at DateTime DEFAULT now(),
    reporter_hash String,
    reporter_msisdn String
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY report_id;

CREATE VIEW IF NOT EXISTS verdicts_dedup AS SELECT * FROM verdicts FINAL;

-- Block list history: one row per (key, version); the latest version is the state.
CREATE TABLE IF NOT EXISTS blocklist_versions
(
    key String,
    version UInt64,
    kind String,
    value String,
    state String,
    reason String,
    evidence_report_ids Array(String),
    evidence_verdict_ids Array(String),
    created_by String,
    created_at DateTime,
    expires_at Nullable(DateTime),
    changed_at DateTime,
    inserted_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY (key, version);

CREATE VIEW IF NOT EXISTS blocklist_current AS
SELECT
    key,
    max(version) AS current_version,
    argMax(kind, version) AS kind,
    argMax(value, version) AS value,
    argMax(state, version) AS state,
    argMax(reason, version) AS reason,
    argMax(evidence_report_ids, version) AS evidence_report_ids,
    argMax(evidence_verdict_ids, version) AS evidence_verdict_ids,
    argMax(created_by, version) AS created_by,
    argMax(created_at, version) AS created_at,
    argMax(expires_at, version) AS expires_at,
    argMax(changed_at, version) AS changed_at
FROM blocklist_versions
GROUP BY key;

CREATE TABLE IF NOT EXISTS review_labels
(
    id String,
    case_id String,
    message_id Nullable(String),
    label String,
    category Nullable(String),
    reviewer String,
    decided_at DateTime,
    comment String,
    inserted_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(decided_at)
ORDER BY (decided_at, id);

CREATE VIEW IF NOT EXISTS review_labels_dedup AS SELECT * FROM review_labels FINAL;

-- Reply log; the recipient number is masked here and kept whole only in the restricted table.
CREATE TABLE IF NOT EXISTS reply_log
(
    id String,
    report_id Nullable(String),
    kind String,
    sender String,
    recipient_masked String,
    text String,
    created_at DateTime,
    inserted_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(created_at)
ORDER BY (created_at, id);

CREATE VIEW IF NOT EXISTS reply_log_dedup AS SELECT * FROM reply_log FINAL;

CREATE TABLE IF NOT EXISTS restricted_reply_recipients
(
    reply_id String,
    recipient String,
    inserted_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY reply_id;

CREATE TABLE IF NOT EXISTS enforcement_events
(
    id String,
    message_id String,
    at DateTime,
    gateway_id String,
    kind String,
    value String,
    policy String,
    source String,
    destination String,
    inserted_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(at)
ORDER BY (at, id);

CREATE VIEW IF NOT EXISTS enforcement_events_dedup AS SELECT * FROM enforcement_events FINAL;

-- Audit log: block lifts, number reveals, policy changes. Who, what, when, why.
CREATE TABLE IF NOT EXISTS audit_log
(
    id String,
    at DateTime,
    actor String,
    action String,
    subject_kind String,
    subject String,
    reason String,
    detail String,
    inserted_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(at)
ORDER BY (at, id);

CREATE VIEW IF NOT EXISTS audit_log_dedup AS SELECT * FROM audit_log FINAL;

-- Decider output: per-report verification, cases (latest version wins), outcomes.
CREATE TABLE IF NOT EXISTS report_assessments
(
    report_id String,
    reported_number Nullable(String),
    reporter_hash String,
    report_received_at DateTime,
    assessed_at DateTime,
    verification String,
    matched_message_id Nullable(String),
    similarity Nullable(Float64),
    case_id Nullable(String),
    reporter_reputation Float64,
    reporter_history UInt32,
    allow_listed UInt8,
    campaign_id Nullable(String),
    verdict_label Nullable(String),
    inserted_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY report_id;

CREATE VIEW IF NOT EXISTS report_assessments_dedup AS SELECT * FROM report_assessments FINAL;

CREATE TABLE IF NOT EXISTS cases
(
    case_id String,
    version UInt64,
    subject_kind String,
    subject String,
    state String,
    decision String,
    decided_by Nullable(String),
    reason String,
    rule String,
    evidence String,
    report_ids Array(String),
    verdict_ids Array(String),
    report_count UInt32,
    verified_count UInt32,
    fabricated_count UInt32,
    distinct_verified_reporters UInt32,
    weighted_reporters Float64,
    classifier_agreement Float64,
    max_score Float64,
    brigading_suspected UInt8,
    allow_listed UInt8,
    opened_at DateTime,
    updated_at DateTime,
    decided_at Nullable(DateTime),
    sla_due_at DateTime,
    sla_breached UInt8,
    inserted_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(version)
ORDER BY case_id;

-- The review queue reads this: one row per case, its latest version.
CREATE VIEW IF NOT EXISTS cases_current AS SELECT * FROM cases FINAL;

-- Every decision event with its evidence, append-only (dedup by event id).
CREATE TABLE IF NOT EXISTS decision_log
(
    id String,
    at DateTime,
    case_id String,
    version UInt64,
    state String,
    decision String,
    decided_by Nullable(String),
    reason String,
    rule String,
    evidence String,
    inserted_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(at)
ORDER BY (at, id);

CREATE TABLE IF NOT EXISTS report_outcomes
(
    report_id String,
    case_id String,
    outcome String,
    decided_by String,
    reporter_hash String,
    report_received_at DateTime,
    decided_at DateTime,
    report_to_outcome_s UInt32,
    inserted_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY report_id;

CREATE VIEW IF NOT EXISTS report_outcomes_dedup AS SELECT * FROM report_outcomes FINAL;

-- Records the sink could not store (ClickHouse rejected them), for operators.
CREATE TABLE IF NOT EXISTS dead_letters
(
    source_topic String,
    partition UInt32,
    offset String,
    record_key Nullable(String),
    value_base64 Nullable(String),
    error String,
    service String,
    failed_at DateTime,
    inserted_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(failed_at)
ORDER BY (failed_at, source_topic, partition, offset);

-- Analytics: verdicts per hour by kind, label, category, action, sender prefix, campaign.
-- uniqExact states of the verdict id: a redelivered verdict does not count twice.
CREATE TABLE IF NOT EXISTS verdict_counts_hourly_agg
(
    hour DateTime,
    kind String,
    label String,
    category_key String,
    action String,
    sender_prefix String,
    campaign_key String,
    verdicts AggregateFunction(uniqExact, String),
    senders AggregateFunction(uniqExact, String),
    recipients AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, kind, label, category_key, action, sender_prefix, campaign_key);

CREATE MATERIALIZED VIEW IF NOT EXISTS verdict_counts_hourly_mv TO verdict_counts_hourly_agg AS
SELECT
    toStartOfHour(received_at) AS hour,
    kind,
    label,
    ifNull(category, '') AS category_key,
    action,
    substring(replaceRegexpOne(source, '^[+]?86', ''), 1, 7) AS sender_prefix,
    ifNull(campaign_id, '') AS campaign_key,
    uniqExactState(id) AS verdicts,
    uniqExactState(source) AS senders,
    uniqExactState(destination) AS recipients
FROM verdicts
GROUP BY hour, kind, label, category_key, action, sender_prefix, campaign_key;

CREATE VIEW IF NOT EXISTS verdict_counts_hourly AS
SELECT hour, kind, label, category_key AS category, action, sender_prefix, campaign_key AS campaign_id,
    uniqExactMerge(verdicts) AS verdicts, uniqExactMerge(senders) AS senders, uniqExactMerge(recipients) AS recipients
FROM verdict_counts_hourly_agg
GROUP BY hour, kind, label, category_key, action, sender_prefix, campaign_key;

-- A verdict id lives in exactly one hour, so merging hourly states per day stays exact.
CREATE VIEW IF NOT EXISTS verdict_counts_daily AS
SELECT toDate(hour) AS day, kind, label, category_key AS category, action, sender_prefix, campaign_key AS campaign_id,
    uniqExactMerge(verdicts) AS verdicts, uniqExactMerge(senders) AS senders, uniqExactMerge(recipients) AS recipients
FROM verdict_counts_hourly_agg
GROUP BY day, kind, label, category_key, action, sender_prefix, campaign_key;

-- Campaigns: size, reach and lifetime, from the verdicts the scorer clustered.
CREATE TABLE IF NOT EXISTS campaign_stats_agg
(
    campaign_key String,
    hour DateTime,
    label String,
    message_ids AggregateFunction(uniqExact, String),
    senders AggregateFunction(uniqExact, String),
    recipients AggregateFunction(uniqExact, String),
    first_seen AggregateFunction(min, DateTime),
    last_seen AggregateFunction(max, DateTime),
    max_score AggregateFunction(max, Float64)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (campaign_key, hour, label);

CREATE MATERIALIZED VIEW IF NOT EXISTS campaign_stats_mv TO campaign_stats_agg AS
SELECT
    assumeNotNull(campaign_id) AS campaign_key,
    toStartOfHour(received_at) AS hour,
    label,
    uniqExactState(id) AS message_ids,
    uniqExactState(source) AS senders,
    uniqExactState(destination) AS recipients,
    minState(received_at) AS first_seen,
    maxState(received_at) AS last_seen,
    maxState(score) AS max_score
FROM verdicts
WHERE isNotNull(campaign_id) AND kind = 'traffic'
GROUP BY campaign_key, hour, label;

CREATE VIEW IF NOT EXISTS campaigns AS
SELECT campaign_key AS campaign_id,
    uniqExactMerge(message_ids) AS messages,
    uniqExactMergeIf(message_ids, label = 'spam') AS spam_messages,
    uniqExactMerge(senders) AS senders,
    uniqExactMerge(recipients) AS recipients,
    minMerge(first_seen) AS first_seen,
    maxMerge(last_seen) AS last_seen,
    maxMerge(max_score) AS max_score
FROM campaign_stats_agg
GROUP BY campaign_key;

-- Reports per hour by status, allow-listing and reported number prefix.
CREATE TABLE IF NOT EXISTS report_counts_hourly_agg
(
    hour DateTime,
    status String,
    allow_listed UInt8,
    reported_prefix String,
    reports AggregateFunction(uniqExact, String),
    reporters AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, status, allow_listed, reported_prefix);

CREATE MATERIALIZED VIEW IF NOT EXISTS report_counts_hourly_mv TO report_counts_hourly_agg AS
SELECT
    toStartOfHour(received_at) AS hour,
    status,
    allow_listed,
    substring(replaceRegexpOne(ifNull(reported_number, ''), '^[+]?86', ''), 1, 7) AS reported_prefix,
    uniqExactState(id) AS reports,
    uniqExactState(reporter_hash) AS reporters
FROM reports
GROUP BY hour, status, allow_listed, reported_prefix;

CREATE VIEW IF NOT EXISTS report_counts_hourly AS
SELECT hour, status, allow_listed, reported_prefix, uniqExactMerge(reports) AS reports, uniqExactMerge(reporters) AS reporters
FROM report_counts_hourly_agg
GROUP BY hour, status, allow_listed, reported_prefix;

CREATE VIEW IF NOT EXISTS report_counts_daily AS
SELECT toDate(hour) AS day, status, allow_listed, reported_prefix, uniqExactMerge(reports) AS reports, uniqExactMerge(reporters) AS reporters
FROM report_counts_hourly_agg
GROUP BY day, status, allow_listed, reported_prefix;

-- Enforcement (rejected/dropped at the gateway) per hour by block kind and policy.
CREATE TABLE IF NOT EXISTS enforcement_counts_hourly_agg
(
    hour DateTime,
    kind String,
    policy String,
    events AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, kind, policy);

CREATE MATERIALIZED VIEW IF NOT EXISTS enforcement_counts_hourly_mv TO enforcement_counts_hourly_agg AS
SELECT toStartOfHour(at) AS hour, kind, policy, uniqExactState(id) AS events
FROM enforcement_events
GROUP BY hour, kind, policy;

CREATE VIEW IF NOT EXISTS enforcement_counts_hourly AS
SELECT hour, kind, policy, uniqExactMerge(events) AS events
FROM enforcement_counts_hourly_agg
GROUP BY hour, kind, policy;
