//go:build !linux

package api

import (
	"net"
	"time"
)

// setUserTimeout does nothing where TCP_USER_TIMEOUT does not exist: a vanished client
// is then noticed when TCP gives up.
func setUserTimeout(net.Conn, time.Duration) {}
