-- Users, their roles per project (with per-environment overrides), and API tokens.

-- +goose Up
-- An instance administrator manages users and projects and holds admin on every
-- project. password_changed_at invalidates the JWTs issued before it.
CREATE TABLE users (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email               text NOT NULL,
    name                text NOT NULL DEFAULT '',
    password_hash       text NOT NULL,
    instance_admin      boolean NOT NULL DEFAULT false,
    disabled            boolean NOT NULL DEFAULT false,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

-- A user's role in a project, and overrides per environment key.
CREATE TABLE memberships (
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    project_id        uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    role              text NOT NULL CHECK (role IN ('viewer', 'developer', 'admin')),
    environment_roles jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, project_id)
);
CREATE INDEX memberships_project ON memberships (project_id);

-- API tokens act in one project with a role (and overrides). A token made by a user for
-- themselves never acts above that user's current role. Stored as a SHA-256 digest.
CREATE TABLE api_tokens (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name              text NOT NULL,
    prefix            text NOT NULL,
    digest            bytea NOT NULL UNIQUE,
    project_id        uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    role              text NOT NULL CHECK (role IN ('viewer', 'developer', 'admin')),
    environment_roles jsonb NOT NULL DEFAULT '{}',
    owner_id          uuid REFERENCES users (id) ON DELETE CASCADE,
    created_by        text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz,
    revoked_at        timestamptz,
    last_used_at      timestamptz
);
CREATE INDEX api_tokens_project ON api_tokens (project_id);
CREATE INDEX api_tokens_owner ON api_tokens (owner_id);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE memberships;
DROP TABLE users;
