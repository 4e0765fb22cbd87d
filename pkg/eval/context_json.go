package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/jsonscan"
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
	p := jsonscan.New(doc)
	d := contextDecoder{p: &p, list: into[:0]}
	if member == "" {
		d.decode()
	} else if p.Peek() == '{' {
		// Every occurrence of the member is decoded into the one context, as
		// encoding/json decodes into one map, and names match without regard to case,
		// as they do a struct's fields.
		p.Members(func(name string) {
			if strings.EqualFold(name, member) {
				d.decode()
				return
			}
			p.Skip()
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
	p    *jsonscan.Scanner
	list []Attribute
	big  map[string]any
	bad  error
}

// decode reads the value at p.i into the context: null empties it (encoding/json sets
// the map to nil), an object adds its members, anything else is ErrNotObject.
func (d *contextDecoder) decode() {
	p := d.p
	switch p.Peek() {
	case 'n':
		p.Skip()
		d.list, d.big = d.list[:0], nil
		return
	case '{':
	default:
		p.Skip()
		d.bad = ErrNotObject
		return
	}
	p.Members(func(name string) {
		a := Attribute{Name: name}
		switch c := p.Peek(); c {
		case 'n':
			// null: as absent, but it replaces an earlier member of the name.
			p.Skip()
			d.list = remove(d.list, name)
			if d.big != nil {
				delete(d.big, name)
			}
			return
		case '"':
			a.Text = p.Str()
		case 't', 'f':
			a.Value = c == 't'
			p.Skip()
		case '{', '[':
			var v any
			if err := json.Unmarshal(p.Raw(), &v); err != nil {
				d.bad = fmt.Errorf("%w: %w", ErrNotObject, err) // a number beyond float64
			}
			a.Value = v
		default:
			f, err := strconv.ParseFloat(p.Text(), 64)
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
