package form

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Playground is the playground's form: an environment, the flags to explain (all when
// none), and a context typed as key/value rows or as JSON.
type Playground struct {
	Env   string
	Flags string
	Mode  string // "rows" or "json"
	Rows  []ContextRow
	JSON  string
}

// ContextRow is one attribute of the context: a key (a dotted path makes nested
// objects: company.plan) and a value, read as JSON when it is JSON (30, true,
// ["a","b"]) and as text otherwise.
type ContextRow struct {
	Key   string
	Value string
}

var rowPath = regexp.MustCompile(`^ctx\[(\d{1,4})\]\.(key|value)$`)

// NewPlayground reads the playground's form.
func NewPlayground(v url.Values) *Playground {
	p := &Playground{Env: v.Get("env"), Flags: v.Get("flags"), Mode: v.Get("mode"), JSON: v.Get("json")}
	if p.Mode != "json" {
		p.Mode = "rows"
	}
	rows := map[int]*ContextRow{}
	for name := range v {
		m := rowPath.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if rows[i] == nil {
			rows[i] = &ContextRow{}
		}
		if m[2] == "key" {
			rows[i].Key = strings.TrimSpace(v.Get(name))
		} else {
			rows[i].Value = v.Get(name)
		}
	}
	for _, i := range sortedKeys(rows) {
		if r := rows[i]; r.Key != "" || r.Value != "" {
			p.Rows = append(p.Rows, *r)
		}
	}
	return p
}

// FlagKeys lists the flags asked for, separated by commas or spaces; nil asks for
// every flag.
func (p *Playground) FlagKeys() []string {
	if keys := Tags(p.Flags); len(keys) > 0 {
		return keys
	}
	return nil
}

// Context builds the context from the rows or the JSON, as the mode says, and writes
// the other form from it, so both show the same context.
func (p *Playground) Context() (map[string]any, error) {
	var probs Problems
	ctx := map[string]any{}
	if p.Mode == "json" {
		if strings.TrimSpace(p.JSON) != "" {
			if err := json.Unmarshal([]byte(p.JSON), &ctx); err != nil || ctx == nil {
				probs.Add("json", "must be a JSON object, such as {\"key\": \"user-42\", \"plan\": \"pro\"}")
				return nil, probs.Err("context")
			}
		}
		p.Rows = rowsOf(ctx)
		return ctx, nil
	}
	for i, r := range p.Rows {
		if r.Key == "" {
			probs.Add(fmt.Sprintf("ctx[%d].key", i), "is required for a value")
			continue
		}
		var val any = r.Value
		var parsed any
		// A value reads as JSON (42, true, ["a","b"]) except the targeting key, which is
		// text even when it looks like a number.
		if r.Key != "key" && r.Key != "targetingKey" {
			if err := json.Unmarshal([]byte(r.Value), &parsed); err == nil {
				val = parsed
			}
		}
		if err := setPath(ctx, strings.Split(r.Key, "."), val); err != nil {
			probs.Add(fmt.Sprintf("ctx[%d].key", i), err.Error())
		}
	}
	if err := probs.Err("context"); err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(ctx, "", "  ")
	p.JSON = string(b)
	return ctx, nil
}

// setPath sets a dotted path in nested objects.
func setPath(m map[string]any, path []string, v any) error {
	for _, seg := range path[:len(path)-1] {
		if seg == "" {
			return fmt.Errorf("has an empty segment")
		}
		next, ok := m[seg].(map[string]any)
		if !ok {
			if _, taken := m[seg]; taken {
				return fmt.Errorf("%q is a value and an object at once", seg)
			}
			next = map[string]any{}
			m[seg] = next
		}
		m = next
	}
	last := path[len(path)-1]
	if last == "" {
		return fmt.Errorf("has an empty segment")
	}
	if _, taken := m[last]; taken {
		return fmt.Errorf("%q is set twice", last)
	}
	m[last] = v
	return nil
}

// rowsOf writes a context's top-level members as rows: text as it is, the rest as JSON.
func rowsOf(ctx map[string]any) []ContextRow {
	keys := make([]string, 0, len(ctx))
	for k := range ctx {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rows := make([]ContextRow, 0, len(keys))
	for _, k := range keys {
		val := ""
		if s, ok := ctx[k].(string); ok {
			val = s
			if json.Valid([]byte(s)) {
				b, _ := json.Marshal(s) // "30" stays text: quoted
				val = string(b)
			}
		} else {
			b, _ := json.Marshal(ctx[k])
			val = string(b)
		}
		rows = append(rows, ContextRow{Key: k, Value: val})
	}
	return rows
}
