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

// Config is the rules editor of one environment: a flag's configuration as the form
// holds it, text as typed, so that a page sent back with problems shows exactly what
// was posted. Its field names are the JSON paths of the configuration, the ones the
// service's errors name: rules[0].conditions[1].values, default.rollout.weights.on.
type Config struct {
	Version       string
	Base          string // the configuration the edit began from, as JSON (what a conflict is compared with)
	Previewed     string // on a protected environment, a digest of the change the user reviewed
	Enabled       bool
	Rules         []Rule
	Default       Serve
	OffVariant    string
	Prerequisites []Prerequisite
}

// Rule is one rule of the editor. Open keeps its card open (new, or with problems).
type Rule struct {
	ID          string
	Description string
	Conditions  []Condition
	Serve       Serve
	Open        bool
}

// Condition is one condition row; Values is the values box (see values.go).
type Condition struct {
	Attribute string
	Operator  string
	Values    string
}

// Serve is a variant or a rollout. Mode says which ("variant" or "rollout"); Weights
// are by variant key, as typed.
type Serve struct {
	Mode     string
	Variant  string
	Weights  map[string]string
	BucketBy string
}

// Prerequisite is one prerequisite row.
type Prerequisite struct {
	Flag    string
	Variant string
}

// Serve modes.
const (
	ModeVariant = "variant"
	ModeRollout = "rollout"
)

// ConfigOf fills the editor from a stored configuration.
func ConfigOf(c domain.Config) *Config {
	base, _ := json.Marshal(c)
	f := &Config{Version: strconv.FormatInt(c.Version, 10), Base: string(base), Enabled: c.Enabled,
		Default: serveOf(c.Default), OffVariant: c.OffVariant}
	for _, r := range c.Rules {
		rule := Rule{ID: r.ID, Description: r.Description, Serve: serveOf(r.Serve)}
		for _, cond := range r.Conditions {
			rule.Conditions = append(rule.Conditions, Condition{Attribute: cond.Attribute, Operator: string(cond.Operator),
				Values: FormatValues(cond.Operator, cond.Values)})
		}
		f.Rules = append(f.Rules, rule)
	}
	for _, p := range c.Prerequisites {
		f.Prerequisites = append(f.Prerequisites, Prerequisite{Flag: p.Flag, Variant: p.Variant})
	}
	return f
}

func serveOf(s domain.Serve) Serve {
	if s.Rollout == nil {
		return Serve{Mode: ModeVariant, Variant: s.Variant, Weights: map[string]string{}}
	}
	w := make(map[string]string, len(s.Rollout.Weights))
	for k, v := range s.Rollout.Weights {
		w[k] = strconv.FormatFloat(v, 'f', -1, 64)
	}
	return Serve{Mode: ModeRollout, Weights: w, BucketBy: s.Rollout.BucketBy}
}

var (
	rulePath      = regexp.MustCompile(`^rules\[(\d{1,4})\]\.(.+)$`)
	conditionPath = regexp.MustCompile(`^conditions\[(\d{1,4})\]\.(attribute|operator|values)$`)
	prereqPath    = regexp.MustCompile(`^prerequisites\[(\d{1,4})\]\.(flag|variant)$`)
)

// NewConfig reads the editor from a posted form. Rows are ordered by their index; gaps
// (a row removed in the browser) are closed.
func NewConfig(v url.Values) *Config {
	weights := weightsOf(v)
	f := &Config{Version: strings.TrimSpace(v.Get("version")), Base: v.Get("base"), Previewed: v.Get("previewed"), Enabled: checked(v, "enabled"),
		OffVariant: v.Get("off_variant"), Default: newServe(v, "default", weights)}
	rules := map[int]*Rule{}
	conds := map[int]map[int]*Condition{}
	prereqs := map[int]*Prerequisite{}
	for name := range v {
		if m := rulePath.FindStringSubmatch(name); m != nil {
			i, _ := strconv.Atoi(m[1])
			if i > domain.MaxRules {
				continue // one past the limit reaches the service, which names it
			}
			if rules[i] == nil {
				rules[i] = &Rule{}
			}
			if c := conditionPath.FindStringSubmatch(m[2]); c != nil {
				j, _ := strconv.Atoi(c[1])
				if j > domain.MaxConditions {
					continue
				}
				if conds[i] == nil {
					conds[i] = map[int]*Condition{}
				}
				if conds[i][j] == nil {
					conds[i][j] = &Condition{}
				}
				cond := conds[i][j]
				switch c[2] {
				case "attribute":
					cond.Attribute = strings.TrimSpace(v.Get(name))
				case "operator":
					cond.Operator = v.Get(name)
				case "values":
					cond.Values = v.Get(name)
				}
			}
			continue
		}
		if m := prereqPath.FindStringSubmatch(name); m != nil {
			i, _ := strconv.Atoi(m[1])
			if i > domain.MaxPrerequisites {
				continue
			}
			if prereqs[i] == nil {
				prereqs[i] = &Prerequisite{}
			}
			if m[2] == "flag" {
				prereqs[i].Flag = strings.TrimSpace(v.Get(name))
			} else {
				prereqs[i].Variant = strings.TrimSpace(v.Get(name))
			}
		}
	}
	for _, i := range sortedKeys(rules) {
		p := fmt.Sprintf("rules[%d]", i)
		r := rules[i]
		r.ID = strings.TrimSpace(v.Get(p + ".id"))
		r.Description = v.Get(p + ".description")
		r.Open = v.Get(p+".open") != ""
		r.Serve = newServe(v, p+".serve", weights)
		for _, j := range sortedKeys(conds[i]) {
			r.Conditions = append(r.Conditions, *conds[i][j])
		}
		f.Rules = append(f.Rules, *r)
	}
	for _, i := range sortedKeys(prereqs) {
		if p := prereqs[i]; p.Flag != "" || p.Variant != "" {
			f.Prerequisites = append(f.Prerequisites, *p)
		}
	}
	return f
}

func sortedKeys[T any](m map[int]T) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// newServe reads a serve block: prefix.mode, prefix.variant, prefix.rollout.weights.<variant>,
// prefix.rollout.bucket_by.
func newServe(v url.Values, prefix string, weights map[string]map[string]string) Serve {
	s := Serve{Mode: v.Get(prefix + ".mode"), Variant: v.Get(prefix + ".variant"), Weights: weights[prefix],
		BucketBy: strings.TrimSpace(v.Get(prefix + ".rollout.bucket_by"))}
	if s.Weights == nil {
		s.Weights = map[string]string{}
	}
	if s.Mode != ModeRollout {
		s.Mode = ModeVariant
	}
	return s
}

// weightsOf reads every rollout weight of the form in one pass, by the serve they
// belong to ("rules[2].serve", "default") and then by variant.
func weightsOf(v url.Values) map[string]map[string]string {
	const marker = ".rollout.weights."
	out := map[string]map[string]string{}
	for name := range v {
		i := strings.Index(name, marker)
		if i <= 0 || i+len(marker) == len(name) {
			continue
		}
		prefix, k := name[:i], name[i+len(marker):]
		if out[prefix] == nil {
			out[prefix] = map[string]string{}
		}
		out[prefix][k] = strings.TrimSpace(v.Get(name))
	}
	return out
}

// Input turns the editor into the service's input, naming the fields it cannot read.
func (f *Config) Input() (service.ConfigInput, error) {
	var p Problems
	in := service.ConfigInput{Enabled: f.Enabled, OffVariant: f.OffVariant,
		Rules: []domain.Rule{}, Prerequisites: []domain.Prerequisite{}}
	if v, err := strconv.ParseInt(f.Version, 10, 64); err == nil && v > 0 {
		in.Version = &v
	} else {
		p.Add("version", "is missing: reload the page")
	}
	for i, r := range f.Rules {
		path := fmt.Sprintf("rules[%d]", i)
		rule := domain.Rule{ID: r.ID, Description: r.Description, Conditions: []domain.Condition{},
			Serve: r.Serve.input(path+".serve", &p)}
		for _, c := range r.Conditions {
			op := domain.Operator(c.Operator)
			rule.Conditions = append(rule.Conditions, domain.Condition{Attribute: c.Attribute, Operator: op,
				Values: ParseValues(op, c.Values)})
		}
		in.Rules = append(in.Rules, rule)
	}
	def := f.Default.input("default", &p)
	in.Default = &def
	for _, pr := range f.Prerequisites {
		in.Prerequisites = append(in.Prerequisites, domain.Prerequisite{Flag: pr.Flag, Variant: pr.Variant})
	}
	return in, p.Err("configuration")
}

func (s Serve) input(path string, p *Problems) domain.Serve {
	if s.Mode != ModeRollout {
		return domain.Serve{Variant: s.Variant}
	}
	r := &domain.Rollout{Weights: map[string]float64{}, BucketBy: s.BucketBy}
	for k, w := range s.Weights {
		if w == "" {
			continue
		}
		x, err := strconv.ParseFloat(w, 64)
		if err != nil {
			p.Add(path+".rollout.weights."+k, "must be a number from 0 to 100")
			continue
		}
		r.Weights[k] = x
	}
	return domain.Serve{Rollout: r}
}

// Sum adds the weights of a rollout that parse, for the editor's running total.
func (s Serve) Sum() float64 {
	var sum float64
	for _, w := range s.Weights {
		if x, err := strconv.ParseFloat(w, 64); err == nil {
			sum += x
		}
	}
	return sum
}

// Ops the editor's buttons send without JavaScript (with it, the browser edits the
// rows itself and only "save" reaches the server). Each names the list or the row it
// acts on by its path: add:rules, remove:rules[2], up:rules[2], down:rules[2],
// add:rules[1].conditions, remove:rules[1].conditions[0], add:prerequisites,
// remove:prerequisites[0].
const (
	OpSave    = "save"
	OpConfirm = "confirm" // save, having seen the preview of a change to a protected environment
)

var opPath = regexp.MustCompile(`^(add|remove|up|down):(rules|prerequisites|variants)(?:\[(\d{1,4})\](?:\.conditions(?:\[(\d{1,4})\])?)?)?$`)

// editOp is an op parsed: verb, list, and the row indexes it names (-1 where absent);
// nested is set for a rule's conditions.
type editOp struct {
	verb, list string
	a, b       int
	nested     bool
}

func parseOp(op string) (editOp, bool) {
	m := opPath.FindStringSubmatch(op)
	if m == nil {
		return editOp{}, false
	}
	e := editOp{verb: m[1], list: m[2], a: -1, b: -1, nested: strings.Contains(op, ".conditions")}
	if m[3] != "" {
		e.a, _ = strconv.Atoi(m[3])
	}
	if m[4] != "" {
		e.b, _ = strconv.Atoi(m[4])
	}
	return e, true
}

// move applies up, down or remove to row i of a list; add is the caller's.
func move[T any](list []T, verb string, i int) ([]T, bool) {
	switch {
	case i < 0 || i >= len(list):
		return list, false
	case verb == "remove":
		return slices.Delete(list, i, i+1), true
	case verb == "up" && i > 0:
		list[i-1], list[i] = list[i], list[i-1]
		return list, true
	case verb == "down" && i+1 < len(list):
		list[i+1], list[i] = list[i], list[i+1]
		return list, true
	}
	return list, false
}

// Apply performs an editing op and reports whether it was one. variant is what a new
// rule serves.
func (f *Config) Apply(op, variant string) bool {
	e, ok := parseOp(op)
	if !ok {
		return false
	}
	switch {
	case e.list == "rules" && e.nested:
		if e.a < 0 || e.a >= len(f.Rules) {
			return false
		}
		r := &f.Rules[e.a]
		r.Open = true
		if e.verb == "add" && e.b < 0 {
			r.Conditions = append(r.Conditions, Condition{Operator: string(domain.OpEq)})
			return true
		}
		r.Conditions, ok = move(r.Conditions, e.verb, e.b)
		return ok
	case e.list == "rules" && e.verb == "add" && e.a < 0:
		f.Rules = append(f.Rules, Rule{Conditions: []Condition{{Operator: string(domain.OpEq)}},
			Serve: Serve{Mode: ModeVariant, Variant: variant, Weights: map[string]string{}}, Open: true})
		return true
	case e.list == "rules":
		f.Rules, ok = move(f.Rules, e.verb, e.a)
		return ok
	case e.list == "prerequisites" && e.verb == "add" && e.a < 0:
		f.Prerequisites = append(f.Prerequisites, Prerequisite{})
		return true
	case e.list == "prerequisites":
		f.Prerequisites, ok = move(f.Prerequisites, e.verb, e.a)
		return ok
	}
	return false
}
