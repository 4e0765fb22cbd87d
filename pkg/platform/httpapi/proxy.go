package httpapi

import (
	"net"
	"net/netip"

	"github.com/labstack/echo/v4"
)

// IPExtractor returns how c.RealIP finds the client. Without trusted proxies it is the
// connection's peer, whatever the headers say. With them, X-Forwarded-For is believed
// only when the peer is one of them, and the client is the right-most address that is
// not: each proxy appends the address it saw, so everything left of the first
// untrusted address from the right was written by the client and may be forged.
// Echo's own defaults (which trust every private and loopback address) are turned off.
func IPExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// ClientKey is what limits per client address count by: the IPv4 address, or the /64
// network of an IPv6 one, since a single IPv6 host is usually given a whole /64 and
// could otherwise spread its attempts over as many addresses as it likes.
func ClientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if addr.Is4() || addr.Is4In6() {
		return addr.Unmap().String()
	}
	p, err := addr.Prefix(64)
	if err != nil {
		return ip
	}
	return p.String()
}
