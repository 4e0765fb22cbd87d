// Package envconfig reads typed configuration from environment variables, collecting
// every bad value with the name of its variable, so a service that cannot start says
// everything that is wrong at once.
package envconfig

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Reader reads variables through a getenv function (os.Getenv in main).
type Reader struct {
	get  func(string) string
	errs []error
}

// New returns a reader over getenv.
func New(getenv func(string) string) *Reader { return &Reader{get: getenv} }

// Fail records a problem found by the caller.
func (r *Reader) Fail(format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf(format, args...))
}

// Err returns every problem found, or nil.
func (r *Reader) Err() error { return errors.Join(r.errs...) }

// String returns the variable, or def when it is unset.
func (r *Reader) String(name, def string) string {
	if v := r.get(name); v != "" {
		return v
	}
	return def
}

// Duration returns a positive duration such as 500ms or 2s.
func (r *Reader) Duration(name string, def time.Duration) time.Duration {
	s := r.get(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		r.Fail("%s: %q is not a positive duration such as 500ms or 2s", name, s)
		return def
	}
	return d
}

// Int returns a whole number of at least min.
func (r *Reader) Int(name string, def, min int64) int64 {
	s := r.get(name)
	if s == "" {
		return def
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < min {
		r.Fail("%s: %q is not a whole number ≥ %d", name, s, min)
		return def
	}
	return n
}

// URL returns a required URL with one of the schemes; example shows its form.
func (r *Reader) URL(name, example string, schemes ...string) string {
	s := r.get(name)
	u, err := url.Parse(s)
	if s == "" || err != nil || !slices.Contains(schemes, u.Scheme) {
		r.Fail("%s: required, as %s", name, example)
	}
	return s
}

// Addr returns a host:port listen address.
func (r *Reader) Addr(name, def string) string {
	s := r.String(name, def)
	if _, _, err := net.SplitHostPort(s); err != nil {
		r.Fail("%s: %q is not host:port", name, s)
	}
	return s
}

// OneOf returns a value from a closed set, compared case-insensitively.
func (r *Reader) OneOf(name, def string, allowed ...string) string {
	s := strings.ToLower(r.String(name, def))
	if !slices.Contains(allowed, s) {
		r.Fail("%s: %q is not one of %s", name, s, strings.Join(allowed, ", "))
	}
	return s
}

// ParseCIDRs parses a comma-separated list of CIDRs (TRUSTED_PROXIES). A bare address
// stands for itself alone (/32 or /128). The error names the bad entry.
func ParseCIDRs(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			ip := net.ParseIP(s)
			if ip == nil {
				return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an address", s)
			}
			bits := 128
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an address", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// CIDRs reads a comma-separated list of CIDRs or addresses (TRUSTED_PROXIES), naming
// the bad entry.
func (r *Reader) CIDRs(name string) []*net.IPNet {
	nets, err := ParseCIDRs(r.String(name, ""))
	if err != nil {
		r.Fail("%s: %v", name, err)
	}
	return nets
}

// OpsAddr reads an operations listener's address (OPS_ADDR): host:port, or "off" for
// none ("").
func (r *Reader) OpsAddr(name, def string) string {
	if r.String(name, def) == "off" {
		return ""
	}
	return r.Addr(name, def)
}

// Origins reads a comma-separated list of web origins (CORS_ALLOWED_ORIGINS):
// scheme://host[:port] each, with no path, or "*" alone for any origin. Origins are
// compared as browsers send them, so they are kept lower-case and without a trailing
// slash.
func (r *Reader) Origins(name string) []string {
	s := strings.TrimSpace(r.get(name))
	if s == "" {
		return nil
	}
	if s == "*" {
		return []string{"*"}
	}
	var out []string
	for _, o := range strings.Split(s, ",") {
		o = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), "/")
		u, err := url.Parse(o)
		switch {
		case o == "*":
			r.Fail("%s: \"*\" must stand alone, not in a list", name)
			return nil
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil:
			r.Fail("%s: %q is not an origin such as https://app.example.com", name, o)
			return nil
		}
		out = append(out, o)
	}
	return out
}
