package form

import (
	"encoding/csv"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
)

// A condition's values are edited as text, one value per line. Operators that take
// lists (in, starts_with ...) also split a line at commas, so a pasted
// "pro, enterprise" is two values. A value that would not survive that (one holding a
// comma, a leading or trailing space, a leading quote, or the empty string) is written
// quoted, CSV-style: "Acme, Inc.". FormatValues and ParseValues are each other's
// inverse, so saving a configuration unedited changes nothing but the types of scalar
// values, which the engine compares as text anyway (30 and "30" are equal).

// multi reports whether op takes a list of values.
func multi(op domain.Operator) bool {
	s, ok := op.Spec()
	return !ok || s.Max > 1
}

// FormatValues writes a condition's values as the values box shows them.
func FormatValues(op domain.Operator, values []any) string {
	lines := make([]string, len(values))
	for i, v := range values {
		lines[i] = quote(op, ValueText(v))
	}
	return strings.Join(lines, "\n")
}

// ValueText writes one value as text: strings as they are, numbers without exponent
// where possible, booleans as true and false.
func ValueText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	}
	if f, ok := domain.Number(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return ""
}

func quote(op domain.Operator, s string) string {
	needs := s == "" || strings.TrimSpace(s) != s || strings.HasPrefix(s, `"`) ||
		multi(op) && strings.Contains(s, ",")
	if !needs {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// ParseValues reads the values box of a condition with operator op. Numeric operators
// get numbers where the text is one (validation names the rest); every other value is
// a string.
func ParseValues(op domain.Operator, text string) []any {
	out := []any{}
	spec, _ := op.Spec()
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r", ""), "\n") {
		for _, s := range splitLine(op, line) {
			out = append(out, typed(spec.Values, s))
		}
	}
	return out
}

// splitLine returns the values of one line: none for a blank line; the quoted record
// of a line that starts with a quote; else the line, split at commas for list
// operators.
func splitLine(op domain.Operator, line string) []string {
	trimmed := strings.TrimSpace(line)
	switch {
	case trimmed == "":
		return nil
	case strings.HasPrefix(trimmed, `"`):
		r := csv.NewReader(strings.NewReader(trimmed))
		r.TrimLeadingSpace = true
		r.LazyQuotes = true
		rec, err := r.Read()
		if err == nil {
			if !multi(op) && len(rec) > 1 {
				return []string{strings.Join(rec, ",")}
			}
			return rec
		}
		return []string{trimmed}
	case multi(op):
		var out []string
		for _, part := range strings.Split(line, ",") {
			if p := strings.TrimSpace(part); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	return []string{strings.TrimSpace(line)}
}

func typed(k domain.ValueKind, s string) any {
	if k == domain.NumberValue {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	}
	return s
}
