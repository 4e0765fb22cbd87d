package ui

import (
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

// TestLocalPath: only paths on this site survive as redirect targets; anything a
// browser could read as another host becomes "/".
func TestLocalPath(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/projects/demo/flags", "/projects/demo/flags"},
		{"/projects/demo/flags?env=production&q=a%20b", "/projects/demo/flags?env=production&q=a%20b"},
		{"", "/"},
		{"projects", "/"},
		{"https://evil.example/", "/"},
		{"//evil.example", "/"},
		{`/\evil.example`, "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/ /evil.example", "/"},
		{"/a\\b", "/"},
		{"/\x7f/evil.example", "/"},
		{"/login?next=/x", "/"},
		{"/logout", "/"},
	} {
		if got := localPath(tt.in); got != tt.want {
			t.Errorf("localPath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRowIndex: the playground's remove buttons name a row by a small index; anything
// else (overflowing, empty, signed) removes nothing.
func TestRowIndex(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"remove:ctx[0]", 0, true},
		{"remove:ctx[12]", 12, true},
		{"remove:ctx[9999]", 9999, true},
		{"remove:ctx[18446744073709551615]", 0, false},
		{"remove:ctx[]", 0, false},
		{"remove:ctx[-1]", 0, false},
		{"remove:ctx[1", 0, false},
		{"add:ctx", 0, false},
	} {
		got, ok := rowIndex(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("rowIndex(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestRolloutText: the flag list's note of a served rollout.
func TestRolloutText(t *testing.T) {
	for _, tt := range []struct {
		kind    domain.Kind
		weights map[string]float64
		want    string
	}{
		{domain.KindBoolean, map[string]float64{"on": 25, "off": 75}, "25% on"},
		{domain.KindBoolean, map[string]float64{"on": 0.125, "off": 99.875}, "0.125% on"},
		{domain.KindString, map[string]float64{"red": 50, "blue": 33.5, "green": 16.5}, "blue 33.5% · green 16.5% · red 50%"},
		{domain.KindBoolean, nil, ""},
	} {
		if got := rolloutText(tt.kind, tt.weights); got != tt.want {
			t.Errorf("rolloutText(%s, %v) = %q, want %q", tt.kind, tt.weights, got, tt.want)
		}
	}
}
