-- Projects, environments, flags and their per-environment configurations, the audit
-- trail and the invalidation outbox.

-- +goose Up
CREATE TABLE projects (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    key         text NOT NULL UNIQUE,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- version identifies a snapshot of the environment: every change that touches the
-- environment increments it in the transaction of the change.
CREATE TABLE environments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id  uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    key         text NOT NULL,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    protected   boolean NOT NULL DEFAULT false,
    version     bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, key)
);

CREATE TABLE flags (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    project_id  uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    key         text NOT NULL,
    name        text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    kind        text NOT NULL CHECK (kind IN ('boolean', 'string', 'number', 'json')),
    variants    jsonb NOT NULL,
    tags        jsonb NOT NULL DEFAULT '[]',
    salt        text NOT NULL,
    killed      boolean NOT NULL DEFAULT false,
    archived    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, key)
);
-- Listing pages through a project's flags by key, filtered by archived; tags by GIN
-- containment (tags @> '["web"]').
CREATE INDEX flags_project_archived_key ON flags (project_id, archived, key);
CREATE INDEX flags_tags ON flags USING gin (tags jsonb_path_ops);

CREATE TABLE flag_configs (
    flag_id        uuid NOT NULL REFERENCES flags (id) ON DELETE CASCADE,
    environment_id uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    enabled        boolean NOT NULL DEFAULT false,
    rules          jsonb NOT NULL DEFAULT '[]',
    default_serve  jsonb NOT NULL,
    off_variant    text NOT NULL,
    prerequisites  jsonb NOT NULL DEFAULT '[]',
    version        bigint NOT NULL DEFAULT 1 CHECK (version > 0),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (flag_id, environment_id)
);
-- Loading an environment snapshot reads every config of one environment.
CREATE INDEX flag_configs_environment ON flag_configs (environment_id);

-- The audit trail names projects, flags and environments by key rather than by foreign
-- key, so it outlives their deletion.
CREATE TABLE audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor_type      text NOT NULL,
    actor_id        text NOT NULL,
    actor_name      text NOT NULL,
    action          text NOT NULL,
    entity_type     text NOT NULL,
    entity_id       text NOT NULL,
    entity_key      text NOT NULL,
    project_key     text NOT NULL DEFAULT '',
    flag_key        text NOT NULL DEFAULT '',
    environment_key text NOT NULL DEFAULT '',
    before          jsonb,
    after           jsonb,
    request_id      text NOT NULL DEFAULT ''
);
-- Each filter pages newest first by id.
CREATE INDEX audit_log_project ON audit_log (project_key, id DESC);
CREATE INDEX audit_log_flag ON audit_log (project_key, flag_key, id DESC) WHERE flag_key <> '';
CREATE INDEX audit_log_environment ON audit_log (project_key, environment_key, id DESC) WHERE environment_key <> '';
CREATE INDEX audit_log_actor ON audit_log (actor_id, id DESC);
CREATE INDEX audit_log_action ON audit_log (action, id DESC);
CREATE INDEX audit_log_at ON audit_log (at);

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Invalidations to deliver to Redis, written in the transaction of the change and
-- deleted once delivered. No foreign key: a deleted environment's invalidation must
-- still go out.
CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment_id  uuid NOT NULL,
    version         bigint NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id);

-- +goose Down
DROP TABLE outbox;
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE flag_configs;
DROP TABLE flags;
DROP TABLE environments;
DROP TABLE projects;
