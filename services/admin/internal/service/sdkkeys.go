package service

import (
	"context"
	"strings"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/secret"
)

// SDKKeyStore is what SDK key management needs from storage. It keeps a key's digest
// and display prefix, never its secret, which the service makes.
type SDKKeyStore interface {
	CreateSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey string, k domain.SDKKey, digest []byte) (domain.SDKKey, error)
	SDKKeys(ctx context.Context, projectKey, envKey string) ([]domain.SDKKey, error)
	RotateSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey, id string, grace time.Duration,
		prefix string, digest []byte) (fresh, old domain.SDKKey, err error)
	RevokeSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey, id string) error
}

// Limits of SDK key options.
const (
	DefaultGracePeriod = 24 * time.Hour
	MaxGracePeriod     = 30 * 24 * time.Hour
)

// SDKKeyInput creates a key; ExpiresAt is optional, and Kind is domain.SDKKeyServer
// (the default, when empty) or domain.SDKKeyClient.
type SDKKeyInput struct {
	Name      string     `json:"name"`
	Kind      string     `json:"kind"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// CreateSDKKey creates a key for an environment; the answer is the only time its
// secret is shown (package secret makes it; the store keeps its digest).
func (s *Service) CreateSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey string, in SDKKeyInput) (domain.SDKKey, error) {
	if err := o.Need(projectKey, envKey, domain.RoleAdmin); err != nil {
		return domain.SDKKey{}, err
	}
	var fields []domain.FieldError
	if len(in.Name) > 200 {
		fields = append(fields, domain.FieldError{Field: "name", Message: "must be at most 200 characters"})
	}
	if in.Kind == "" {
		in.Kind = domain.SDKKeyServer
	}
	if in.Kind != domain.SDKKeyServer && in.Kind != domain.SDKKeyClient {
		fields = append(fields, domain.FieldError{Field: "kind", Message: "must be server or client"})
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(time.Now()) {
		fields = append(fields, domain.FieldError{Field: "expires_at", Message: "must be in the future"})
	}
	if len(fields) > 0 {
		return domain.SDKKey{}, domain.Invalid("SDK key", fields...)
	}
	key, prefix, digest := secret.SDKKey.New()
	k, err := s.keys.CreateSDKKey(ctx, o, projectKey, envKey,
		domain.SDKKey{Name: strings.TrimSpace(in.Name), Kind: in.Kind, Prefix: prefix, ExpiresAt: in.ExpiresAt}, digest)
	if err != nil {
		return domain.SDKKey{}, err
	}
	k.Key = key
	return k, nil
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

// RotateSDKKey replaces a key with one of the same kind: the new one works at once, the
// old one until the grace period ends.
func (s *Service) RotateSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey, id string, in RotateInput) (domain.SDKKey, domain.SDKKey, error) {
	if err := o.Need(projectKey, envKey, domain.RoleAdmin); err != nil {
		return domain.SDKKey{}, domain.SDKKey{}, err
	}
	grace := DefaultGracePeriod
	if in.GracePeriod != "" {
		d, err := time.ParseDuration(in.GracePeriod)
		if err != nil || d < 0 || d > MaxGracePeriod {
			return domain.SDKKey{}, domain.SDKKey{}, domain.InvalidField("rotation", "grace_period",
				"must be a duration from 0s to 720h, such as 24h")
		}
		grace = d
	}
	key, prefix, digest := secret.SDKKey.New()
	fresh, old, err := s.keys.RotateSDKKey(ctx, o, projectKey, envKey, id, grace, prefix, digest)
	if err != nil {
		return domain.SDKKey{}, domain.SDKKey{}, err
	}
	fresh.Key = key
	return fresh, old, nil
}

// RevokeSDKKey revokes a key at once.
func (s *Service) RevokeSDKKey(ctx context.Context, o domain.Origin, projectKey, envKey, id string) error {
	if err := o.Need(projectKey, envKey, domain.RoleAdmin); err != nil {
		return err
	}
	return s.keys.RevokeSDKKey(ctx, o, projectKey, envKey, id)
}
