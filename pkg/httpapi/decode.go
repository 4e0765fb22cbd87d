package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
)

// Decode reads the JSON body of c into v strictly: unknown fields, wrong types,
// trailing data and bodies over the limit are errors that name the field.
func Decode(c echo.Context, v any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return domain.Errorf(domain.CodeTooLarge, "the request body is larger than %d bytes", tooLarge.Limit)
		}
		return domain.Wrap(domain.CodeInvalid, err, "the request body could not be read")
	}
	return DecodeBytes(body, v)
}

// DecodeBytes is Decode for a body already read.
func DecodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return invalid("body", "is required: send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("body", "must hold one JSON value, without trailing data")
	}
	return nil
}

func invalid(field, message string) error {
	return &domain.Error{Code: domain.CodeInvalid, Message: "invalid request body",
		Fields: []domain.FieldError{{Field: field, Message: message}}}
}

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return invalid("body", fmt.Sprintf("malformed JSON at byte %d: %s", syntax.Offset, strings.TrimPrefix(syntax.Error(), "json: ")))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("body", "malformed JSON: unexpected end")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return invalid(field, fmt.Sprintf("must be %s, not %s", jsonType(typ.Type.Kind().String()), typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return invalid(name, "is not a known field")
	}
	return invalid("body", strings.TrimPrefix(err.Error(), "json: "))
}

// jsonType names a Go kind the way a JSON author thinks of it.
func jsonType(kind string) string {
	switch {
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "a boolean"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "slice", kind == "array":
		return "an array"
	case kind == "map", kind == "struct":
		return "an object"
	}
	return "another type"
}

// Query collects the problems of a request's query parameters, to report them all at
// once.
type Query struct {
	c      echo.Context
	Fields []domain.FieldError
}

// NewQuery reads the query parameters of c.
func NewQuery(c echo.Context) *Query { return &Query{c: c} }

// Page reads limit and cursor.
func (q *Query) Page() domain.Page {
	p := domain.Page{Limit: domain.DefaultPageLimit, Cursor: q.c.QueryParam("cursor")}
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
	return &domain.Error{Code: domain.CodeInvalid, Message: "invalid query", Fields: q.Fields}
}

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
func DecodeCursor(cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) == 0 {
		return "", &domain.Error{Code: domain.CodeInvalid, Message: "invalid query",
			Fields: []domain.FieldError{{Field: "cursor", Message: "is not a cursor this API returned"}}}
	}
	return string(b), nil
}

// List is the shape of every paged list.
type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}
