-- Alerts: one row per incident. At most one unresolved incident per (migration, check, scope).
CREATE TABLE alerts (
  id text PRIMARY KEY,
  migration_id text NOT NULL,
  tenant_id text NOT NULL,
  check_key text NOT NULL,
  scope text NOT NULL,
  severity text NOT NULL,
  title text NOT NULL,
  summary text NOT NULL,
  remedy text,
  facts jsonb NOT NULL,
  objects jsonb NOT NULL,
  state text NOT NULL,
  opened_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  resolved_at timestamptz,
  acked_by text,
  acked_at timestamptz,
  snoozed_until timestamptz,
  activity_id text,
  conversation_id text,
  delivery_error text,
  version integer NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX alerts_one_open_incident ON alerts (migration_id, check_key, scope) WHERE state <> 'resolved';

-- How many consecutive cycles a condition has been seen: mismatches during initial sync are expected.
CREATE TABLE monitor_streaks (
  key text PRIMARY KEY,
  count integer NOT NULL,
  updated_at timestamptz NOT NULL
);
