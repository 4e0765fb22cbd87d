package postgres

import (
	"context"
	"strconv"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
)

// Audit lists audit entries matching the filter, newest first.
func (s *Store) Audit(ctx context.Context, f domain.AuditFilter, page domain.Page) ([]domain.AuditEntry, string, error) {
	q := s.db.WithContext(ctx).Model(&auditRow{}).Order("id DESC").Limit(page.Limit + 1)
	if page.Cursor != "" {
		pos, err := httpapi.DecodeCursor(page.Cursor)
		if err != nil {
			return nil, "", err
		}
		before, err := strconv.ParseInt(pos, 10, 64)
		if err != nil {
			return nil, "", &domain.Error{Code: domain.CodeInvalid, Message: "invalid query",
				Fields: []domain.FieldError{{Field: "cursor", Message: "is not a cursor this API returned"}}}
		}
		q = q.Where("id < ?", before)
	}
	// Members see projects by id: a project created under the key of a deleted one
	// must not show the deleted one's history to its members. Superusers, who see
	// every row anyway, find a key's whole history, deleted projects' included.
	switch {
	case !f.AllProjects:
		q = q.Where("project_id IN (SELECT id FROM projects WHERE key IN ?)", append([]string{""}, f.Projects...))
		if f.ProjectKey != "" {
			q = q.Where("project_id = (SELECT id FROM projects WHERE key = ?)", f.ProjectKey)
		}
	case f.ProjectKey != "":
		q = q.Where("project_key = ?", f.ProjectKey)
	}
	if f.FlagKey != "" {
		q = q.Where("flag_key = ?", f.FlagKey)
	}
	if f.EnvironmentKey != "" {
		q = q.Where("environment_key = ?", f.EnvironmentKey)
	}
	if f.Actor != "" {
		q = q.Where("(actor_id = ? OR actor_name = ?)", f.Actor, f.Actor)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if !f.Since.IsZero() {
		q = q.Where("at >= ?", f.Since)
	}
	if !f.Until.IsZero() {
		q = q.Where("at < ?", f.Until)
	}
	var rows []auditRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	rows, next := trimPage(rows, page.Limit, func(r auditRow) string { return strconv.FormatInt(r.ID, 10) })
	out := make([]domain.AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, next, nil
}
