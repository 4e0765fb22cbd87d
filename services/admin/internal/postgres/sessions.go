package postgres

import (
	"context"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// RevokeSession records that a login session ends now, before its expiry. Revocations
// of sessions that have expired since are deleted on the way: an expired session is
// refused anyway, so the table holds at most the sessions signed out within one
// session lifetime.
func (s *Store) RevokeSession(ctx context.Context, id, userID string, expires time.Time) error {
	if !validUUID(userID) {
		return domain.Errorf(domain.CodeNotFound, "user %q not found", userID)
	}
	return s.inTx(ctx, func(tx *txn) error {
		if err := tx.Exec(`DELETE FROM revoked_sessions WHERE expires_at < now()`).Error; err != nil {
			return err
		}
		return tx.Exec(`INSERT INTO revoked_sessions (id, user_id, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, id, userID, expires).Error
	})
}

// SessionRevoked reports whether a login session was ended before its expiry.
func (s *Store) SessionRevoked(ctx context.Context, id string) (bool, error) {
	var n int64
	if err := s.read(ctx).Raw(`SELECT count(*) FROM revoked_sessions WHERE id = ?`, id).Scan(&n).Error; err != nil {
		return false, translate(err)
	}
	return n > 0, nil
}
