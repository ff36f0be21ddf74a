-- The restricted contact tables moved to their own database (infra/clickhouse/restricted/); the
-- migrate step copies any rows there before this runs. Reporters' numbers stay in none of the
-- platform's tables.

DROP TABLE IF EXISTS restricted_report_contacts;

DROP TABLE IF EXISTS restricted_reply_recipients;
