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

func TestParseCIDRs(t *testing.T) {
	nets, err := ParseCIDRs(" 10.0.0.0/8, 192.168.1.7 ,fd00::/8,, 2001:db8::1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range nets {
		got = append(got, n.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.168.1.7/32 fd00::/8 2001:db8::1/128" {
		t.Errorf("parsed %v", got)
	}
	if nets, err := ParseCIDRs(""); err != nil || len(nets) != 0 {
		t.Errorf("empty: %v %v", nets, err)
	}
	for _, bad := range []string{"10.0.0.0/33", "10.0.0.0/8,proxy.local", "10.0.0/8"} {
		if _, err := ParseCIDRs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestOrigins(t *testing.T) {
	tests := []struct {
		in   string
		want string // joined by spaces; "!" for an error
	}{
		{"", ""},
		{"*", "*"},
		{" https://App.example.com/ , http://localhost:3000", "https://app.example.com http://localhost:3000"},
		{"https://app.example.com,*", "!"},
		{"app.example.com", "!"},
		{"https://app.example.com/path", "!"},
		{"ftp://app.example.com", "!"},
		{"https://user@app.example.com", "!"},
	}
	for _, tt := range tests {
		r := New(func(string) string { return tt.in })
		got := strings.Join(r.Origins("CORS_ALLOWED_ORIGINS"), " ")
		if tt.want == "!" {
			if r.Err() == nil || !strings.Contains(r.Err().Error(), "CORS_ALLOWED_ORIGINS:") {
				t.Errorf("%q: want an error naming the variable, got %q %v", tt.in, got, r.Err())
			}
			continue
		}
		if r.Err() != nil || got != tt.want {
			t.Errorf("%q: got %q %v, want %q", tt.in, got, r.Err(), tt.want)
		}
	}
}
