-- Per-environment SDK keys for the evaluator, and evaluation analytics.

-- +goose Up
-- Keys are 256-bit random strings, stored as their SHA-256 digest: a slow password hash
-- adds nothing for keys nobody can guess. prefix is shown in listings to tell keys
-- apart. A rotated key stays valid until expires_at; a revoked key never again.
CREATE TABLE sdk_keys (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    environment_id uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    name           text NOT NULL DEFAULT '',
    prefix         text NOT NULL,
    digest         bytea NOT NULL UNIQUE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz,
    revoked_at     timestamptz,
    last_used_at   timestamptz
);
CREATE INDEX sdk_keys_environment ON sdk_keys (environment_id, created_at);

-- Evaluation counts per minute, flushed in batches by the evaluators.
CREATE TABLE flag_evaluations (
    environment_id uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    flag_key       text NOT NULL,
    minute         timestamptz NOT NULL,
    variant        text NOT NULL,
    reason         text NOT NULL,
    count          bigint NOT NULL CHECK (count >= 0),
    PRIMARY KEY (environment_id, flag_key, minute, variant, reason)
);

-- The last time each flag was evaluated in each environment, to find stale flags.
CREATE TABLE flag_last_evaluated (
    environment_id uuid NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
    flag_key       text NOT NULL,
    at             timestamptz NOT NULL,
    PRIMARY KEY (environment_id, flag_key)
);

-- +goose Down
DROP TABLE flag_last_evaluated;
DROP TABLE flag_evaluations;
DROP TABLE sdk_keys;
