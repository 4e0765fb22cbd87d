package postgres

import (
	"cmp"
	"fmt"
	"slices"

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
	reverts     int64 // the audit entry a revert restores, or 0
}

// lockEnvironments locks the environments a change affects (those of the condition)
// and returns them as locked, by key. Changes lock first and read after: the locks,
// taken in id order so that concurrent changes cannot deadlock, serialize writers of an
// environment, so what a change validates against cannot change under it.
func (tx *txn) lockEnvironments(where string, args ...any) ([]environmentRow, error) {
	var envs []environmentRow
	if err := tx.Raw(`SELECT * FROM environments WHERE `+where+` ORDER BY id FOR UPDATE`, args...).Scan(&envs).Error; err != nil {
		return nil, fmt.Errorf("lock environments: %w", err)
	}
	slices.SortFunc(envs, func(a, b environmentRow) int { return cmp.Compare(a.Key, b.Key) })
	return envs, nil
}

// guarded runs a change's guard, when it has one, on the environments it locked.
func guarded(guard domain.Guard, envs []domain.Environment) error {
	if guard == nil {
		return nil
	}
	return guard(envs)
}

// invalidate increments the versions of environments the change has locked and
// enqueues their invalidations; it returns the new versions by environment id.
func (tx *txn) invalidate(ids []string) (map[string]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var bumped []struct {
		ID      string
		Version int64
	}
	if err := tx.Raw(`UPDATE environments SET version = version + 1, updated_at = now()
		WHERE id IN ? RETURNING id, version`, ids).Scan(&bumped).Error; err != nil {
		return nil, fmt.Errorf("bump environment versions: %w", err)
	}
	versions := make(map[string]int64, len(bumped))
	for _, b := range bumped {
		if err := tx.Create(&outboxRow{EnvironmentID: b.ID, Version: b.Version}).Error; err != nil {
			return nil, fmt.Errorf("enqueue invalidation: %w", err)
		}
		versions[b.ID] = b.Version
	}
	tx.invalidates = true
	return versions, nil
}

// touch locks environments and invalidates them at once, before the change reads
// anything: for changes that invalidate whatever they find.
func (tx *txn) touch(ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := tx.lockEnvironments(`id IN ?`, ids); err != nil {
		return err
	}
	_, err := tx.invalidate(ids)
	return err
}

// dropped enqueues the invalidations of environments a change deletes, so evaluators
// drop them too.
func (tx *txn) dropped(envs []environmentRow) error {
	for _, e := range envs {
		if err := tx.Create(&outboxRow{EnvironmentID: e.ID, Version: e.Version + 1}).Error; err != nil {
			return fmt.Errorf("enqueue invalidation: %w", err)
		}
		tx.invalidates = true
	}
	return nil
}

// auditRowOf is the audit row of a change o made.
func auditRowOf(o domain.Origin, c change) auditRow {
	row := auditRow{
		ActorType: string(o.Actor.Type), ActorID: o.Actor.ID, ActorName: o.Actor.Name,
		Action: c.action, EntityType: c.entityType, EntityID: c.entityID, EntityKey: c.entityKey,
		ProjectKey: c.project, FlagKey: c.flag, EnvironmentKey: c.environment,
		Before: nullable(c.before), After: nullable(c.after), RequestID: o.RequestID,
	}
	if c.projectID != "" {
		row.ProjectID = &c.projectID
	}
	if c.reverts != 0 {
		row.Reverts = &c.reverts
	}
	return row
}

// audit appends the audit row of a change, in the transaction of the change.
func (tx *txn) audit(o domain.Origin, c change) error {
	row := auditRowOf(o, c)
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
