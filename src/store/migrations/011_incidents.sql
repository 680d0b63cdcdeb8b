-- Issue 17: one incident per subject. A Cloud Sync job, a runner or a configuration's agents shared by several
-- migrations is one incident (one card per channel), not one per migration. `subject` says what the incident is about:
-- 'migration:<id>' for a migration's own checks (OU counts, scheduler, coexistence), else what the migrations share
-- ('job:<id>', 'runner:<name>', 'configuration:<domain>'). alerts.migration_id stays: the migration it was first seen for.
ALTER TABLE alerts ADD COLUMN subject text;
UPDATE alerts SET subject = 'migration:' || migration_id WHERE subject IS NULL;
ALTER TABLE alerts ALTER COLUMN subject SET NOT NULL;
DROP INDEX alerts_one_open_incident;
-- At most one unresolved incident per (tenant, subject, check, scope): the DESIGN contract, across processes and restarts.
CREATE UNIQUE INDEX alerts_one_open_incident ON alerts (tenant_id, subject, check_key, scope) WHERE state <> 'resolved';

-- What the card offers to do about it, beyond acknowledge / snooze / resolve (a quarantined job: restart it with the
-- reset scope its reason needs, as an approved step).
ALTER TABLE alerts ADD COLUMN remedy_action jsonb;
-- Who resolved it by hand (null: it resolved itself when the condition cleared).
ALTER TABLE alerts ADD COLUMN resolved_by text;
-- Who did what and when, for the card: opened, joined (another migration affected), acknowledged, snoozed, woke, resolved.
ALTER TABLE alerts ADD COLUMN history jsonb NOT NULL DEFAULT '[]'::jsonb;
UPDATE alerts SET history = jsonb_build_array(jsonb_build_object('at', opened_at, 'event', 'opened')) || CASE WHEN resolved_at IS NULL THEN '[]'::jsonb ELSE jsonb_build_array(jsonb_build_object('at', resolved_at, 'event', 'resolved')) END;

-- Every migration an incident affects. cleared_at: the condition no longer holds for that migration (the incident
-- resolves when it holds for none of its active migrations). conversation_id: where that migration's alerts are posted.
CREATE TABLE alert_migrations (
  alert_id text NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  migration_id text NOT NULL,
  conversation_id text,
  added_at timestamptz NOT NULL,
  cleared_at timestamptz,
  PRIMARY KEY (alert_id, migration_id)
);
CREATE INDEX alert_migrations_by_migration ON alert_migrations (migration_id);
INSERT INTO alert_migrations (alert_id, migration_id, conversation_id, added_at, cleared_at) SELECT id, migration_id, conversation_id, opened_at, resolved_at FROM alerts;

-- An incident's card in a further channel, when its migrations live in several (alerts.conversation_id / activity_id
-- hold the post in the first one).
CREATE TABLE alert_posts (
  alert_id text NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  channel text NOT NULL,
  conversation_id text NOT NULL,
  activity_id text NOT NULL,
  PRIMARY KEY (alert_id, channel)
);

-- A step added to a running migration for an incident (restart a quarantined job) carries its validated parameters.
ALTER TABLE steps ADD COLUMN params jsonb
