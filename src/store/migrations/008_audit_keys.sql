-- The audit chain is keyed: each row's hash is an HMAC-SHA256 under the key named by key_id (NULL: a row written
-- before keys, an unkeyed SHA-256, accepted only before the first keyed row of its migration).
ALTER TABLE audit ADD COLUMN key_id text;
