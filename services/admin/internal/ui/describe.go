package ui

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/ui/form"
)

// Rules read as sentences: "If email ends with @acme.com and plan is one of pro,
// enterprise → serve on". The same words describe a configuration line by line for
// diffs (history, the preview of a protected save, a conflict).

// phrases say what each operator does, in words.
var phrases = map[domain.Operator]string{
	domain.OpEq: "is", domain.OpNeq: "is not", domain.OpIn: "is one of", domain.OpNotIn: "is none of",
	domain.OpStartsWith: "starts with", domain.OpEndsWith: "ends with", domain.OpContains: "contains",
	domain.OpNotContains: "does not contain", domain.OpMatches: "matches", domain.OpGt: "is greater than",
	domain.OpGte: "is at least", domain.OpLt: "is less than", domain.OpLte: "is at most",
	domain.OpSemverEq: "is version", domain.OpSemverGt: "is a version after", domain.OpSemverLt: "is a version before",
	domain.OpBefore: "is before", domain.OpAfter: "is after", domain.OpExists: "is set", domain.OpNotExists: "is not set",
}

// phrase names an operator in words, or by its name when unknown.
func phrase(op string) string {
	if p, ok := phrases[domain.Operator(op)]; ok {
		return p
	}
	return op
}

// ruleSentence reads an editor's rule as a sentence.
func ruleSentence(r form.Rule) []part {
	var out []part
	for i, c := range r.Conditions {
		if i == 0 {
			out = append(out, part{Text: "If "})
		} else {
			out = append(out, part{Text: " and "})
		}
		attr := c.Attribute
		if attr == "" {
			attr = "(attribute)"
		}
		out = append(out, b(attr), part{Text: " " + phrase(c.Operator)})
		vals := form.ParseValues(domain.Operator(c.Operator), c.Values)
		if len(vals) > 0 {
			texts := make([]string, len(vals))
			for j, v := range vals {
				texts[j] = form.ValueText(v)
			}
			shown := texts
			if len(shown) > 5 {
				shown = append(slices.Clone(texts[:5]), fmt.Sprintf("and %d more", len(texts)-5))
			}
			out = append(out, part{Text: " "}, b(strings.Join(shown, ", ")))
		}
	}
	if len(r.Conditions) == 0 {
		out = append(out, part{Text: "Everyone"})
	}
	out = append(out, part{Text: " → serve "})
	return append(out, serveParts(r.Serve)...)
}

// serveParts says what a serve block serves.
func serveParts(s form.Serve) []part {
	if s.Mode != form.ModeRollout {
		v := s.Variant
		if v == "" {
			v = "(variant)"
		}
		return []part{b(v)}
	}
	keys := make([]string, 0, len(s.Weights))
	for k, w := range s.Weights {
		if w != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := []part{{Text: "a rollout: "}}
	for i, k := range keys {
		if i > 0 {
			out = append(out, part{Text: ", "})
		}
		out = append(out, b(k+" "+s.Weights[k]+"%"))
	}
	if s.BucketBy != "" {
		out = append(out, part{Text: " by "}, b(s.BucketBy))
	}
	return out
}

// configLines describes a configuration in words, a line per fact, for diffs.
func configLines(c domain.Config) []string {
	f := form.ConfigOf(c)
	onoff := "off"
	if c.Enabled {
		onoff = "on"
	}
	lines := []string{"Enabled: " + onoff}
	for i, r := range f.Rules {
		lines = append(lines, fmt.Sprintf("Rule %d (%s): %s", i+1, r.ID, plain(ruleSentence(r))))
	}
	if len(f.Rules) == 0 {
		lines = append(lines, "No rules")
	}
	lines = append(lines, "Otherwise serve "+plain(serveParts(f.Default)), "When off, serve "+c.OffVariant)
	for _, p := range c.Prerequisites {
		lines = append(lines, "Requires "+p.Flag+" to serve "+p.Variant)
	}
	return lines
}

// diffLine is one line of a diff: "add", "del" or "same".
type diffLine struct {
	Kind string
	Text string
}

// lineDiff compares two descriptions line by line (longest common subsequence; they
// are short).
func lineDiff(a, b []string) []diffLine {
	n, m := len(a), len(b)
	if n*m > 1_000_000 {
		out := make([]diffLine, 0, n+m)
		for _, s := range a {
			out = append(out, diffLine{"del", s})
		}
		for _, s := range b {
			out = append(out, diffLine{"add", s})
		}
		return out
	}
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			out = append(out, diffLine{"same", a[i]})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, diffLine{"del", a[i]})
			i++
		default:
			out = append(out, diffLine{"add", b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, diffLine{"del", a[i]})
	}
	for ; j < m; j++ {
		out = append(out, diffLine{"add", b[j]})
	}
	return out
}

// changed reports whether a diff has any change.
func changed(d []diffLine) bool {
	for _, l := range d {
		if l.Kind != "same" {
			return true
		}
	}
	return false
}

// noise are the fields a diff leaves out: bookkeeping, not what anyone changed (the
// raw JSON still shows them). A flag's configurations at creation are its initial
// ones, said by "created flag".
var noise = map[string]bool{"id": true, "created_at": true, "updated_at": true, "salt": true}

// jsonLines flattens a JSON document into "path: value" lines, for diffs of what is
// not a configuration (a flag's definition, an environment, a membership).
func jsonLines(raw json.RawMessage) []string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return []string{string(raw)}
	}
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if noise[k] || path == "" && k == "environments" {
					continue
				}
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, x[k])
			}
			if len(x) == 0 && path != "" {
				out = append(out, path+": {}")
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
			if len(x) == 0 && path != "" {
				out = append(out, path+": []")
			}
		default:
			out = append(out, path+": "+compact(x))
		}
	}
	walk("", v)
	return out
}

// compact writes a JSON value as it reads, without escaping < > & (the page escapes).
func compact(v any) string {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(sb.String(), "\n")
}
