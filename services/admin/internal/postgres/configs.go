package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

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

// Config returns a flag's configuration in one environment.
func (s *Store) Config(ctx context.Context, projectKey, flagKey, envKey string) (domain.ConfigState, error) {
	var out domain.ConfigState
	db := s.read(ctx)
	p, e, err := projectEnvironment(db, projectKey, envKey, false)
	if err != nil {
		return out, translate(err)
	}
	fr, f, err := flagByKey(db, p.ID, projectKey, flagKey, false)
	if err != nil {
		return out, translate(err)
	}
	var cr configRow
	if err := db.Where("flag_id = ? AND environment_id = ?", fr.ID, e.ID).Take(&cr).Error; err != nil {
		return out, translate(err)
	}
	c, err := cr.domain()
	if err != nil {
		return out, err
	}
	return domain.ConfigState{Flag: f, Environment: e.domain(), Config: c}, nil
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

// writeConfig is every configuration write; what (its action, what it reverts) names
// it in the audit trail.
func (s *Store) writeConfig(ctx context.Context, o domain.Origin, what change, projectKey, flagKey, envKey string, requires []string,
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
