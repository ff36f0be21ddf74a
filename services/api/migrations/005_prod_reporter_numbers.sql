-- Reporters' numbers are kept only in the restricted contact store (ClickHouse `<db>_restricted`,
-- readable by the sink and the decider alone). A report case knows its reporters by keyed hash.
ALTER TABLE case_reports DROP COLUMN reporter_msisdn;

-- The outbox keeps a message only until the broker has it: relayed rows are deleted, so decisions'
-- payloads (review comments, replies of older versions with numbers) do not pile up here.
DELETE FROM outbox WHERE sent_at IS NOT NULL;
