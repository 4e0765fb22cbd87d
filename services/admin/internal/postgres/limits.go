package postgres

import (
	"fmt"

	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
)

// snapshotOverhead is what each flag adds to an encoded snapshot besides its stored
// JSON (field names, key, salt, version): a generous constant, so the estimate below
// errs on the large side.
const snapshotOverhead = 256

// fairShare is each flag's share of an environment's snapshot limit, for its definition
// and for its configuration: MaxSnapshotBytes / MaxFlagsPerProject, about 3.3 KiB.
// Counting an environment costs a scan of it, so a write is counted only when what it
// writes is over its share and growing. Writes within their share are not counted:
// the shares of every flag together make the limit, so they can take an environment
// past it only where larger ones (each counted when written) filled it first, and by
// no more than the limit again. The guarantee is therefore 2 × MaxSnapshotBytes at
// worst, 32 MiB in the usual case, and writes of ordinary size never pay for a scan.
const fairShare = domain.MaxSnapshotBytes/domain.MaxFlagsPerProject - snapshotOverhead

// checkSnapshotSize refuses a change that leaves any of the environments with a
// snapshot over domain.MaxSnapshotBytes, estimated from the stored JSON of every live
// flag's definition and configuration there. It runs inside the change's transaction,
// after the change, so the change itself is counted.
func checkSnapshotSize(tx *gorm.DB, envIDs []string) error {
	if len(envIDs) == 0 {
		return nil
	}
	var sizes []struct {
		Key      string
		Bytes    int64
		Variants int64
	}
	if err := tx.Raw(`SELECT e.key, coalesce(sum(octet_length(c.rules::text) + octet_length(c.default_serve::text)
			+ octet_length(c.prerequisites::text) + octet_length(f.variants::text) + octet_length(f.tags::text) + ?), 0) AS bytes,
			coalesce(sum(octet_length(f.variants::text)), 0) AS variants
		FROM environments e JOIN flag_configs c ON c.environment_id = e.id JOIN flags f ON f.id = c.flag_id AND NOT f.archived
		WHERE e.id IN ? GROUP BY e.key`, snapshotOverhead, envIDs).Scan(&sizes).Error; err != nil {
		return fmt.Errorf("snapshot size: %w", err)
	}
	for _, s := range sizes {
		// Variant values are counted apart: decoded, JSON takes many times its size.
		if s.Variants > domain.MaxSnapshotVariantBytes {
			return &domain.Error{Code: domain.CodeLimit,
				Message: fmt.Sprintf("limit reached: the variants of environment %s would take %d KiB, over the %d KiB an environment may hold; make variant values smaller or archive flags",
					s.Key, s.Variants>>10, domain.MaxSnapshotVariantBytes>>10),
				Fields: []domain.FieldError{{Field: "variants", Message: fmt.Sprintf("the environment's variant values would take %d bytes, over %d", s.Variants, domain.MaxSnapshotVariantBytes)}},
				Extra:  map[string]any{"limit": domain.MaxSnapshotVariantBytes, "environment": s.Key}}
		}
		if s.Bytes > domain.MaxSnapshotBytes {
			return &domain.Error{Code: domain.CodeLimit,
				Message: fmt.Sprintf("limit reached: the snapshot of environment %s would be %d MiB, over the %d MiB an environment may hold; make configurations smaller or archive flags",
					s.Key, (s.Bytes+(1<<20)-1)>>20, domain.MaxSnapshotBytes>>20),
				Fields: []domain.FieldError{{Field: "", Message: fmt.Sprintf("the environment's flags would take %d bytes, over %d", s.Bytes, domain.MaxSnapshotBytes)}},
				Extra:  map[string]any{"limit": domain.MaxSnapshotBytes, "environment": s.Key}}
		}
	}
	return nil
}

// storedSize is the size a configuration row adds to its environment's snapshot.
func (r configRow) storedSize() int { return len(r.Rules) + len(r.DefaultServe) + len(r.Prerequisites) }

// hasPatterns reports whether a configuration has a matches condition.
func hasPatterns(c domain.Config) bool {
	for _, r := range c.Rules {
		for _, cond := range r.Conditions {
			if cond.Operator == domain.OpMatches {
				return true
			}
		}
	}
	return false
}

// checkPatterns refuses a change that leaves an environment's distinct matches
// patterns over domain.MaxSnapshotRegexBytes or domain.MaxSnapshotRegexInstructions
// together, counted as the engine counts them.
func checkPatterns(tx *gorm.DB, envID, envKey string) error {
	var patterns []string
	if err := tx.Raw(`SELECT DISTINCT cond->'values'->>0 FROM flag_configs c JOIN flags f ON f.id = c.flag_id AND NOT f.archived
		CROSS JOIN LATERAL jsonb_array_elements(c.rules) r CROSS JOIN LATERAL jsonb_array_elements(r->'conditions') cond
		WHERE c.environment_id = ? AND cond->>'operator' = 'matches'`, envID).Scan(&patterns).Error; err != nil {
		return fmt.Errorf("patterns: %w", err)
	}
	var t domain.RegexTally
	for _, p := range patterns {
		t.Measure(p)
		if t.Over() {
			return &domain.Error{Code: domain.CodeLimit,
				Message: fmt.Sprintf("limit reached: the matches patterns of environment %s would take more than %d KiB or %d RE2 instructions together; use fewer or simpler patterns",
					envKey, domain.MaxSnapshotRegexBytes>>10, domain.MaxSnapshotRegexInstructions),
				Fields: []domain.FieldError{{Field: "rules", Message: "the environment's distinct matches patterns are over their limits together"}},
				Extra:  map[string]any{"limit": domain.MaxSnapshotRegexInstructions, "environment": envKey}}
		}
	}
	return nil
}
