package secret

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	for _, k := range []Kind{SDKKey, AdminToken} {
		seen := map[string]bool{}
		for range 200 {
			s, prefix, digest := k.New()
			want := sha256.Sum256([]byte(s))
			if k.Check(s) != Valid || !strings.HasPrefix(s, prefix) || len(prefix) != len(k.Marker)+6 || !bytes.Equal(digest, want[:]) || len(s) != len(k.Marker)+43+6 {
				t.Fatalf("%q: shape %v, prefix %q", s, k.Check(s), prefix)
			}
			if seen[s] {
				t.Fatal("duplicate secret")
			}
			seen[s] = true
		}
	}
}

// TestKnownAnswers pins the format against values computed apart from this code
// (Python's zlib.crc32 and a base-62 encoding by hand), so an SDK in another language
// can check itself against them, and a change to the checksum cannot pass unnoticed.
func TestKnownAnswers(t *testing.T) {
	for _, c := range []struct {
		kind Kind
		s    string
	}{
		{SDKKey, "sy_sdk_" + strings.Repeat("A", 43) + "32LR1R"},
		{AdminToken, "sy_adm_" + strings.Repeat("z", 43) + "19DpVg"},
	} {
		if got := c.kind.Check(c.s); got != Valid {
			t.Errorf("%s: %v, want Valid", c.s, got)
		}
		want := sha256.Sum256([]byte(c.s))
		if !bytes.Equal(Digest(c.s), want[:]) || Prefix(c.s) != c.s[:13] {
			t.Errorf("%s: digest or prefix", c.s)
		}
	}
}

// TestChecksum: every single-character change of a valid secret, and every secret of
// the other kind, is refused without a lookup.
func TestChecksum(t *testing.T) {
	s, _, _ := SDKKey.New()
	refused, tried := 0, 0
	for i := len(SDKKey.Marker); i < len(s); i++ {
		for _, c := range []byte("aZ09-_") {
			if s[i] == c {
				continue
			}
			b := []byte(s)
			b[i] = c
			tried++
			if SDKKey.Check(string(b)) == Invalid {
				refused++
			}
		}
	}
	// CRC-32 detects every single-character change.
	if refused != tried {
		t.Fatalf("%d of %d one-character typos passed the checksum", tried-refused, tried)
	}
	tok, _, _ := AdminToken.New()
	if SDKKey.Check(tok) != Invalid || AdminToken.Check(s) != Invalid {
		t.Fatal("a secret of one kind passes as the other")
	}
	if !AdminToken.Looks(tok) || SDKKey.Looks(tok) {
		t.Fatal("Looks")
	}
}

func TestShapes(t *testing.T) {
	legacy := "sy_sdk_" + strings.Repeat("aB3-_", 8) + "abc" // marker + 43
	for _, c := range []struct {
		s    string
		want Shape
	}{
		{"", Invalid},
		{"sy_sdk_", Invalid},
		{"sy_sdk_short", Invalid},
		{legacy, Legacy},
		{legacy + "AAAAAA", Invalid}, // the new length with a wrong checksum
		{"xx_sdk_" + strings.Repeat("a", 43), Invalid},
		{"sy_sdk_" + strings.Repeat("!", 43), Invalid},
		{"sy_sdk_" + strings.Repeat("a", 44), Invalid},
		{legacy[:len(legacy)-1] + "é", Invalid},
	} {
		if got := SDKKey.Check(c.s); got != c.want {
			t.Errorf("Check(%q) = %v, want %v", c.s, got, c.want)
		}
	}
	if got := Prefix(legacy); got != "sy_sdk_aB3-_a" {
		t.Errorf("Prefix = %q", got)
	}
}
