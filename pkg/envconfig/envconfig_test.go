package envconfig

import (
	"strings"
	"testing"
	"time"
)

func TestReader(t *testing.T) {
	env := map[string]string{"D": "2s", "BAD_D": "-1s", "N": "7", "BAD_N": "x", "U": "postgres://h/db", "BAD_U": "mysql://h",
		"A": "127.0.0.1:1", "BAD_A": "1", "L": "DEBUG", "BAD_L": "loud"}
	r := New(func(k string) string { return env[k] })
	if r.Duration("D", time.Second) != 2*time.Second || r.Duration("UNSET_D", time.Second) != time.Second ||
		r.Int("N", 1, 0) != 7 || r.URL("U", "postgres://", "postgres") != "postgres://h/db" ||
		r.Addr("A", "") != "127.0.0.1:1" || r.OneOf("L", "info", "debug", "info") != "debug" || r.String("UNSET", "x") != "x" {
		t.Fatal("good values misread")
	}
	if r.Err() != nil {
		t.Fatalf("unexpected: %v", r.Err())
	}
	r.Duration("BAD_D", 0)
	r.Int("BAD_N", 0, 0)
	r.URL("BAD_U", "postgres://", "postgres")
	r.URL("MISSING_U", "postgres://", "postgres")
	r.Addr("BAD_A", "")
	r.OneOf("BAD_L", "info", "debug")
	for _, name := range []string{"BAD_D", "BAD_N", "BAD_U", "MISSING_U", "BAD_A", "BAD_L"} {
		if !strings.Contains(r.Err().Error(), name+":") {
			t.Errorf("%s not named in %v", name, r.Err())
		}
	}
}
