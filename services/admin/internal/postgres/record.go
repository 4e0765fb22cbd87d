package postgres

import (
	"fmt"
	"slices"

	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
)

// change is one mutation as the audit trail records it.
type change struct {
	action      string
	entityType  string // project, environment, flag or config
	entityID    string
	entityKey   string
	project     string // keys, for filtering the trail
	projectID   string // and the project's id, which is never reused
	flag        string
	environment string
	before      any // nil is recorded as JSON null
	after       any
}

// touch locks the environments a change affects, increments their versions and
// enqueues their invalidations. Changes touch first and read after: the locks, taken
// in id order so that concurrent changes cannot deadlock, serialize writers of an
// environment, so what a change validates against cannot change under it.
func touch(tx *gorm.DB, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	var locked []string
	if err := tx.Raw(`SELECT id FROM environments WHERE id IN ? ORDER BY id FOR UPDATE`, sorted).Scan(&locked).Error; err != nil {
		return fmt.Errorf("lock environments: %w", err)
	}
	var bumped []struct {
		ID      string
		Version int64
	}
	if err := tx.Raw(`UPDATE environments SET version = version + 1, updated_at = now()
		WHERE id IN ? RETURNING id, version`, sorted).Scan(&bumped).Error; err != nil {
		return fmt.Errorf("bump environment versions: %w", err)
	}
	for _, b := range bumped {
		if err := tx.Create(&outboxRow{EnvironmentID: b.ID, Version: b.Version}).Error; err != nil {
			return fmt.Errorf("enqueue invalidation: %w", err)
		}
	}
	return nil
}

// gone enqueues the invalidations of environments a change deletes, so evaluators drop
// them too.
func gone(tx *gorm.DB, envs []environmentRow) error {
	for _, e := range envs {
		if err := tx.Create(&outboxRow{EnvironmentID: e.ID, Version: e.Version + 1}).Error; err != nil {
			return fmt.Errorf("enqueue invalidation: %w", err)
		}
	}
	return nil
}

// audit appends the audit row of a change, in the transaction of the change.
func audit(tx *gorm.DB, o domain.Origin, c change) error {
	row := auditRow{
		ActorType: string(o.Actor.Type), ActorID: o.Actor.ID, ActorName: o.Actor.Name,
		Action: c.action, EntityType: c.entityType, EntityID: c.entityID, EntityKey: c.entityKey,
		ProjectKey: c.project, FlagKey: c.flag, EnvironmentKey: c.environment,
		Before: nullable(c.before), After: nullable(c.after), RequestID: o.RequestID,
	}
	if c.projectID != "" {
		row.ProjectID = &c.projectID
	}
	if err := tx.Omit("ID", "At").Create(&row).Error; err != nil {
		return fmt.Errorf("append audit row: %w", err)
	}
	return nil
}

func nullable(v any) []byte {
	if v == nil {
		return nil
	}
	return mustJSON(v)
}
