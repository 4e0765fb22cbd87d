package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
)

// PostgreSQL text refuses NUL and invalid UTF-8 (error 22021), which would surface as a
// 500 deep in a handler; both are refused here, at the edge, as a 400 naming the field.

// textProblem describes what is wrong with s as text, or returns "" when it is fine.
func textProblem(s string) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case strings.IndexByte(s, 0) >= 0:
		return "holds a NUL character"
	}
	return ""
}

// RejectBadText answers 400 when the path or a query parameter holds invalid UTF-8 or
// NUL, naming the path parameter (or "path") and the query parameter. It runs after
// routing, so path parameters have their names.
func RejectBadText() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if fields := requestTextProblems(c); len(fields) > 0 {
				return domain.Invalid("request", fields...)
			}
			return next(c)
		}
	}
}

func requestTextProblems(c echo.Context) []domain.FieldError {
	var out []domain.FieldError
	u := c.Request().URL
	if msg := textProblem(u.Path); msg != "" {
		named := false
		values := c.ParamValues()
		for i, name := range c.ParamNames() {
			if i >= len(values) || name == "*" {
				continue
			}
			v := values[i]
			if unescaped, err := url.PathUnescape(v); err == nil {
				v = unescaped
			}
			if m := textProblem(v); m != "" {
				out = append(out, domain.FieldError{Field: name, Message: m})
				named = true
			}
		}
		if !named {
			out = append(out, domain.FieldError{Field: "path", Message: msg})
		}
	}
	if u.RawQuery == "" || plainQuery(u.RawQuery) {
		return out
	}
	q := c.QueryParams()
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if m := textProblem(name); m != "" {
			out = append(out, domain.FieldError{Field: "query", Message: "a parameter name " + m})
			continue
		}
		for _, v := range q[name] {
			if m := textProblem(v); m != "" {
				out = append(out, domain.FieldError{Field: name, Message: m})
				break
			}
		}
	}
	return out
}

// plainQuery reports whether a raw query string holds no bad text without parsing
// it: valid UTF-8 with no NUL, and no escape of a byte outside ASCII or of NUL, so that
// every name and value it decodes to is clean too. Most queries are, and skip the
// parse and its allocations; the others are checked parameter by parameter.
func plainQuery(q string) bool {
	if !utf8.ValidString(q) || strings.IndexByte(q, 0) >= 0 {
		return false
	}
	for i := strings.IndexByte(q, '%'); i >= 0; i = strings.IndexByte(q, '%') {
		if i+2 >= len(q) {
			return false
		}
		hi, lo := unhex(q[i+1]), unhex(q[i+2])
		if hi < 0 || lo < 0 || hi >= 8 || hi == 0 && lo == 0 {
			return false
		}
		q = q[i+3:]
	}
	return true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

var escapedNUL = []byte(`\u0000`)

// jsonTextProblems names every string (member name or value) of a JSON document that
// holds invalid UTF-8 or NUL. encoding/json would silently turn invalid bytes into
// U+FFFD and decode \u0000 into a NUL, so both are caught on the raw body. Most bodies
// pass the two scans of the first line and are never tokenized.
func jsonTextProblems(body []byte) []domain.FieldError {
	if utf8.Valid(body) && !bytes.Contains(body, escapedNUL) {
		return nil
	}
	type frame struct {
		array bool
		index int
		key   string
		isKey bool // an object's next string is a member name
	}
	var stack []*frame
	at := func(leaf string) string {
		path := ""
		for _, f := range stack {
			switch {
			case f.array:
				path = fmt.Sprintf("%s[%d]", path, f.index)
			case !f.isKey: // inside this member's value
				path = joinPath(path, f.key)
			}
		}
		if leaf != "" {
			path = joinPath(path, leaf)
		}
		if path == "" {
			return "body"
		}
		return path
	}
	// done moves the innermost container past the value just read.
	done := func() {
		if len(stack) == 0 {
			return
		}
		if f := stack[len(stack)-1]; f.array {
			f.index++
		} else {
			f.isKey = true
		}
	}
	var out []domain.FieldError
	dec := json.NewDecoder(bytes.NewReader(body))
	var prev int64
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		end := dec.InputOffset()
		raw := body[prev:end] // the token, after the delimiters and spaces before it
		prev = end
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, &frame{isKey: true})
			case '[':
				stack = append(stack, &frame{array: true})
			default:
				stack = stack[:len(stack)-1]
				done()
			}
		case string:
			msg := textProblem(v)
			if !utf8.Valid(raw) {
				msg = "is not valid UTF-8"
			}
			if top := len(stack) - 1; top >= 0 && !stack[top].array && stack[top].isKey {
				if msg != "" {
					out = append(out, domain.FieldError{Field: at(strings.ToValidUTF8(strings.ReplaceAll(v, "\x00", ""), "")), Message: "this member name " + msg})
				}
				stack[top].key, stack[top].isKey = v, false
				continue
			}
			if msg != "" {
				out = append(out, domain.FieldError{Field: at(""), Message: msg})
			}
			done()
		default:
			done()
		}
	}
	return out
}

// CheckJSONText refuses a JSON body holding invalid UTF-8 or \u0000 in any string, with
// a 400 naming each such field. DecodeBytes calls it; handlers that decode leniently
// (OFREP) call it themselves.
func CheckJSONText(body []byte) error {
	if fields := jsonTextProblems(body); len(fields) > 0 {
		return domain.Invalid("request body", fields...)
	}
	return nil
}
