-- Login sessions ended before their expiry (sign-out). A login JWT is refused while
-- its id (jti) is here; a row is useless once the session would have expired anyway,
-- and is deleted then.

-- +goose Up
CREATE TABLE revoked_sessions (
    id         text PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_sessions_expires ON revoked_sessions (expires_at);

-- +goose Down
DROP TABLE revoked_sessions;
