package httpapi

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard/switchyard/pkg/platform/envconfig"
)

// TestIPExtractor: X-Forwarded-For is believed only from a trusted peer, and then the
// client is the right-most address that is not trusted; a spoofed header from anyone
// else is ignored. Private and loopback peers are not trusted unless listed.
func TestIPExtractor(t *testing.T) {
	lb, err := envconfig.ParseCIDRs("10.0.0.0/24, 2001:db8::/32")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		trusted []*net.IPNet
		peer    string
		xff     []string
		want    string
	}{
		{"no proxies: the peer, whatever the header", nil, "203.0.113.9:5000", []string{"1.2.3.4"}, "203.0.113.9"},
		{"spoofed from an untrusted peer", lb, "203.0.113.9:5000", []string{"1.2.3.4"}, "203.0.113.9"},
		{"a private peer not listed is not trusted", lb, "192.168.0.5:5000", []string{"1.2.3.4"}, "192.168.0.5"},
		{"loopback not listed is not trusted", lb, "127.0.0.1:5000", []string{"1.2.3.4"}, "127.0.0.1"},
		{"from a trusted proxy", lb, "10.0.0.2:5000", []string{"198.51.100.7"}, "198.51.100.7"},
		{"a forged entry left of the real client", lb, "10.0.0.2:5000", []string{"1.2.3.4, 198.51.100.7"}, "198.51.100.7"},
		{"through two trusted proxies", lb, "10.0.0.2:5000", []string{"198.51.100.7, 10.0.0.3"}, "198.51.100.7"},
		{"headers repeated", lb, "10.0.0.2:5000", []string{"1.2.3.4", "198.51.100.7"}, "198.51.100.7"},
		{"IPv6", lb, "[2001:db8::5]:5000", []string{"2001:db8:ffff::1, 2606:4700::1"}, "2606:4700::1"},
		{"no header from a trusted proxy", lb, "10.0.0.2:5000", nil, "10.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if got := IPExtractor(tt.trusted)(req); got != tt.want {
				t.Errorf("client %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"10.1.2.3":             "10.1.2.3",
		"::ffff:10.1.2.3":      "10.1.2.3",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::9": "2001:db8:1:2::/64",
		"2001:db8:1:3::1":      "2001:db8:1:3::/64",
		"not an address":       "not an address",
	} {
		if got := ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}
