-- Steps are ordered by ord, not seq: batches and rollback steps can be inserted into a running migration.
ALTER TABLE steps ADD COLUMN ord double precision;
UPDATE steps SET ord = seq WHERE ord IS NULL
