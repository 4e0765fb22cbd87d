package httpapi

import (
	"encoding/base64"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
)

// PageOf reads the limit and cursor query parameters.
func PageOf(c echo.Context) (domain.Page, error) {
	q := NewQuery(c)
	p := q.Page()
	return p, q.Err()
}

// EncodeCursor and DecodeCursor make opaque page cursors from a position.
func EncodeCursor(position string) string {
	if position == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(position))
}

// DecodeCursor reverses EncodeCursor; a cursor that was not made by it is invalid.
// Positions are keys and ids, so one that is not text (AA decodes to a NUL) was not
// made by it either, and must not reach a query.
func DecodeCursor(cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) == 0 || textProblem(string(b)) != "" {
		return "", domain.InvalidField("query", "cursor", "is not a cursor this API returned")
	}
	return string(b), nil
}

// List is the shape of every paged list.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}
