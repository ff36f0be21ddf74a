-- What a candidate model or rule set running in shadow would have decided about each message
-- (verdict.shadow): recorded beside the live decision, never acted on. Empty / NULL: no shadow ran;
-- shadow_ruleset_version empty: the shadow used the live rules.
-- No IF NOT EXISTS: 18.16 has no such ADD COLUMN; the runner applies a file once.
ALTER TABLE verdicts
    ADD COLUMN shadow_model_version String DEFAULT '',
    ADD COLUMN shadow_score Nullable(Float64),
    ADD COLUMN shadow_label String DEFAULT '',
    ADD COLUMN shadow_action String DEFAULT '',
    ADD COLUMN shadow_ruleset_version String DEFAULT '';
