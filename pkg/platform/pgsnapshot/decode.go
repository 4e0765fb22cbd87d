package pgsnapshot

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/switchyard/switchyard/pkg/domain"
)

// errSlow means the fast decoder met something it leaves to encoding/json: an escape
// in a string, a member it does not know, a value of an unexpected type, invalid JSON.
var errSlow = errors.New("not for the fast decoder")

// decoder decodes the JSON columns of flags and configurations as encoding/json does,
// several times faster: it knows the types, and interns the strings an environment
// repeats (attribute names, operators, variant keys, rule ids, values), so that most
// strings cost no allocation. It handles what PostgreSQL's jsonb output and Go's
// encoder write; on anything else it returns errSlow, and the column is decoded by
// encoding/json instead, so that the result is always encoding/json's.
//
// A decoder is not safe for concurrent use.
type decoder struct {
	data  []byte
	pos   int
	strs  map[string]string
	boxed map[string]any // interned strings, as values of type any
	// The slices decoded are cut from blocks, each element decoded in scratch first.
	scratch, block arrays
}

type arrays struct {
	variants   []domain.Variant
	rules      []domain.Rule
	conditions []domain.Condition
	values     []any
	prereqs    []domain.Prerequisite
}

func newDecoder() *decoder {
	return &decoder{strs: map[string]string{}, boxed: map[string]any{}}
}

// column decodes one column into into (a pointer to one of the column types).
func (d *decoder) column(data []byte, into any) error {
	if err := d.fast(data, into); err == nil {
		return nil
	}
	// Start again from nothing: encoding/json must not merge into a half-decoded value.
	switch p := into.(type) {
	case *[]domain.Variant:
		*p = nil
	case *[]domain.Rule:
		*p = nil
	case *domain.Serve:
		*p = domain.Serve{}
	case *[]domain.Prerequisite:
		*p = nil
	}
	return json.Unmarshal(data, into)
}

func (d *decoder) fast(data []byte, into any) error {
	d.data, d.pos = data, 0
	var err error
	switch p := into.(type) {
	case *[]domain.Variant:
		*p, err = d.variants()
	case *[]domain.Rule:
		*p, err = d.rules()
	case *domain.Serve:
		*p, err = d.serve()
	case *[]domain.Prerequisite:
		*p, err = d.prerequisites()
	default:
		return errSlow
	}
	if err != nil {
		return err
	}
	d.space()
	if d.pos != len(d.data) {
		return errSlow
	}
	return nil
}

func (d *decoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// next skips white space and returns the next byte, without consuming it.
func (d *decoder) next() byte {
	d.space()
	if d.pos >= len(d.data) {
		return 0
	}
	return d.data[d.pos]
}

func (d *decoder) expect(c byte) error {
	if d.next() != c {
		return errSlow
	}
	d.pos++
	return nil
}

// literal consumes null, true or false.
func (d *decoder) literal(word string) bool {
	d.space()
	if len(d.data)-d.pos >= len(word) && string(d.data[d.pos:d.pos+len(word)]) == word {
		d.pos += len(word)
		return true
	}
	return false
}

// rawString returns the bytes of a string without escapes, unquoted.
func (d *decoder) rawString() ([]byte, error) {
	if err := d.expect('"'); err != nil {
		return nil, err
	}
	start := d.pos
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			s := d.data[start:d.pos]
			d.pos++
			if !utf8.Valid(s) {
				return nil, errSlow // encoding/json replaces invalid bytes
			}
			return s, nil
		case c == '\\' || c < 0x20:
			return nil, errSlow
		}
		d.pos++
	}
	return nil, errSlow
}

func (d *decoder) intern(b []byte) string {
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	d.strs[s] = s
	return s
}

func (d *decoder) str() (string, error) {
	b, err := d.rawString()
	if err != nil {
		return "", err
	}
	return d.intern(b), nil
}

// strField decodes a string member: null leaves it as it is, as encoding/json does.
func (d *decoder) strField(into *string) error {
	if d.literal("null") {
		return nil
	}
	s, err := d.str()
	*into = s
	return err
}

// open starts an object or array (c is '{' or '['), reporting null instead.
func (d *decoder) open(c byte) (null bool, err error) {
	if d.literal("null") {
		return true, nil
	}
	return false, d.expect(c)
}

// more reports whether an object or array opened has another member or element,
// consuming the comma or the closing byte (c, '}' or ']').
func (d *decoder) more(c byte, first bool) (bool, error) {
	switch d.next() {
	case c:
		d.pos++
		return false, nil
	case ',':
		if !first {
			d.pos++
			return true, nil
		}
	default:
		if first {
			return true, nil
		}
	}
	return false, errSlow
}

// key reads a member's name and the colon after it.
func (d *decoder) key() ([]byte, error) {
	k, err := d.rawString()
	if err != nil {
		return nil, err
	}
	return k, d.expect(':')
}

func (d *decoder) number() (float64, error) {
	d.space()
	start := d.pos
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			d.pos++
			continue
		}
		break
	}
	tok := d.data[start:d.pos]
	if !validNumber(tok) {
		return 0, errSlow
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil {
		return 0, errSlow
	}
	return f, nil
}

// validNumber reports whether b is a JSON number (strconv accepts more).
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i == len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i == len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i == len(b)
}

// value decodes any JSON value as encoding/json decodes it into an interface{}.
func (d *decoder) value() (any, error) {
	switch c := d.next(); {
	case c == '"':
		b, err := d.rawString()
		if err != nil {
			return nil, err
		}
		if v, ok := d.boxed[string(b)]; ok {
			return v, nil
		}
		s := d.intern(b)
		var v any = s
		d.boxed[s] = v
		return v, nil
	case c == 'n' && d.literal("null"):
		return nil, nil
	case c == 't' && d.literal("true"):
		return true, nil
	case c == 'f' && d.literal("false"):
		return false, nil
	case c == '[':
		d.pos++
		l := []any{}
		for first := true; ; first = false {
			more, err := d.more(']', first)
			if err != nil || !more {
				return l, err
			}
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
	case c == '{':
		d.pos++
		m := map[string]any{}
		for first := true; ; first = false {
			more, err := d.more('}', first)
			if err != nil || !more {
				return m, err
			}
			k, err := d.key()
			if err != nil {
				return nil, err
			}
			v, err := d.value()
			if err != nil {
				return nil, err
			}
			m[d.intern(k)] = v
		}
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return nil, errSlow
}

// list decodes a JSON array whose elements elem decodes into *scratch, and returns
// them cut from *block: null is nil, [] empty. scratch holds the elements of the
// arrays being decoded (a rule's conditions are decoded before the next rule's), so
// that each array costs no allocation of its own.
func list[T any](d *decoder, scratch, block *[]T, elem func(*T) error) ([]T, error) {
	null, err := d.open('[')
	if null || err != nil {
		return nil, err
	}
	start := len(*scratch)
	defer func() { *scratch = (*scratch)[:start] }()
	for first := true; ; first = false {
		more, err := d.more(']', first)
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		var zero T
		*scratch = append(*scratch, zero)
		if err := elem(&(*scratch)[len(*scratch)-1]); err != nil {
			return nil, err
		}
	}
	n := len(*scratch) - start
	if n == 0 {
		return make([]T, 0), nil // not nil: [] is not null
	}
	if n > cap(*block)-len(*block) {
		*block = make([]T, 0, max(n, 256))
	}
	l := len(*block)
	*block = append(*block, (*scratch)[start:]...)
	return (*block)[l : l+n : l+n], nil
}

// members decodes an object, calling member for each: null calls nothing.
func (d *decoder) members(member func(key []byte) error) error {
	null, err := d.open('{')
	if null || err != nil {
		return err
	}
	for first := true; ; first = false {
		more, err := d.more('}', first)
		if err != nil || !more {
			return err
		}
		k, err := d.key()
		if err != nil {
			return err
		}
		if err := member(k); err != nil {
			return err
		}
	}
}

func (d *decoder) variant(v *domain.Variant) error {
	return d.members(func(key []byte) error {
		switch string(key) {
		case "key":
			return d.strField(&v.Key)
		case "name":
			return d.strField(&v.Name)
		case "description":
			return d.strField(&v.Description)
		case "value":
			x, err := d.value()
			v.Value = x
			return err
		}
		return errSlow
	})
}

func (d *decoder) variants() ([]domain.Variant, error) {
	return list(d, &d.scratch.variants, &d.block.variants, d.variant)
}

func (d *decoder) rule(r *domain.Rule) error {
	return d.members(func(key []byte) error {
		switch string(key) {
		case "id":
			return d.strField(&r.ID)
		case "description":
			return d.strField(&r.Description)
		case "conditions":
			var err error
			r.Conditions, err = list(d, &d.scratch.conditions, &d.block.conditions, d.condition)
			return err
		case "serve":
			return d.serveInto(&r.Serve)
		}
		return errSlow
	})
}

func (d *decoder) rules() ([]domain.Rule, error) {
	return list(d, &d.scratch.rules, &d.block.rules, d.rule)
}

func (d *decoder) condition(c *domain.Condition) error {
	return d.members(func(key []byte) error {
		switch string(key) {
		case "attribute":
			return d.strField(&c.Attribute)
		case "operator":
			var s string
			err := d.strField(&s)
			c.Operator = domain.Operator(s)
			return err
		case "values":
			var err error
			c.Values, err = list(d, &d.scratch.values, &d.block.values, func(v *any) error {
				var err error
				*v, err = d.value()
				return err
			})
			return err
		}
		return errSlow
	})
}

func (d *decoder) serve() (domain.Serve, error) {
	var s domain.Serve
	err := d.serveInto(&s)
	return s, err
}

func (d *decoder) serveInto(s *domain.Serve) error {
	return d.members(func(key []byte) error {
		switch string(key) {
		case "variant":
			return d.strField(&s.Variant)
		case "rollout":
			if d.literal("null") {
				s.Rollout = nil
				return nil
			}
			ro := &domain.Rollout{}
			s.Rollout = ro
			return d.members(func(key []byte) error {
				switch string(key) {
				case "bucket_by":
					return d.strField(&ro.BucketBy)
				case "weights":
					if d.literal("null") {
						ro.Weights = nil
						return nil
					}
					ro.Weights = map[string]float64{}
					return d.members(func(k []byte) error {
						w, err := d.number()
						ro.Weights[d.intern(k)] = w
						return err
					})
				}
				return errSlow
			})
		}
		return errSlow
	})
}

func (d *decoder) prerequisite(p *domain.Prerequisite) error {
	return d.members(func(key []byte) error {
		switch string(key) {
		case "flag":
			return d.strField(&p.Flag)
		case "variant":
			return d.strField(&p.Variant)
		}
		return errSlow
	})
}

func (d *decoder) prerequisites() ([]domain.Prerequisite, error) {
	return list(d, &d.scratch.prereqs, &d.block.prereqs, d.prerequisite)
}
