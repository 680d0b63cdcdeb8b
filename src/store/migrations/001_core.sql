-- Migrations (the change), their steps, approvals, the audit chain, and where to speak in Teams.
CREATE TABLE migrations (
  id text PRIMARY KEY,
  name text NOT NULL,
  kind text NOT NULL,
  tenant_id text NOT NULL,
  domain text NOT NULL,
  policy jsonb NOT NULL,
  params jsonb NOT NULL,
  state text NOT NULL DEFAULT 'active',
  created_by jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  conversation_id text,
  overview_activity_id text,
  version integer NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX migrations_name_per_conversation ON migrations (conversation_id, lower(name));

CREATE TABLE steps (
  migration_id text NOT NULL REFERENCES migrations(id),
  seq integer NOT NULL,
  key text NOT NULL,
  batch integer,
  state text NOT NULL,
  attempt integer NOT NULL DEFAULT 0,
  requested_by jsonb,
  requested_at timestamptz,
  plan_hash text,
  plan jsonb,
  run_after timestamptz,
  job_id text,
  evidence jsonb,
  error jsonb,
  activity_id text,
  reminded_at timestamptz,
  escalated_at timestamptz,
  updated_at timestamptz NOT NULL,
  version integer NOT NULL DEFAULT 0,
  PRIMARY KEY (migration_id, seq)
);

CREATE TABLE approvals (
  migration_id text NOT NULL,
  seq integer NOT NULL,
  attempt integer NOT NULL,
  approver_oid text NOT NULL,
  approver_name text,
  decision text NOT NULL,
  comment text,
  plan_hash text NOT NULL,
  at timestamptz NOT NULL,
  PRIMARY KEY (migration_id, seq, attempt, approver_oid)
);

CREATE TABLE audit (
  id bigserial PRIMARY KEY,
  migration_id text NOT NULL,
  at timestamptz NOT NULL,
  actor_oid text,
  actor_name text,
  action text NOT NULL,
  step_seq integer,
  details jsonb NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
CREATE INDEX audit_by_migration ON audit (migration_id, id);

CREATE TABLE conversations (
  id text PRIMARY KEY,
  reference jsonb NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE kv (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Display names and Teams ids seen in activities: for showing who is who, never for authorization.
CREATE TABLE people (
  oid text PRIMARY KEY,
  name text NOT NULL,
  teams_id text,
  updated_at timestamptz NOT NULL
);
