package httpapi

import (
	"net/url"
	"testing"
)

// TestPlainQuery: a query is plain only when nothing it decodes to holds bad text; a
// plain one never hides a problem the parameter-by-parameter check would find.
func TestPlainQuery(t *testing.T) {
	for _, tt := range []struct {
		q     string
		plain bool
	}{
		{"key=u1&plan=pro", true},
		{"email=a%40b.c&name=J+Doe", true},
		{"v=%7E%2f%7f", true},
		{"v=%C3%A9", false}, // é: clean, but only the full check can tell
		{"v=%ff", false},    // invalid UTF-8 once decoded
		{"v=%00", false},    // NUL once decoded
		{"v=a\x00", false},  // NUL
		{"v=\xff", false},   // invalid UTF-8
		{"v=%zz", false},    // a bad escape: left to the parser, which skips it
		{"v=%4", false},     // cut short
		{"v=%", false},      // cut short
		{"%E2%82%AC=1", false},
	} {
		if got := plainQuery(tt.q); got != tt.plain {
			t.Errorf("plainQuery(%q) = %v, want %v", tt.q, got, tt.plain)
		}
		if !plainQuery(tt.q) {
			continue
		}
		values, _ := url.ParseQuery(tt.q)
		for name, vs := range values {
			for _, v := range append(vs, name) {
				if m := textProblem(v); m != "" {
					t.Errorf("plainQuery(%q), but %q %s", tt.q, v, m)
				}
			}
		}
	}
}
