-- The kind of an SDK key: server keys may download flag definitions (targeting rules,
-- which can hold user ids and e-mail addresses); client keys, held by browsers and
-- mobile apps, may only evaluate. Keys made before kinds existed are server keys, as
-- they could download definitions until now.

-- +goose Up
ALTER TABLE sdk_keys ADD COLUMN kind text NOT NULL DEFAULT 'server'
    CONSTRAINT sdk_keys_kind CHECK (kind IN ('server', 'client'));

-- +goose Down
ALTER TABLE sdk_keys DROP COLUMN kind;
