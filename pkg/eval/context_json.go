package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
)

// Attribute is one member of a context held as a list (Context.List): a string is
// Text with a nil Value, anything else is Value, as encoding/json decodes it.
type Attribute struct {
	Name  string
	Text  string
	Value any
}

// maxListed is the most members a decoded context keeps as a list: past it, lookups by
// scanning would cost more than the map they save, so the context gets a map.
const maxListed = 32

// ErrNotObject is returned by ContextFromJSON when the context is not a JSON object, or
// holds a number beyond float64's range (as encoding/json refuses it).
var ErrNotObject = errors.New("the context is not a JSON object")

// ContextFromJSON decodes the context held by the member named member of the JSON
// object doc (doc itself when member is ""), as ContextOf would build it from
// encoding/json's map: the first of keyFields present and not null is the targeting
// key, every other member not null is an attribute. doc must be valid JSON in valid
// UTF-8 (check both first; encoding/json would replace bad bytes, which the API
// refuses): what it does with anything else is unspecified.
//
// It is the request path's decoder: its strings share one copy of doc, a small
// context's attributes are a list rather than a map, and only numbers and nested
// values are allocated one by one. A missing or null member is an empty context; a
// member that is not an object is ErrNotObject; a key that is not a string is an
// invalid field, as in ContextOf.
func ContextFromJSON(doc []byte, member string, into []Attribute, keyFields ...string) (Context, error) {
	// One string holds the bytes of every string member; a string with escapes is
	// decoded on its own.
	p := jsonParser{doc: doc, arena: string(doc)}
	d := contextDecoder{p: &p, list: into[:0]}
	if member == "" {
		d.decode()
	} else if p.peek() == '{' {
		// Every occurrence of the member is decoded into the one context, as
		// encoding/json decodes into one map, and names match without regard to case,
		// as they do a struct's fields.
		p.members(func(name string, _ int) {
			if strings.EqualFold(name, member) {
				d.decode()
				return
			}
			p.skip()
		})
	}
	if d.bad != nil {
		return Context{}, d.bad
	}
	ctx := Context{List: d.list, Attributes: d.big}
	if ctx.Attributes == nil && ctx.List == nil {
		ctx.List = []Attribute{} // empty, held as a list
	}
	for _, f := range keyFields {
		v, ok := ctx.lookup(f)
		if !ok {
			continue
		}
		s, ok := v.text()
		if !ok {
			return Context{}, domain.InvalidField("context", "context."+f, "must be a string")
		}
		ctx.Key = s
		if ctx.Attributes != nil {
			delete(ctx.Attributes, f)
		} else {
			ctx.List = remove(ctx.List, f)
		}
		break
	}
	return ctx, nil
}

// contextDecoder gathers a context's members: in list while there are at most
// maxListed, in big after.
type contextDecoder struct {
	p    *jsonParser
	list []Attribute
	big  map[string]any
	bad  error
}

// decode reads the value at p.i into the context: null empties it (encoding/json sets
// the map to nil), an object adds its members, anything else is ErrNotObject.
func (d *contextDecoder) decode() {
	p := d.p
	switch p.peek() {
	case 'n':
		p.skip()
		d.list, d.big = d.list[:0], nil
		return
	case '{':
	default:
		p.skip()
		d.bad = ErrNotObject
		return
	}
	p.members(func(name string, _ int) {
		a := Attribute{Name: name}
		switch c := p.peek(); c {
		case 'n':
			// null: as absent, but it replaces an earlier member of the name.
			p.skip()
			d.list = remove(d.list, name)
			if d.big != nil {
				delete(d.big, name)
			}
			return
		case '"':
			a.Text = p.str()
		case 't', 'f':
			a.Value = c == 't'
			p.skip()
		case '{', '[':
			start := p.i
			p.skip()
			var v any
			if err := json.Unmarshal(p.doc[start:p.i], &v); err != nil {
				d.bad = fmt.Errorf("%w: %w", ErrNotObject, err) // a number beyond float64
			}
			a.Value = v
		default:
			start := p.i
			p.skip()
			f, err := strconv.ParseFloat(p.arena[start:p.i], 64)
			if err != nil {
				d.bad = fmt.Errorf("%w: %w", ErrNotObject, err)
			}
			a.Value = f
		}
		d.add(a)
	})
}

func (d *contextDecoder) add(a Attribute) {
	if d.big != nil {
		d.big[a.Name] = a.value()
		return
	}
	d.list = remove(d.list, a.Name)
	if len(d.list) < maxListed {
		d.list = append(d.list, a)
		return
	}
	d.big = make(map[string]any, 2*maxListed)
	for _, x := range d.list {
		d.big[x.Name] = x.value()
	}
	d.big[a.Name] = a.value()
	d.list = nil
}

// value is the attribute as encoding/json decodes it.
func (a *Attribute) value() any {
	if a.Value == nil {
		return a.Text
	}
	return a.Value
}

// text is the attribute's string, if it is one.
func (a *Attribute) text() (string, bool) {
	if a.Value == nil {
		return a.Text, true
	}
	return "", false
}

// remove drops the member named name from a list, keeping the order of the others.
func remove(list []Attribute, name string) []Attribute {
	for i := range list {
		if list[i].Name == name {
			return append(list[:i], list[i+1:]...)
		}
	}
	return list
}

// lookup finds a top-level member, not null, of a context.
func (c *Context) lookup(name string) (*Attribute, bool) {
	if c.Attributes != nil {
		v, ok := c.Attributes[name]
		if !ok || v == nil {
			return nil, false
		}
		if s, ok := v.(string); ok {
			return &Attribute{Name: name, Text: s}, true
		}
		return &Attribute{Name: name, Value: v}, true
	}
	for i := range c.List {
		if c.List[i].Name == name {
			return &c.List[i], true
		}
	}
	return nil, false
}

// Map returns the context's attributes as a map, however they are held.
func (c *Context) Map() map[string]any {
	if c.List == nil {
		return c.Attributes
	}
	m := make(map[string]any, len(c.List))
	for i := range c.List {
		m[c.List[i].Name] = c.List[i].value()
	}
	return m
}

// jsonParser walks a valid JSON document.
type jsonParser struct {
	doc   []byte
	i     int
	arena string // string(doc), once strings are taken from it
}

func (p *jsonParser) ws() {
	for p.i < len(p.doc) {
		switch p.doc[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) peek() byte {
	p.ws()
	if p.i < len(p.doc) {
		return p.doc[p.i]
	}
	return 0
}

// members calls f for each member of the object at p.i, with p.i at the member's
// value, which f must consume; p.i ends past the object.
func (p *jsonParser) members(f func(name string, value int)) {
	p.ws()
	p.i++ // {
	for {
		switch p.peek() {
		case '}':
			p.i++
			return
		case ',':
			p.i++
			continue
		case 0:
			return
		}
		name := p.str()
		p.ws()
		p.i++ // :
		p.ws()
		f(name, p.i)
	}
}

// str reads the string at p.i: a slice of the arena when it has no escapes, else
// decoded by encoding/json.
func (p *jsonParser) str() string {
	p.ws()
	start := p.i
	p.i++ // "
	escaped := false
	for p.i < len(p.doc) {
		switch p.doc[p.i] {
		case '\\':
			escaped = true
			p.i += 2
			continue
		case '"':
			p.i++
			if escaped {
				var s string
				_ = json.Unmarshal(p.doc[start:p.i], &s)
				return s
			}
			return p.arena[start+1 : p.i-1]
		}
		p.i++
	}
	return ""
}

// skip moves p.i past the value at p.i.
func (p *jsonParser) skip() {
	switch p.peek() {
	case '"':
		p.str()
		return
	case '{', '[':
		depth := 0
		for p.i < len(p.doc) {
			switch p.doc[p.i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					p.i++
					return
				}
			case '"':
				p.str()
				continue
			}
			p.i++
		}
		return
	}
	for p.i < len(p.doc) {
		switch p.doc[p.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return
		}
		p.i++
	}
}
