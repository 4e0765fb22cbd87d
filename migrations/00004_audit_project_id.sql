-- +goose Up
-- Audit rows name their project by id as well as by key. Keys are reused after a
-- project is deleted, ids never are: a project created under an old key must not show
-- the old project's history to its members.
ALTER TABLE audit_log ADD COLUMN project_id uuid;

-- Existing rows belong to the project holding their key now only if they were written
-- after it was created; older rows stay with no project, visible to superusers only.
-- The append-only trigger is lifted for this one backfill, inside the migration's
-- transaction.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete;
UPDATE audit_log a SET project_id = p.id FROM projects p
    WHERE a.project_key = p.key AND a.project_key <> '' AND a.at >= p.created_at;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update_delete;

-- Members filter by id, superusers by key: both are indexed.
CREATE INDEX audit_log_project_id ON audit_log (project_id, id DESC);
CREATE INDEX audit_log_project_id_flag ON audit_log (project_id, flag_key, id DESC) WHERE flag_key <> '';

-- +goose Down
DROP INDEX audit_log_project_id_flag;
DROP INDEX audit_log_project_id;
ALTER TABLE audit_log DROP COLUMN project_id;
