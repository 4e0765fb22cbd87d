package service

import (
	"context"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// SDKKeyStore is what SDK key management needs from storage.
type SDKKeyStore interface {
	CreateSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey, name string, expires *time.Time) (domain.SDKKey, error)
	SDKKeys(ctx context.Context, projectKey, envKey string) ([]domain.SDKKey, error)
	RotateSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey, id string, grace time.Duration) (domain.SDKKey, domain.SDKKey, error)
	RevokeSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey, id string) error
}

// Limits of SDK key options.
const (
	DefaultGracePeriod = 24 * time.Hour
	MaxGracePeriod     = 30 * 24 * time.Hour
)

// SDKKeyInput creates a key; ExpiresAt is optional.
type SDKKeyInput struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// CreateSDKKey creates a key for an environment; the answer is the only time its
// secret is shown.
func (s *Service) CreateSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey string, in SDKKeyInput) (domain.SDKKey, error) {
	if err := o.Need(projectKey, envKey, domain.RoleAdmin); err != nil {
		return domain.SDKKey{}, err
	}
	var fields []domain.FieldError
	if len(in.Name) > 200 {
		fields = append(fields, domain.FieldError{Field: "name", Message: "must be at most 200 characters"})
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(time.Now()) {
		fields = append(fields, domain.FieldError{Field: "expires_at", Message: "must be in the future"})
	}
	if len(fields) > 0 {
		return domain.SDKKey{}, invalid("SDK key", fields...)
	}
	k, err := s.keys.CreateSDKKey(ctx, o, projectKey, envKey, strings.TrimSpace(in.Name), in.ExpiresAt)
	return k, s.committed(err)
}

// SDKKeys lists an environment's keys without their secrets.
func (s *Service) SDKKeys(ctx context.Context, o domain.Origin, projectKey, envKey string) ([]domain.SDKKey, error) {
	if err := o.Need(projectKey, envKey, domain.RoleAdmin); err != nil {
		return nil, err
	}
	return s.keys.SDKKeys(ctx, projectKey, envKey)
}

// RotateInput sets how long the old key keeps working; DefaultGracePeriod by default.
type RotateInput struct {
	GracePeriod string `json:"grace_period"`
}

// RotateSDKKey replaces a key: the new one works at once, the old one until the grace
// period ends.
func (s *Service) RotateSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey, id string, in RotateInput) (domain.SDKKey, domain.SDKKey, error) {
	if err := o.Need(projectKey, envKey, domain.RoleAdmin); err != nil {
		return domain.SDKKey{}, domain.SDKKey{}, err
	}
	grace := DefaultGracePeriod
	if in.GracePeriod != "" {
		d, err := time.ParseDuration(in.GracePeriod)
		if err != nil || d < 0 || d > MaxGracePeriod {
			return domain.SDKKey{}, domain.SDKKey{}, invalid("rotation", domain.FieldError{Field: "grace_period",
				Message: "must be a duration from 0s to 720h, such as 24h"})
		}
		grace = d
	}
	fresh, old, err := s.keys.RotateSDKKey(ctx, o, projectKey, envKey, id, grace)
	return fresh, old, s.committed(err)
}

// RevokeSDKKey revokes a key at once.
func (s *Service) RevokeSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey, id string) error {
	if err := o.Need(projectKey, envKey, domain.RoleAdmin); err != nil {
		return err
	}
	return s.committed(s.keys.RevokeSDKKey(ctx, o, projectKey, envKey, id))
}
