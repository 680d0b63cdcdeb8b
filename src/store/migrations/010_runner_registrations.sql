-- Issue 15: authority in the channel.
-- A runner registered through the channel carries a first-use deadline: its token works only if the runner first uses
-- it before claim_by (claimed_at records that first use); an unclaimed token past its deadline never works.
ALTER TABLE runners ADD COLUMN claim_by timestamptz;
ALTER TABLE runners ADD COLUMN claimed_at timestamptz;

-- Adding (or rotating) a runner is a change: an administrator asks, a second administrator approves, and only then is
-- a token minted, shown to the administrator who asked and to nobody else. The token itself is never stored here.
CREATE TABLE runner_requests (
  id text PRIMARY KEY,
  tenant_id text NOT NULL,
  name text NOT NULL,
  kind text NOT NULL,
  state text NOT NULL,
  requested_by jsonb NOT NULL,
  requested_at timestamptz NOT NULL,
  decided_by jsonb,
  decided_at timestamptz,
  claim_by timestamptz,
  issued_at timestamptz,
  runner_id text,
  conversation_id text,
  activity_id text,
  version integer NOT NULL DEFAULT 0
);
-- One open request (waiting for approval, or approved and not yet issued) per runner name in a tenant.
CREATE UNIQUE INDEX runner_requests_open_name ON runner_requests (tenant_id, lower(name)) WHERE state IN ('awaiting_approval', 'approved');

-- One row per tenant whose runner audit chain exists: locked FOR UPDATE while a row is appended to that chain.
CREATE TABLE runner_audit_chains (
  tenant_id text PRIMARY KEY
);
