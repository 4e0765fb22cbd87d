package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

type outboxRow struct {
	ID            int64 `gorm:"primaryKey;->"`
	EnvironmentID string
	Version       int64
	CreatedAt     time.Time `gorm:"->"`
	Attempts      int
	NextAttemptAt time.Time `gorm:"->"`
	LastError     string
}

func (outboxRow) TableName() string { return "outbox" }

// Outbox retry backoff: doubling from the first delay up to the cap. The cap is short
// on purpose: a failure stops its round after one Redis call, so retrying costs little,
// while a long cap would delay every invalidation that long after Redis recovers.
const (
	retryFirst = 100 * time.Millisecond
	retryCap   = time.Second
)

// DeliverOutbox takes up to limit due invalidations, newest version per environment
// first delivered by deliver, deletes the delivered ones and schedules the rest for a
// retry with exponential backoff. Replicas delivering at once skip each other's rows.
func (s *Store) DeliverOutbox(ctx context.Context, limit int, deliver func(context.Context, domain.Invalidation) error) (domain.DeliveryReport, error) {
	var rep domain.DeliveryReport
	err := s.inTx(ctx, func(tx *txn) error {
		rep = domain.DeliveryReport{}
		var rows []outboxRow
		if err := tx.Raw(`SELECT * FROM outbox WHERE next_attempt_at <= now() ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`, limit).
			Scan(&rows).Error; err != nil {
			return err
		}
		// Delivering version N of an environment makes its older invalidations redundant.
		type group struct {
			latest int64
			ids    []int64
			tries  int
		}
		groups := map[string]*group{}
		var order []string
		for _, r := range rows {
			g, ok := groups[r.EnvironmentID]
			if !ok {
				g = &group{}
				groups[r.EnvironmentID] = g
				order = append(order, r.EnvironmentID)
			}
			g.latest = max(g.latest, r.Version)
			g.ids = append(g.ids, r.ID)
			g.tries = max(g.tries, r.Attempts)
		}
		var failure error
		for _, env := range order {
			g := groups[env]
			if failure == nil {
				failure = deliver(ctx, domain.Invalidation{EnvironmentID: env, Version: g.latest})
				if failure == nil {
					if err := tx.Exec(`DELETE FROM outbox WHERE id IN ?`, g.ids).Error; err != nil {
						return err
					}
					rep.Delivered++
					rep.Coalesced += len(g.ids) - 1
					continue
				}
			}
			// Once one delivery fails Redis is most likely down: back the rest off too.
			delay := retryFirst << min(g.tries, 16)
			delay = min(delay, retryCap)
			if err := tx.Exec(`UPDATE outbox SET attempts = attempts + 1, last_error = ?,
				next_attempt_at = now() + make_interval(secs => ?) WHERE id IN ?`,
				truncate(failure.Error(), 500), delay.Seconds(), g.ids).Error; err != nil {
				return err
			}
			rep.Failed += len(g.ids)
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("deliver outbox: %w", err)
	}
	return rep, nil
}

// OutboxDepth returns the number of invalidations not yet delivered.
func (s *Store) OutboxDepth(ctx context.Context) (int64, error) {
	var n int64
	if err := s.read(ctx).Model(&outboxRow{}).Count(&n).Error; err != nil {
		return 0, translate(err)
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
