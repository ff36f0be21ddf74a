-- The restricted contact store: reporters' numbers, needed only to answer them. It is a database of
-- its own (`<platform database>_restricted`) so that a ClickHouse user can be allowed the platform's
-- database without these tables (users.xml allow_databases); only the sink (writes) and the decider
-- (reads, to answer after a restart) hold its credentials.

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

CREATE TABLE IF NOT EXISTS restricted_reply_recipients
(
    reply_id String,
    recipient String,
    inserted_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY reply_id;
