-- On-premises runners (token stored only as a SHA-256 hash) and the jobs they lease.
CREATE TABLE runners (
  name text PRIMARY KEY,
  id text NOT NULL UNIQUE,
  tenant_id text NOT NULL,
  pool text,
  token_hash text NOT NULL,
  created_at timestamptz NOT NULL,
  revoked_at timestamptz,
  last_seen_at timestamptz,
  version text,
  executor text
);

CREATE TABLE runner_jobs (
  id text PRIMARY KEY,
  migration_id text NOT NULL,
  step_seq integer NOT NULL,
  attempt integer NOT NULL,
  action text NOT NULL,
  params jsonb NOT NULL,
  mutation boolean NOT NULL,
  tenant_id text NOT NULL,
  runner_name text,
  pool text,
  state text NOT NULL,
  leased_by text,
  lease_until timestamptz,
  lease_count integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  settled_at timestamptz,
  result jsonb,
  error jsonb,
  transcript text,
  late_result jsonb
);
-- One job per step attempt: enqueueing the same attempt twice returns the first job.
CREATE UNIQUE INDEX runner_jobs_step_attempt ON runner_jobs (migration_id, step_seq, attempt);
CREATE INDEX runner_jobs_queue ON runner_jobs (tenant_id, state, created_at);
CREATE INDEX runner_jobs_leases ON runner_jobs (state, lease_until);
