// Package logging builds the services' structured loggers (log/slog), JSON by default,
// and routes go-redis's own messages into them.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"
)

// New returns a logger writing to w at level (debug, info, warn, error) in format
// (json or text), tagged with the service's name; go-redis's messages go to it too.
func New(w io.Writer, service, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(strings.ToUpper(level)))
	opts := &slog.HandlerOptions{Level: lv}
	var log *slog.Logger
	if format == "text" {
		log = slog.New(slog.NewTextHandler(w, opts))
	} else {
		log = slog.New(slog.NewJSONHandler(w, opts)).With("service", service)
	}
	redis.SetLogger(redisLogger{log})
	return log
}

// redisLogger sends go-redis's messages (reconnect attempts) to our log, at debug level:
// the services report dependency failures themselves.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
