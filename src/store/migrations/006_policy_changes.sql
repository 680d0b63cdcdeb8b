-- Changing a migration's approval policy is itself an approved change (issue #5): one row per proposed change, its
-- decisions beside it. The migration's policy column changes only when a change is approved.
CREATE TABLE policy_changes (
  migration_id text NOT NULL REFERENCES migrations(id),
  id integer NOT NULL,
  state text NOT NULL,
  requested_by jsonb NOT NULL,
  requested_at timestamptz NOT NULL,
  old_policy jsonb NOT NULL,
  new_policy jsonb NOT NULL,
  plan_hash text NOT NULL,
  decided_at timestamptz,
  activity_id text,
  version integer NOT NULL DEFAULT 0,
  PRIMARY KEY (migration_id, id)
);

CREATE TABLE policy_change_decisions (
  migration_id text NOT NULL,
  change_id integer NOT NULL,
  approver_oid text NOT NULL,
  approver_name text,
  decision text NOT NULL,
  comment text,
  at timestamptz NOT NULL,
  PRIMARY KEY (migration_id, change_id, approver_oid)
);
