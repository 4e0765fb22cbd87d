package postgres

import (
	"gorm.io/gorm"
)

// listPage reads one page of q in keyset order: rows sorted by the expression by
// (descending with desc), those after the position after (nil: from the first), one
// more than limit to tell whether another page follows. It returns the page's rows, and
// the key of the last of them when more follow.
func listPage[R any](q *gorm.DB, by string, desc bool, after any, limit int, key func(R) string) ([]R, string, error) {
	limit = max(limit, 1)
	dir, past := "", ">"
	if desc {
		dir, past = " DESC", "<"
	}
	q = q.Order(by + dir).Limit(limit + 1)
	if after != nil {
		q = q.Where(by+" "+past+" ?", after)
	}
	var rows []R
	if err := q.Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	if len(rows) <= limit {
		return rows, "", nil
	}
	rows = rows[:limit]
	return rows, key(rows[len(rows)-1]), nil
}

// afterKey is the position of a keyset page that starts after a key.
func afterKey(after string) any {
	if after == "" {
		return nil
	}
	return after
}

// mapRows maps rows to their domain type.
func mapRows[R, T any](rows []R, to func(R) T) []T {
	out := make([]T, len(rows))
	for i, r := range rows {
		out[i] = to(r)
	}
	return out
}
