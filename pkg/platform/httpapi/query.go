package httpapi

import (
	"fmt"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
)

// Query collects the problems of a request's query parameters, to report them all at
// once.
type Query struct {
	c      echo.Context
	Fields []domain.FieldError
}

// NewQuery reads the query parameters of c.
func NewQuery(c echo.Context) *Query { return &Query{c: c} }

// Page reads limit and cursor. The cursor is checked here, so that one not made by
// EncodeCursor never reaches a store.
func (q *Query) Page() domain.Page {
	p := domain.Page{Limit: domain.DefaultPageLimit, Cursor: q.c.QueryParam("cursor")}
	if _, err := DecodeCursor(p.Cursor); err != nil {
		q.Fields = append(q.Fields, domain.ErrorFields(err)...)
		p.Cursor = ""
	}
	if s := q.c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > domain.MaxPageLimit {
			q.Fields = append(q.Fields, domain.FieldError{Field: "limit", Message: fmt.Sprintf("must be a whole number from 1 to %d", domain.MaxPageLimit)})
			return p
		}
		p.Limit = n
	}
	return p
}

// Time reads an RFC 3339 time; zero when absent.
func (q *Query) Time(name string) time.Time {
	s := q.c.QueryParam(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		q.Fields = append(q.Fields, domain.FieldError{Field: name, Message: "must be an RFC 3339 time such as 2026-01-31T09:00:00Z"})
	}
	return t
}

// Bool reads true or false; false when absent.
func (q *Query) Bool(name string) bool {
	switch q.c.QueryParam(name) {
	case "", "false":
		return false
	case "true":
		return true
	}
	q.Fields = append(q.Fields, domain.FieldError{Field: name, Message: "must be true or false"})
	return false
}

// Err returns the problems found, or nil.
func (q *Query) Err() error {
	if len(q.Fields) == 0 {
		return nil
	}
	return domain.Invalid("query", q.Fields...)
}
