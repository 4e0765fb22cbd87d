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

// InFlight is a request the server has begun to read but cannot finish: its body is
// held back after the first bytes, so the server counts the connection as active. The
// graceful-shutdown tests start one, stop the service, and then let it complete.
type InFlight struct {
	t    testing.TB
	conn net.Conn
	rest string
}

// StartInFlight sends the request line, the headers and the first five bytes of body
// to the server at addr (host:port), then waits until the server has surely read them.
func StartInFlight(t testing.TB, addr, method, path, body string, header ...string) *InFlight {
	t.Helper()
	if len(body) < 6 {
		t.Fatal("StartInFlight: the body must be longer than 5 bytes")
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", method, path, addr, len(body))
	for i := 0; i+1 < len(header); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", header[i], header[i+1])
	}
	b.WriteString("\r\n" + body[:5])
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	return &InFlight{t: t, conn: conn, rest: body[5:]}
}

// Finish sends the rest of the body and reads the response.
func (f *InFlight) Finish() Response {
	f.t.Helper()
	if _, err := io.WriteString(f.conn, f.rest); err != nil {
		f.t.Fatalf("in-flight request: %v", err)
	}
	_ = f.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(f.conn), nil)
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
