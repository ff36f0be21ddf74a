-- Report and campaign cases opened by the decider (issue 5) arrive as versioned case events.
-- For them the decider sends the block-list changes and the reporters' replies when it reads
-- our review label; the API publishes only the label.
ALTER TABLE review_cases ADD COLUMN owner text NOT NULL DEFAULT 'api' CHECK (owner IN ('api', 'decider'));
ALTER TABLE review_cases ADD COLUMN ext_version bigint NOT NULL DEFAULT -1;
ALTER TABLE review_cases ADD COLUMN decider_rule text;
ALTER TABLE review_cases ADD COLUMN evidence jsonb;
ALTER TABLE case_reports ADD COLUMN similarity double precision;
ALTER TABLE case_reports ADD COLUMN reporter_reputation double precision;
ALTER TABLE case_reports ADD COLUMN matched_message_id text;
CREATE INDEX review_cases_message ON review_cases (message_id) WHERE message_id IS NOT NULL;
