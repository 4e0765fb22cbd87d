package service

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"

	"github.com/switchyard/switchyard/pkg/domain"
)

// RevertStore is what reverting a configuration needs from storage: the entry to
// revert, and the configuration write that records what it reverts.
type RevertStore interface {
	AuditEntry(ctx context.Context, projectKey string, id int64) (domain.AuditEntry, error)
	RevertConfig(ctx context.Context, o domain.Origin, auditID int64, projectKey, flagKey, envKey string, requires []string,
		fn func(cur domain.ConfigState, reach map[string]domain.FlagConfig) (domain.Config, error)) (domain.ConfigState, error)
}

// AuditID names an audit entry. JSON gives it as a number or as a string of digits.
type AuditID int64

// UnmarshalJSON accepts 42 and "42".
func (a *AuditID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		s = string(b)
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		// An UnmarshalTypeError gets the field's name from the decoder.
		return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeFor[int64]()}
	}
	*a = AuditID(id)
	return nil
}

// RevertInput restores a flag's configuration in one environment as it was before the
// change AuditID recorded. Version is the version being replaced (or send it as
// If-Match), as for a configuration write.
type RevertInput struct {
	AuditID AuditID `json:"audit_id"`
	Version *int64  `json:"version"`
}

// RevertConfig restores a flag's configuration in one environment as it was before a
// configuration change (an update, a toggle or a revert) of that flag in that
// environment, which audit entry in.AuditID recorded. It is a configuration write like
// ReplaceConfig, on the same path: the same roles (developer there, admin where the
// environment is protected), the same version check (409 naming the current version),
// the configuration validated against the flag as it is now, the environment
// invalidated. Its audit row has action config.revert and names the entry it reverts.
//
// An entry that is not a configuration change of this flag in this environment (of
// this very flag: not of a deleted flag that had its key) is 422 naming audit_id; a
// restored configuration that no longer fits the flag (a variant removed since, a
// prerequisite on a flag deleted since) is 422 naming the field at fault.
func (s *Service) RevertConfig(ctx context.Context, o domain.Origin, projectKey, flagKey, envKey string, in RevertInput, ifMatch string) (domain.ConfigState, error) {
	if err := o.Need(projectKey, envKey, domain.RoleDeveloper); err != nil {
		return domain.ConfigState{}, err
	}
	expected, check, err := expectedVersion(in.Version, ifMatch)
	if err != nil {
		return domain.ConfigState{}, err
	}
	if in.AuditID == 0 {
		return domain.ConfigState{}, domain.InvalidField("request body", "audit_id", "is required: the id of the audit entry whose before-state to restore")
	}
	id := int64(in.AuditID)
	entry, err := s.reverts.AuditEntry(ctx, projectKey, id)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		// The project exists (AuditEntry found it): the entry does not, in it.
		err = notRevertible(id, "is not an entry of this project's audit trail")
	}
	if err != nil {
		return domain.ConfigState{}, err
	}
	// What the entry is, and what it restores, is checked in the write, once the store
	// has found the flag and the environment (404s first) and the caller's role there.
	var refusal error
	var before domain.Config
	switch {
	case !slices.Contains(domain.ConfigActions, entry.Action) || entry.EntityType != "config" ||
		entry.FlagKey != flagKey || entry.EnvironmentKey != envKey:
		refusal = notRevertible(id, fmt.Sprintf("records %s of %s %q, not a configuration change of flag %q in %q",
			entry.Action, entry.EntityType, entry.EntityKey, flagKey, envKey))
	case string(entry.Before) == "null" || json.Unmarshal(entry.Before, &before) != nil:
		refusal = notRevertible(id, "holds no configuration to restore")
	}
	cfg, requires := replacement(domain.Config{Enabled: before.Enabled, Rules: before.Rules, Default: before.Default,
		OffVariant: before.OffVariant, Prerequisites: before.Prerequisites})
	if refusal != nil {
		requires = nil
	}
	return s.reverts.RevertConfig(ctx, o, id, projectKey, flagKey, envKey, requires, replaceWith(o, projectKey, cfg, expected, check,
		func(cur domain.ConfigState) error {
			switch {
			case refusal != nil:
				return refusal
			case entry.EntityID != cur.Flag.ID+"/"+cur.Environment.ID:
				// The flag and environment by id: a key deleted and created again is
				// another flag, whose history this entry is not.
				return notRevertible(id, "is a change of an earlier flag or environment that had this key")
			}
			return nil
		},
		func(err error) error {
			if domain.ErrorCode(err) != domain.CodeInvalid {
				return err
			}
			return domain.Unprocessable(fmt.Sprintf("the configuration before audit entry %d no longer fits the flag", id),
				domain.ErrorFields(err)...)
		}))
}

func notRevertible(id int64, why string) error {
	return domain.Unprocessable(fmt.Sprintf("audit entry %d cannot be reverted here", id),
		domain.FieldError{Field: "audit_id", Message: why})
}
