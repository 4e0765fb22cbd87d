package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchyard/switchyard/pkg/platform/httpapi"
	"github.com/switchyard/switchyard/pkg/platform/metrics"
)

// RunOptions configure Run.
type RunOptions struct {
	// Name names the service in the log ("admin listening").
	Name string
	// Addr and Handler are the public listener. ReadTimeout and WriteTimeout bound a
	// request's reading and its answer; headers must arrive within 5 seconds and an
	// idle connection is closed after 2 minutes.
	Addr                      string
	Handler                   http.Handler
	ReadTimeout, WriteTimeout time.Duration
	// OpsAddr is the operations listener, serving Registry's metrics and the profiles
	// (metrics.OpsServer); empty for none.
	OpsAddr  string
	Registry *prometheus.Registry
	// ShutdownTimeout bounds the whole shutdown: the drain of requests in flight, and
	// then Stop.
	ShutdownTimeout time.Duration
	// Started, when set, runs once every listener is bound (background work that must
	// not start unless the service does).
	Started func()
	// Drain, when set, runs when shutdown begins, before the listeners drain: responses
	// that would never end by themselves (event streams) end there.
	Drain func()
	// Stop, when set, runs once the listeners have drained, with what is left of
	// ShutdownTimeout: background work ends there, and delivers what the last requests
	// left behind.
	Stop func(ctx context.Context)
}

// public returns the public listener's server, with the timeouts of opt.
func (opt RunOptions) public() *http.Server {
	return &http.Server{Addr: opt.Addr, Handler: opt.Handler, ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: opt.ReadTimeout, WriteTimeout: opt.WriteTimeout, IdleTimeout: 2 * time.Minute}
}

// Run binds the public and the operations listeners (all or none), serves them until
// ctx is done or a listener fails, and then shuts down in order: the public listener
// drains while the operations listener still answers, then the operations listener
// stops, then Stop runs. It returns the listener's failure, if that is what ended it.
func Run(ctx context.Context, log *slog.Logger, opt RunOptions) error {
	servers := metrics.Servers(opt.public(), opt.OpsAddr, opt.Registry)
	serveErr, err := httpapi.Start(servers...)
	if err != nil {
		return err
	}
	if opt.Started != nil {
		opt.Started()
	}
	log.Info(opt.Name+" listening", "addr", opt.Addr, "ops_addr", opt.OpsAddr)

	var failed error // a listener that stopped by itself ends the service like a signal
	select {
	case failed = <-serveErr:
		log.Error("listener failed", "error", failed)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	if opt.Drain != nil {
		opt.Drain()
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), opt.ShutdownTimeout)
	defer cancel()
	httpapi.Shutdown(shutdownCtx, log, servers...)
	if opt.Stop != nil {
		opt.Stop(shutdownCtx)
	}
	return failed
}
