-- A migration's name is unique per (tenant, conversation): another tenant's names are neither visible nor in the way.
DROP INDEX migrations_name_per_conversation;
CREATE UNIQUE INDEX migrations_name_per_tenant_conversation ON migrations (tenant_id, conversation_id, lower(name));
