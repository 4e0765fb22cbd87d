//go:build linux

package api

import (
	"net"
	"syscall"
	"time"
)

// setUserTimeout bounds how long data written to conn may stay unacknowledged before
// the kernel closes it (TCP_USER_TIMEOUT).
func setUserTimeout(conn net.Conn, d time.Duration) {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, 0x12 /* TCP_USER_TIMEOUT */, int(d.Milliseconds()))
	})
}
