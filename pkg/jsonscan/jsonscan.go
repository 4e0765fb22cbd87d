// Package jsonscan walks a JSON document already known to be valid, without
// building it: request decoders read what they need straight into their own
// structures, and skip the rest.
package jsonscan

import "encoding/json"

// Scanner walks a valid JSON document. Its strings without escapes are slices of one
// copy of the document, made by New: reading a document's strings costs one
// allocation, however many there are.
type Scanner struct {
	doc   []byte
	i     int
	arena string // string(doc)
}

// New returns a scanner at the start of doc, which must be valid JSON (check it with
// json.Valid first): what a scanner makes of anything else is unspecified.
func New(doc []byte) Scanner { return Scanner{doc: doc, arena: string(doc)} }

func (p *Scanner) ws() {
	for p.i < len(p.doc) {
		switch p.doc[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// Peek returns the first byte of the next value (0 at the end), past white space.
func (p *Scanner) Peek() byte {
	p.ws()
	if p.i < len(p.doc) {
		return p.doc[p.i]
	}
	return 0
}

// Members calls f with the name of each member of the object at the scanner, which is
// then at the member's value: f must consume it (Str, Skip, Members, Raw…). The
// scanner ends past the object.
func (p *Scanner) Members(f func(name string)) {
	p.ws()
	p.i++ // {
	for {
		switch p.Peek() {
		case '}':
			p.i++
			return
		case ',':
			p.i++
			continue
		case 0:
			return
		}
		name := p.Str()
		p.ws()
		p.i++ // :
		p.ws()
		f(name)
	}
}

// Str reads the string at the scanner: a slice of the document's copy when it has no
// escapes, else decoded by encoding/json.
func (p *Scanner) Str() string {
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

// Skip moves the scanner past the value at it.
func (p *Scanner) Skip() {
	switch p.Peek() {
	case '"':
		p.Str()
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
				p.Str()
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

// Elements calls f for each element of the array at the scanner, which is then at
// the element: f must consume it. The scanner ends past the array.
func (p *Scanner) Elements(f func()) {
	p.ws()
	p.i++ // [
	for {
		switch p.Peek() {
		case ']':
			p.i++
			return
		case ',':
			p.i++
			continue
		case 0:
			return
		}
		f()
	}
}

// Raw consumes the value at the scanner and returns its bytes, for encoding/json.
func (p *Scanner) Raw() []byte {
	p.ws()
	start := p.i
	p.Skip()
	return p.doc[start:p.i]
}

// Text consumes the value at the scanner and returns its text in the document's
// copy (a number's digits, say).
func (p *Scanner) Text() string {
	p.ws()
	start := p.i
	p.Skip()
	return p.arena[start:p.i]
}
