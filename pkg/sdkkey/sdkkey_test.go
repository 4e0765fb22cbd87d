package sdkkey

import (
	"bytes"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		key, prefix, digest := New()
		if !WellFormed(key) || !strings.HasPrefix(key, prefix) || !bytes.Equal(digest, Digest(key)) {
			t.Fatalf("key %q prefix %q", key, prefix)
		}
		if seen[key] {
			t.Fatal("duplicate key")
		}
		seen[key] = true
	}
	for _, bad := range []string{"", "sy_sdk_", "sy_sdk_short", "xx_sdk_" + strings.Repeat("a", 43), "sy_sdk_" + strings.Repeat("!", 43), "sy_sdk_" + strings.Repeat("a", 44)} {
		if WellFormed(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}
