-- Stale flags and configuration reverts.

-- +goose Up
-- A flag nobody evaluated for stale_after_days days (and older than that) is stale:
-- flag listings say so, to find flags to remove.
ALTER TABLE projects ADD COLUMN stale_after_days integer NOT NULL DEFAULT 30
    CHECK (stale_after_days BETWEEN 1 AND 3650);

-- A config.revert row names the entry whose before-state it restored. Adding a
-- nullable column rewrites no row, so the append-only trigger is not involved.
ALTER TABLE audit_log ADD COLUMN reverts bigint;

-- +goose Down
ALTER TABLE audit_log DROP COLUMN reverts;
ALTER TABLE projects DROP COLUMN stale_after_days;
