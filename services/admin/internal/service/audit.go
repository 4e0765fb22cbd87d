package service

import (
	"context"

	"github.com/switchyard/switchyard/pkg/domain"
)

// AuditStore is what the audit trail needs from storage.
type AuditStore interface {
	Audit(ctx context.Context, f domain.AuditFilter, page domain.Keyset) ([]domain.AuditEntry, string, error)
}

// Audit lists the audit trail: of one project for its viewers; of every project the
// caller can see otherwise. Rows outside projects (users) are for superusers.
func (s *Service) Audit(ctx context.Context, o domain.Origin, f domain.AuditFilter, page domain.Keyset) ([]domain.AuditEntry, string, error) {
	if f.ProjectKey != "" {
		if err := o.Need(f.ProjectKey, "", domain.RoleViewer); err != nil {
			return nil, "", err
		}
	}
	f.Projects, f.AllProjects = visible(o)
	return s.audit.Audit(ctx, f, keyset(page))
}
