-- One review case per subject: a sender number or a campaign fingerprint. Reports, flagged single
-- messages and campaign membership are evidence inside the subject's case, so a decision about a
-- subject is made once and settles everything that hangs on it.
ALTER TABLE review_cases ADD COLUMN subject_kind text CHECK (subject_kind IN ('sender', 'campaign'));
ALTER TABLE review_cases ADD COLUMN subject text;
UPDATE review_cases SET subject_kind = CASE WHEN kind = 'campaign' THEN 'campaign' ELSE 'sender' END,
                        subject = CASE WHEN kind = 'campaign' THEN COALESCE(campaign_id, sender) ELSE sender END;
ALTER TABLE review_cases ALTER COLUMN subject_kind SET NOT NULL;
ALTER TABLE review_cases ALTER COLUMN subject SET NOT NULL;
-- The decider knows a sender's case by its own id: the label we send it carries that id.
ALTER TABLE review_cases ADD COLUMN decider_case_id text;
UPDATE review_cases SET decider_case_id = id WHERE owner = 'decider';
-- Why a case closed without its own review (a reason code the console translates), e.g. policy.velocity_high_score.
ALTER TABLE review_cases ADD COLUMN closed_reason text;

-- Flagged single messages of a sender case.
CREATE TABLE case_messages (
  case_id       text NOT NULL REFERENCES review_cases(id) ON DELETE CASCADE,
  message_id    text NOT NULL,
  verdict_id    text,
  campaign_id   text,
  category      text,
  model_label   text,
  score         double precision NOT NULL DEFAULT 0.5,
  text          text NOT NULL DEFAULT '',
  flagged_at    timestamptz NOT NULL,
  PRIMARY KEY (case_id, message_id)
);
CREATE INDEX case_messages_message ON case_messages (message_id);
CREATE INDEX case_messages_campaign ON case_messages (campaign_id) WHERE campaign_id IS NOT NULL;

-- Who sent each campaign member: deciding a campaign spam blocks its senders and settles their cases.
ALTER TABLE campaign_members ADD COLUMN sender text;
UPDATE campaign_members cm SET sender = rc.sender FROM review_cases rc WHERE rc.kind = 'message' AND rc.message_id = cm.message_id;
CREATE INDEX campaign_members_sender ON campaign_members (sender) WHERE sender IS NOT NULL;

-- Existing open cases of one subject merge into one: the decider's case if there is one (it answers the
-- reporters), else a report case, else the oldest.
CREATE TEMP TABLE case_merge ON COMMIT DROP AS
  SELECT id, first_value(id) OVER w AS survivor
    FROM review_cases WHERE status <> 'decided'
  WINDOW w AS (PARTITION BY subject_kind, subject
               ORDER BY (owner = 'decider') DESC, (kind = 'report') DESC, (status = 'escalated') DESC, opened_at, id);
INSERT INTO case_messages (case_id, message_id, verdict_id, campaign_id, category, model_label, score, text, flagged_at)
  SELECT m.survivor, c.message_id, c.verdict_id, c.campaign_id, c.category, c.model_label, c.score, c.text, c.opened_at
    FROM review_cases c JOIN case_merge m ON m.id = c.id
   WHERE c.kind = 'message' AND c.message_id IS NOT NULL
  ON CONFLICT DO NOTHING;
UPDATE case_reports r SET case_id = m.survivor FROM case_merge m WHERE r.case_id = m.id AND m.id <> m.survivor;
UPDATE decisions d SET case_id = m.survivor FROM case_merge m WHERE d.case_id = m.id AND m.id <> m.survivor;
UPDATE review_cases s SET
    report_count = g.report_count, score = g.score, opened_at = g.opened_at, first_report_at = g.first_report_at,
    text = CASE WHEN s.text = '' THEN COALESCE(g.text, '') ELSE s.text END,
    category = COALESCE(s.category, g.category), model_label = COALESCE(s.model_label, g.model_label),
    campaign_id = COALESCE(s.campaign_id, g.campaign_id), decider_case_id = COALESCE(s.decider_case_id, g.decider_case_id),
    contributions = CASE WHEN s.contributions = '[]'::jsonb THEN g.contributions ELSE s.contributions END,
    updated_at = now()
  FROM (SELECT m.survivor, sum(c.report_count)::int AS report_count, max(c.score) AS score, min(c.opened_at) AS opened_at,
               min(c.first_report_at) AS first_report_at, max(c.text) FILTER (WHERE c.text <> '') AS text,
               max(c.category) AS category, max(c.model_label) AS model_label, max(c.campaign_id) AS campaign_id,
               max(c.decider_case_id) AS decider_case_id,
               (array_agg(c.contributions ORDER BY jsonb_array_length(c.contributions) DESC))[1] AS contributions
          FROM review_cases c JOIN case_merge m ON m.id = c.id GROUP BY m.survivor HAVING count(*) > 1) g
 WHERE s.id = g.survivor;
DELETE FROM review_cases c USING case_merge m WHERE c.id = m.id AND m.id <> m.survivor;

CREATE UNIQUE INDEX review_cases_one_open ON review_cases (subject_kind, subject) WHERE status <> 'decided';
CREATE UNIQUE INDEX review_cases_decider_case ON review_cases (decider_case_id) WHERE decider_case_id IS NOT NULL;
