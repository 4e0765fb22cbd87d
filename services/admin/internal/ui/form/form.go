// Package form parses and checks the dashboard's forms, in one place: each form turns
// the posted values into the service layer's input, or names the fields it cannot
// read with the paths the service uses for its own errors (rules[2].conditions[0].values),
// so both kinds of problem show next to the field they name.
//
// What a form checks is only what the service cannot be asked: that a number is a
// number, a date a date. Every rule about what may be stored is the service's.
package form

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchyard/switchyard/pkg/domain"
)

// Problems collects field errors in the order they are found.
type Problems []domain.FieldError

// Add records a problem with field.
func (p *Problems) Add(field, message string) {
	*p = append(*p, domain.FieldError{Field: field, Message: message})
}

// Err returns the problems as the service's invalid error, or nil when there are none.
func (p Problems) Err(what string) error {
	if len(p) == 0 {
		return nil
	}
	return domain.Invalid(what, p...)
}

// TextProblems names every posted field whose name or value is not text PostgreSQL
// can store (invalid UTF-8, NUL): refused before any of it reaches the service.
func TextProblems(v url.Values) Problems {
	var p Problems
	for name, vals := range v {
		if bad(name) {
			p.Add("form", "a field name is not valid text")
			continue
		}
		for _, s := range vals {
			if bad(s) {
				p.Add(name, "is not valid text (invalid UTF-8 or a NUL character)")
				break
			}
		}
	}
	return p
}

func bad(s string) bool { return !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 }

// checked reports whether a checkbox was ticked.
func checked(v url.Values, name string) bool {
	switch v.Get(name) {
	case "on", "true", "1", "yes":
		return true
	}
	return false
}

// Tags splits a comma- or space-separated list of tags, dropping empty ones.
func Tags(s string) []string {
	out := []string{}
	for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		out = append(out, t)
	}
	return out
}

// TimeLayout is how the dashboard's date-time inputs (datetime-local) post a time; it
// is read as UTC, which the form's label says.
const TimeLayout = "2006-01-02T15:04"

// optionalTime reads an optional UTC time from a datetime-local input.
func optionalTime(v url.Values, name string, p *Problems) *time.Time {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return nil
	}
	t, err := time.Parse(TimeLayout, s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, s); err != nil {
			p.Add(name, "must be a date and time such as 2026-01-31T09:00 (UTC)")
			return nil
		}
	}
	t = t.UTC()
	return &t
}

// role reads a role select; "" (inherit) is allowed where empty is.
func role(v url.Values, name string) domain.Role { return domain.Role(strings.TrimSpace(v.Get(name))) }
