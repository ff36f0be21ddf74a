-- Sessions get an opaque id to list and revoke them by (never the token or its hash), an idle clock,
-- and where they were opened, so a user can recognise a session that is not theirs.
ALTER TABLE sessions ADD COLUMN id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE sessions ADD COLUMN ip text NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX sessions_id ON sessions (id);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins per account name, in PostgreSQL so a lockout holds across API instances. Names that
-- do not exist are counted too: a locked answer must not tell which accounts exist.
CREATE TABLE login_failures (
  username        text PRIMARY KEY,
  failures        integer NOT NULL,
  last_failure_at timestamptz NOT NULL,
  locked_until    timestamptz
);
