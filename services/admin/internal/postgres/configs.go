package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
)

type configRow struct {
	FlagID        string `gorm:"primaryKey"`
	EnvironmentID string `gorm:"primaryKey"`
	Enabled       bool
	Rules         json.RawMessage `gorm:"type:jsonb"`
	DefaultServe  json.RawMessage `gorm:"type:jsonb"`
	OffVariant    string
	Prerequisites json.RawMessage `gorm:"type:jsonb"`
	Version       int64
	UpdatedAt     time.Time
}

func (configRow) TableName() string { return "flag_configs" }

func (r configRow) domain() (domain.Config, error) {
	c := domain.Config{Enabled: r.Enabled, OffVariant: r.OffVariant, Version: r.Version, UpdatedAt: r.UpdatedAt}
	for _, part := range []struct {
		raw  json.RawMessage
		into any
	}{{r.Rules, &c.Rules}, {r.DefaultServe, &c.Default}, {r.Prerequisites, &c.Prerequisites}} {
		if err := json.Unmarshal(part.raw, part.into); err != nil {
			return c, fmt.Errorf("config of flag %s in %s: %w", r.FlagID, r.EnvironmentID, err)
		}
	}
	if c.Rules == nil {
		c.Rules = []domain.Rule{}
	}
	if c.Prerequisites == nil {
		c.Prerequisites = []domain.Prerequisite{}
	}
	return c, nil
}

func configRowOf(flagID, envID string, c domain.Config) configRow {
	rules, prereqs := c.Rules, c.Prerequisites
	if rules == nil {
		rules = []domain.Rule{}
	}
	if prereqs == nil {
		prereqs = []domain.Prerequisite{}
	}
	return configRow{FlagID: flagID, EnvironmentID: envID, Enabled: c.Enabled, Rules: mustJSON(rules),
		DefaultServe: mustJSON(c.Default), OffVariant: c.OffVariant, Prerequisites: mustJSON(prereqs),
		Version: c.Version, UpdatedAt: c.UpdatedAt}
}

// configTarget is what a configuration read or write finds by keys, in one query:
// the project, the environment, the flag and its configuration there. A key that
// matches nothing leaves its part empty.
type configTarget struct {
	ProjectID  string
	ProjectKey string
	Env        environmentRow `gorm:"embedded;embeddedPrefix:e_"`
	Flag       flagRow        `gorm:"embedded;embeddedPrefix:f_"`
	Config     configRow      `gorm:"embedded;embeddedPrefix:c_"`
}

// configTargetQuery reads a configTarget: project key, environment key, flag key.
var configTargetQuery = `SELECT p.id AS project_id, p.key AS project_key, ` +
	prefixed("e", "id", "project_id", "key", "name", "description", "protected", "version", "created_at", "updated_at") + `, ` +
	prefixed("f", "id", "project_id", "key", "name", "description", "kind", "variants", "tags", "salt", "killed", "archived", "created_at", "updated_at") + `, ` +
	prefixed("c", "flag_id", "environment_id", "enabled", "rules", "default_serve", "off_variant", "prerequisites", "version", "updated_at") + `
	FROM projects p
	LEFT JOIN environments e ON e.project_id = p.id AND e.key = ?
	LEFT JOIN flags f ON f.project_id = p.id AND f.key = ?
	LEFT JOIN flag_configs c ON c.flag_id = f.id AND c.environment_id = e.id
	WHERE p.key = ?`

// prefixed lists columns of table alias t as t_column.
func prefixed(t string, cols ...string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = t + "." + c + " AS " + t + "_" + c
	}
	return strings.Join(out, ", ")
}

// readConfigTarget finds a flag's configuration in an environment with its project,
// environment and flag, in one round trip, or says which of them does not exist.
func readConfigTarget(db *gorm.DB, projectKey, flagKey, envKey string) (configTarget, domain.ConfigState, error) {
	var t configTarget
	if err := db.Raw(configTargetQuery, envKey, flagKey, projectKey).Scan(&t).Error; err != nil {
		return t, domain.ConfigState{}, err
	}
	switch {
	case t.ProjectID == "":
		return t, domain.ConfigState{}, domain.Errorf(domain.CodeNotFound, "project %q not found", projectKey)
	case t.Env.ID == "":
		return t, domain.ConfigState{}, domain.Errorf(domain.CodeNotFound, "environment %q not found in project %q", envKey, projectKey)
	case t.Flag.ID == "":
		return t, domain.ConfigState{}, domain.Errorf(domain.CodeNotFound, "flag %q not found in project %q", flagKey, projectKey)
	case t.Config.FlagID == "":
		return t, domain.ConfigState{}, domain.Errorf(domain.CodeNotFound, "flag %q has no configuration in %q", flagKey, envKey)
	}
	f, err := t.Flag.domain()
	if err != nil {
		return t, domain.ConfigState{}, err
	}
	c, err := t.Config.domain()
	if err != nil {
		return t, domain.ConfigState{}, err
	}
	return t, domain.ConfigState{Flag: f, Environment: t.Env.domain(), Config: c}, nil
}

// Config returns a flag's configuration in one environment.
func (s *Store) Config(ctx context.Context, projectKey, flagKey, envKey string) (domain.ConfigState, error) {
	_, st, err := readConfigTarget(s.read(ctx), projectKey, flagKey, envKey)
	return st, translate(err)
}

// UpdateConfig replaces a flag's configuration in one environment with what fn makes
// of the current one. The environment is locked first, so concurrent writers queue, and
// fn decides on the state as locked; the stored version increments by one. action names
// the change in the audit trail.
//
// requires names the flags the new configuration's prerequisites require, if any: fn
// then also gets them, the flags they reach at any depth and the flags that depend on
// this one, each with its configuration in the environment, by key — what prerequisite
// cycles and depth are checked against. A write reads this closure, not the whole
// project, so its cost does not grow with the project; a configuration without
// prerequisites cannot create a cycle or deepen a chain, and needs none of it.
func (s *Store) UpdateConfig(ctx context.Context, o domain.Origin, action, projectKey, flagKey, envKey string, requires []string,
	fn func(cur domain.ConfigState, reach map[string]domain.FlagConfig) (domain.Config, error)) (domain.ConfigState, error) {
	return s.writeConfig(ctx, o, change{action: action}, projectKey, flagKey, envKey, requires, fn)
}

// RevertConfig is UpdateConfig for a revert (domain.ActionConfigRevert): its audit row
// also names the entry whose before-state it restores.
func (s *Store) RevertConfig(ctx context.Context, o domain.Origin, auditID int64, projectKey, flagKey, envKey string, requires []string,
	fn func(cur domain.ConfigState, reach map[string]domain.FlagConfig) (domain.Config, error)) (domain.ConfigState, error) {
	return s.writeConfig(ctx, o, change{action: domain.ActionConfigRevert, reverts: auditID}, projectKey, flagKey, envKey, requires, fn)
}

// fastAttempts bounds the writes at once a configuration write tries (see writeConfig)
// before it takes the environment's lock for the whole transaction.
const fastAttempts = 3

// writeConfig is every configuration write; what (its action, what it reverts) names
// it in the audit trail.
//
// A write that only needs its own flag's state (no prerequisites to check, nothing
// that makes the environment count itself) is made at once (writeConfigAtOnce): one
// read, fn, then one statement that writes the configuration, its audit row, the
// environment's new version and its outbox row, if what fn decided on is still what
// is stored. When it is not (another writer was first), the write reads and decides
// again; after fastAttempts, or for the other writes, it runs writeConfigLocked. fn
// may therefore run more than once; it decides on the state it is given, nothing else.
func (s *Store) writeConfig(ctx context.Context, o domain.Origin, what change, projectKey, flagKey, envKey string, requires []string,
	fn func(cur domain.ConfigState, reach map[string]domain.FlagConfig) (domain.Config, error)) (domain.ConfigState, error) {
	for attempt := 0; attempt < fastAttempts && len(requires) == 0; attempt++ {
		out, ok, err := s.writeConfigAtOnce(ctx, o, what, projectKey, flagKey, envKey, fn)
		if errors.Is(err, errNeedsLock) {
			break
		}
		if ok || err != nil {
			return out, err
		}
	}
	return s.writeConfigLocked(ctx, o, what, projectKey, flagKey, envKey, requires, fn)
}

// writeConfigStatement writes a configuration that replaces version $11, in one
// statement, which is a transaction of its own: the change, its audit row, the
// environment's new version and the invalidation (outbox row) commit together or not
// at all. Each step runs only when the one before it did, so a step that finds the
// state changed since the caller read it (the environment protected or gone, the
// flag's definition changed, the configuration at another version) leaves everything
// as it was, and the statement answers no row.
//
// Locks are taken in the order of every other change (environment, flag, then
// configuration) and held for this statement only: concurrent writes of other flags
// of the environment queue on its row just for that. The locks make the steps read
// the rows as they are now, not as the statement's snapshot had them.
const writeConfigStatement = `
WITH env AS MATERIALIZED (
	SELECT id FROM environments WHERE id = $1 AND protected = $2 FOR NO KEY UPDATE
), flag AS MATERIALIZED (
	SELECT id FROM flags WHERE id = $3 AND updated_at = $4 AND EXISTS (SELECT FROM env) FOR KEY SHARE
), cfg AS (
	UPDATE flag_configs SET enabled = $5, rules = $6, default_serve = $7, off_variant = $8,
		prerequisites = $9, version = version + 1, updated_at = $10
	WHERE flag_id = $3 AND environment_id = $1 AND version = $11 AND EXISTS (SELECT FROM flag)
	RETURNING version
), bumped AS (
	UPDATE environments SET version = version + 1, updated_at = now()
	WHERE id = $1 AND EXISTS (SELECT FROM cfg)
	RETURNING id, version
), queued AS (
	INSERT INTO outbox (environment_id, version) SELECT id, version FROM bumped
), audited AS (
	INSERT INTO audit_log (actor_type, actor_id, actor_name, action, entity_type, entity_id, entity_key, project_key,
		project_id, flag_key, environment_key, before, after, request_id, reverts)
	SELECT $12::text, $13::text, $14::text, $15::text, $16::text, $17::text,
		$18::text, $19::text, $20::uuid, $21::text, $22::text,
		$23::jsonb, $24::jsonb, $25::text, $26::bigint
	FROM bumped
)
SELECT version FROM bumped`

// errNeedsLock says that a configuration write must be made by writeConfigLocked.
var errNeedsLock = errors.New("the write needs the environment's lock")

// writeConfigAtOnce makes a configuration write in one read and one statement (see
// writeConfig). ok is false, with no error, when the state changed after the read;
// the error is errNeedsLock when the write's checks read other flags' configurations.
func (s *Store) writeConfigAtOnce(ctx context.Context, o domain.Origin, what change, projectKey, flagKey, envKey string,
	fn func(cur domain.ConfigState, reach map[string]domain.FlagConfig) (domain.Config, error)) (out domain.ConfigState, ok bool, err error) {
	t, st, err := readConfigTarget(s.read(ctx), projectKey, flagKey, envKey)
	if err != nil {
		return out, false, translate(err)
	}
	next, err := fn(st, nil)
	if err != nil {
		return out, false, err
	}
	cur := st.Config
	nr, was := configRowOf(t.Flag.ID, t.Env.ID, next), configRowOf(t.Flag.ID, t.Env.ID, cur)
	if string(nr.Prerequisites) != string(was.Prerequisites) || nr.storedSize() > fairShare && nr.storedSize() > was.storedSize() ||
		hasPatterns(next) {
		return out, false, errNeedsLock // checked against the environment's other flags: under its lock
	}
	// What the statement stores, as it will read back: the version it replaces plus one,
	// and the time of the change (microseconds, as PostgreSQL keeps it).
	nr.Version, nr.UpdatedAt = cur.Version+1, time.Now().UTC().Truncate(time.Microsecond)
	after, err := nr.domain()
	if err != nil {
		return out, false, err
	}
	a := auditRowOf(o, change{action: what.action, entityType: "config", entityID: t.Flag.ID + "/" + t.Env.ID,
		entityKey: st.Flag.Key + "/" + t.Env.Key, project: t.ProjectKey, projectID: t.ProjectID, flag: st.Flag.Key,
		environment: t.Env.Key, before: cur, after: after, reverts: what.reverts})
	var version int64
	err = s.sql.QueryRowContext(ctx, writeConfigStatement,
		t.Env.ID, t.Env.Protected, t.Flag.ID, t.Flag.UpdatedAt,
		nr.Enabled, []byte(nr.Rules), []byte(nr.DefaultServe), nr.OffVariant, []byte(nr.Prerequisites), nr.UpdatedAt, cur.Version,
		a.ActorType, a.ActorID, a.ActorName, a.Action, a.EntityType, a.EntityID, a.EntityKey, a.ProjectKey, a.ProjectID,
		a.FlagKey, a.EnvironmentKey, []byte(a.Before), []byte(a.After), a.RequestID, a.Reverts).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return out, false, nil // another change came first: read and decide again
	case retryable(err):
		return out, false, nil
	case err != nil:
		return out, false, translate(err)
	}
	if s.afterCommit != nil {
		s.afterCommit()
	}
	env := t.Env.domain()
	env.Version = version
	return domain.ConfigState{Flag: st.Flag, Environment: env, Config: after}, true, nil
}

// writeConfigLocked is writeConfig in a transaction that locks the environment first,
// so that no other write of the environment commits while it reads and decides: for
// the writes whose checks read other flags' configurations there (prerequisites, the
// environment's size and patterns).
func (s *Store) writeConfigLocked(ctx context.Context, o domain.Origin, what change, projectKey, flagKey, envKey string, requires []string,
	fn func(cur domain.ConfigState, reach map[string]domain.FlagConfig) (domain.Config, error)) (domain.ConfigState, error) {
	var out domain.ConfigState
	err := s.inTx(ctx, func(tx *txn) error {
		p, e, err := projectEnvironment(tx.DB, projectKey, envKey, true)
		if err != nil {
			return err
		}
		fr, f, err := flagByKey(tx.DB, p.ID, projectKey, flagKey, false)
		if err != nil {
			return err
		}
		var cr configRow
		if err := tx.Raw(`SELECT * FROM flag_configs WHERE flag_id = ? AND environment_id = ? FOR UPDATE`, fr.ID, e.ID).
			Scan(&cr).Error; err != nil {
			return err
		}
		if cr.FlagID == "" {
			return domain.Errorf(domain.CodeNotFound, "flag %q has no configuration in %q", flagKey, envKey)
		}
		cur, err := cr.domain()
		if err != nil {
			return err
		}
		var reach map[string]domain.FlagConfig
		if len(requires) > 0 {
			if reach, err = prerequisiteClosure(tx.DB, p.ID, e.ID, f.Key, requires); err != nil {
				return err
			}
		}
		next, err := fn(domain.ConfigState{Flag: f, Environment: e.domain(), Config: cur}, reach)
		if err != nil {
			return err
		}
		versions, err := tx.invalidate([]string{e.ID})
		if err != nil {
			return err
		}
		e.Version = versions[e.ID]
		next.Version = cur.Version + 1
		nr := configRowOf(fr.ID, e.ID, next)
		if err := tx.Raw(`UPDATE flag_configs SET enabled = ?, rules = ?, default_serve = ?, off_variant = ?, prerequisites = ?,
			version = ?, updated_at = now() WHERE flag_id = ? AND environment_id = ? RETURNING *`,
			nr.Enabled, nr.Rules, nr.DefaultServe, nr.OffVariant, nr.Prerequisites, nr.Version, fr.ID, e.ID).Scan(&cr).Error; err != nil {
			return err
		}
		// Counting the environment costs a scan of it, so only a configuration that
		// grows past its fair share of the limit is counted (sizes as Go encodes them:
		// the stored text has PostgreSQL's spacing). See fairShare.
		if nr.storedSize() > fairShare && nr.storedSize() > configRowOf(fr.ID, e.ID, cur).storedSize() {
			if err := checkSnapshotSize(tx.DB, []string{e.ID}); err != nil {
				return err
			}
		}
		if hasPatterns(next) {
			if err := checkPatterns(tx.DB, e.ID, e.Key); err != nil {
				return err
			}
		}
		after, err := cr.domain()
		if err != nil {
			return err
		}
		out = domain.ConfigState{Flag: f, Environment: e.domain(), Config: after}
		return tx.audit(o, change{action: what.action, entityType: "config", entityID: fr.ID + "/" + e.ID,
			entityKey: f.Key + "/" + e.Key, project: p.Key, projectID: p.ID, flag: f.Key, environment: e.Key, before: cur, after: after,
			reverts: what.reverts})
	})
	return out, err
}
