package testinfra

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// InFlight is a request whose handler is running but cannot finish: its body is held
// back until Finish. The graceful-shutdown tests start one, stop the service, and then
// let it complete.
type InFlight struct {
	t    testing.TB
	conn net.Conn
	rest string
	r    *bufio.Reader
}

// StartInFlight sends the request line and headers to the server at addr (host:port)
// with Expect: 100-continue, and returns once the server has answered 100 Continue:
// that is, once a handler is running and reading the body, so the server surely counts
// the request as in flight. No sleeping: the interim answer is the condition.
func StartInFlight(t testing.TB, addr, method, path, body string, header ...string) *InFlight {
	t.Helper()
	if body == "" {
		t.Fatal("StartInFlight: the body must not be empty (no 100 Continue comes for none)")
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n", method, path, addr, len(body))
	for i := 0; i+1 < len(header); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", header[i], header[i+1])
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("in-flight request: no 100 Continue: %q %v", line, err)
	}
	if blank, err := r.ReadString('\n'); err != nil || blank != "\r\n" {
		t.Fatalf("in-flight request: after 100 Continue: %q %v", blank, err)
	}
	return &InFlight{t: t, conn: conn, rest: body, r: r}
}

// Finish sends the rest of the body and reads the response.
func (f *InFlight) Finish() Response {
	f.t.Helper()
	if _, err := io.WriteString(f.conn, f.rest); err != nil {
		f.t.Fatalf("in-flight request: %v", err)
	}
	_ = f.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(f.r, nil)
	if err != nil {
		f.t.Fatalf("in-flight request: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatalf("in-flight request: %v", err)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: body}
}

// WaitRefused waits until nothing accepts connections at addr any more.
func WaitRefused(t testing.TB, addr string) {
	t.Helper()
	Eventually(t, 5*time.Second, "connections to "+addr+" refused", func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
}

// WaitReady waits until GET url answers 200.
func WaitReady(t testing.TB, url string) {
	t.Helper()
	Eventually(t, 15*time.Second, url+" ready", func() bool {
		res, err := http.Get(url)
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
}
