package form

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/services/admin/internal/service"
)

// Flag is the form that creates a flag, and the one that edits a flag's definition
// (key and kind never change).
type Flag struct {
	Key         string
	Name        string
	Description string
	Kind        string
	Tags        string
	Variants    []Variant
}

// Variant is one row of the variants editor; Value as typed (JSON for a json flag).
type Variant struct {
	Key         string
	Name        string
	Description string
	Value       string
}

var variantPath = regexp.MustCompile(`^variants\[(\d{1,4})\]\.(key|name|description|value)$`)

// NewFlag reads the flag form.
func NewFlag(v url.Values) *Flag {
	f := &Flag{Key: strings.TrimSpace(v.Get("key")), Name: strings.TrimSpace(v.Get("name")),
		Description: v.Get("description"), Kind: v.Get("kind"), Tags: v.Get("tags")}
	rows := map[int]*Variant{}
	for name := range v {
		m := variantPath.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		if i > domain.MaxVariants {
			continue // one past the limit reaches the service, which names it
		}
		if rows[i] == nil {
			rows[i] = &Variant{}
		}
		val := v.Get(name)
		switch m[2] {
		case "key":
			rows[i].Key = strings.TrimSpace(val)
		case "name":
			rows[i].Name = strings.TrimSpace(val)
		case "description":
			rows[i].Description = val
		case "value":
			rows[i].Value = val
		}
	}
	for _, i := range sortedKeys(rows) {
		if r := rows[i]; *r != (Variant{}) {
			f.Variants = append(f.Variants, *r)
		}
	}
	return f
}

// FlagOf fills the form from a stored flag.
func FlagOf(fl domain.Flag) *Flag {
	f := &Flag{Key: fl.Key, Name: fl.Name, Description: fl.Description, Kind: string(fl.Kind),
		Tags: strings.Join(fl.Tags, ", ")}
	for _, v := range fl.Variants {
		f.Variants = append(f.Variants, Variant{Key: v.Key, Name: v.Name, Description: v.Description,
			Value: VariantText(fl.Kind, v.Value)})
	}
	return f
}

// VariantText writes a variant's value for its input: strings as they are, the rest
// as JSON.
func VariantText(k domain.Kind, v any) string {
	if s, ok := v.(string); ok && k == domain.KindString {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// variants reads the variant rows for a flag of kind k. A boolean flag's variants
// are fixed and are not read.
func (f *Flag) variants(k domain.Kind, p *Problems) []domain.Variant {
	if k == domain.KindBoolean {
		return nil
	}
	out := []domain.Variant{}
	for i, r := range f.Variants {
		v := domain.Variant{Key: r.Key, Name: r.Name, Description: r.Description}
		field := fmt.Sprintf("variants[%d].value", i)
		switch k {
		case domain.KindString:
			v.Value = r.Value
		case domain.KindNumber:
			x, err := strconv.ParseFloat(strings.TrimSpace(r.Value), 64)
			if err != nil {
				p.Add(field, "must be a number")
			}
			v.Value = x
		default:
			var x any
			if err := json.Unmarshal([]byte(r.Value), &x); err != nil {
				p.Add(field, "must be JSON, such as {\"limit\": 10} or \"text\"")
			}
			v.Value = x
		}
		out = append(out, v)
	}
	return out
}

// Input is the service's input to create the flag.
func (f *Flag) Input() (service.FlagInput, error) {
	var p Problems
	in := service.FlagInput{Key: f.Key, Name: f.Name, Description: f.Description, Kind: domain.Kind(f.Kind), Tags: Tags(f.Tags)}
	in.Variants = f.variants(in.Kind, &p)
	return in, p.Err("flag")
}

// Patch is the service's input to change the flag cur: the fields that differ from
// it. Variants are sent only when they changed, so an edit of the name never counts as
// a change of what environments serve.
func (f *Flag) Patch(cur domain.Flag) (service.FlagPatch, error) {
	var p Problems
	var in service.FlagPatch
	if f.Name != cur.Name {
		in.Name = &f.Name
	}
	if f.Description != cur.Description {
		in.Description = &f.Description
	}
	if tags := Tags(f.Tags); !slices.Equal(tags, cur.Tags) {
		in.Tags = &tags
	}
	if vs := f.variants(cur.Kind, &p); vs != nil && !sameJSON(vs, cur.Variants) {
		in.Variants = &vs
	}
	return in, p.Err("flag")
}

func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// Apply performs a variants editor op without JavaScript: add:variants,
// remove:variants[i], up:variants[i], down:variants[i].
func (f *Flag) Apply(op string) bool {
	e, ok := parseOp(op)
	if !ok || e.list != "variants" || e.nested {
		return false
	}
	if e.verb == "add" && e.a < 0 {
		f.Variants = append(f.Variants, Variant{})
		return true
	}
	f.Variants, ok = move(f.Variants, e.verb, e.a)
	return ok
}
