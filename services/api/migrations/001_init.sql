-- Users, sessions, review cases with exclusive claims, decisions, audit log, Kafka outbox.
CREATE TABLE users (
  id            bigserial PRIMARY KEY,
  username      text NOT NULL UNIQUE,
  display_name  text NOT NULL,
  role          text NOT NULL CHECK (role IN ('reviewer', 'analyst', 'admin')),
  password_hash text NOT NULL,
  disabled      boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- Only a hash of the session token is stored: a leaked table does not log anyone in.
CREATE TABLE sessions (
  token_hash   text PRIMARY KEY,
  user_id      bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE review_cases (
  id              text PRIMARY KEY,
  kind            text NOT NULL CHECK (kind IN ('message', 'report', 'campaign')),
  source          text NOT NULL CHECK (source IN ('classifier', 'report', 'campaign')),
  sender          text NOT NULL,
  message_id      text,
  verdict_id      text,
  campaign_id     text,
  category        text,
  model_label     text,
  score           double precision NOT NULL DEFAULT 0.5,
  recipients      integer NOT NULL DEFAULT 1,
  report_count    integer NOT NULL DEFAULT 0,
  text            text NOT NULL DEFAULT '',
  contributions   jsonb NOT NULL DEFAULT '[]',
  samples         jsonb NOT NULL DEFAULT '[]',
  opened_at       timestamptz NOT NULL,
  first_report_at timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'escalated', 'decided')),
  claimed_by      bigint REFERENCES users(id),
  claim_expires   timestamptz,
  decision        text CHECK (decision IN ('spam', 'ham', 'escalate')),
  decision_category text,
  decision_comment  text,
  decided_by      bigint REFERENCES users(id),
  decided_at      timestamptz
);
CREATE INDEX review_cases_open ON review_cases (status, opened_at) WHERE status <> 'decided';
CREATE INDEX review_cases_campaign ON review_cases (campaign_id) WHERE campaign_id IS NOT NULL;
CREATE INDEX review_cases_sender ON review_cases (sender);

CREATE TABLE case_reports (
  report_id       text PRIMARY KEY,
  case_id         text NOT NULL REFERENCES review_cases(id) ON DELETE CASCADE,
  reporter_msisdn text NOT NULL,
  reporter_hash   text NOT NULL,
  reported_number text,
  content         text,
  status          text NOT NULL,
  verification    text NOT NULL DEFAULT 'unverified',
  received_at     timestamptz NOT NULL,
  replied_at      timestamptz,
  outcome         text
);
CREATE INDEX case_reports_case ON case_reports (case_id);

CREATE TABLE decisions (
  id          text PRIMARY KEY,
  case_id     text NOT NULL REFERENCES review_cases(id),
  reviewer_id bigint NOT NULL REFERENCES users(id),
  label       text NOT NULL CHECK (label IN ('spam', 'ham', 'escalate')),
  category    text,
  comment     text NOT NULL,
  via_campaign text,
  decided_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decisions_at ON decisions (decided_at);

CREATE TABLE audit_log (
  id        bigserial PRIMARY KEY,
  at        timestamptz NOT NULL DEFAULT now(),
  user_id   bigint REFERENCES users(id),
  username  text NOT NULL,
  action    text NOT NULL,
  target    text NOT NULL DEFAULT '',
  reason    text NOT NULL DEFAULT '',
  detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at DESC);

-- Transactional outbox: a decision and the Kafka messages it causes commit together;
-- the relay publishes them afterwards and marks them sent (at-least-once).
CREATE TABLE outbox (
  id         bigserial PRIMARY KEY,
  topic_key  text NOT NULL,
  msg_key    text,
  payload    jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at    timestamptz,
  attempts   integer NOT NULL DEFAULT 0,
  last_error text
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

-- Which messages a campaign case has seen, so a redelivered verdict does not count twice.
CREATE TABLE campaign_members (
  campaign_id text NOT NULL,
  message_id  text NOT NULL,
  PRIMARY KEY (campaign_id, message_id)
);
