package postgres

import (
	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
)

// pageByKey pages q by its key column: rows after the cursor's key, one more than the
// limit to tell whether another page follows.
func pageByKey(q *gorm.DB, page domain.Page) (*gorm.DB, error) {
	after, err := httpapi.DecodeCursor(page.Cursor)
	if err != nil {
		return nil, err
	}
	q = q.Order("key").Limit(page.Limit + 1)
	if after != "" {
		q = q.Where("key > ?", after)
	}
	return q, nil
}

// trimPage cuts the extra row pageByKey asked for and returns the next page's cursor.
func trimPage[T any](rows []T, limit int, position func(T) string) ([]T, string) {
	if len(rows) <= limit {
		return rows, ""
	}
	rows = rows[:limit]
	return rows, httpapi.EncodeCursor(position(rows[len(rows)-1]))
}
