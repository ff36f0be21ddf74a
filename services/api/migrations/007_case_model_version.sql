-- The model version whose verdict flagged the case's latest message (issue 22: the console shows which version decided).
ALTER TABLE review_cases ADD COLUMN IF NOT EXISTS model_version text;
