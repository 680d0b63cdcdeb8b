-- Runners are identified by their id (a uuid, never reused); a name is unique within its tenant among the runners
-- not revoked (two tenants may both have "r1", and a revoked runner's row is kept). A job's lease is bound to the
-- runner id that holds it and to a lease id that changes with every lease; a job may be addressed to one runner id.
ALTER TABLE runners DROP CONSTRAINT runners_pkey;
ALTER TABLE runners ADD PRIMARY KEY (id);
CREATE UNIQUE INDEX runners_tenant_name ON runners (tenant_id, name) WHERE revoked_at IS NULL;
ALTER TABLE runner_jobs ADD COLUMN runner_id text;
ALTER TABLE runner_jobs ADD COLUMN leased_by_id text;
ALTER TABLE runner_jobs ADD COLUMN lease_id text;
