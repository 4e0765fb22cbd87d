package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
)

// Start binds every server's address, all or none, and then serves them: a port taken
// fails the start at once instead of leaving half a service up. A server that stops
// for another reason than Shutdown sends its error on the channel.
func Start(servers ...*http.Server) (<-chan error, error) {
	listeners := make([]net.Listener, 0, len(servers))
	for _, s := range servers {
		l, err := net.Listen("tcp", s.Addr)
		if err != nil {
			for _, bound := range listeners {
				bound.Close()
			}
			return nil, fmt.Errorf("listen on %s: %w", s.Addr, err)
		}
		listeners = append(listeners, l)
	}
	errs := make(chan error, len(servers))
	for i, s := range servers {
		go func() {
			if err := s.Serve(listeners[i]); !errors.Is(err, http.ErrServerClosed) {
				errs <- fmt.Errorf("server on %s: %w", s.Addr, err)
			}
		}()
	}
	return errs, nil
}

// Shutdown stops the servers in order, each letting its requests finish within ctx.
// Past the deadline, a server's remaining connections are closed.
func Shutdown(ctx context.Context, log *slog.Logger, servers ...*http.Server) {
	for _, s := range servers {
		if err := s.Shutdown(ctx); err != nil {
			log.Warn("http shutdown", "addr", s.Addr, "error", err)
			s.Close()
		}
	}
}
