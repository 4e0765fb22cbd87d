// Command evaluator is the read path of Switchyard: it evaluates flags for SDKs, from
// snapshots cached in process, in Redis and in PostgreSQL, and speaks OFREP.
//
// Configuration comes from the environment; see the README's table. "evaluator
// healthcheck" asks a running evaluator's /healthz, for container health checks;
// "evaluator check-config" validates the configuration and exits.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/pkg/platform/healthcheck"
	"github.com/switchyard/switchyard/pkg/platform/logging"
	"github.com/switchyard/switchyard/pkg/platform/server"
	"github.com/switchyard/switchyard/services/evaluator/internal/app"
	"github.com/switchyard/switchyard/services/evaluator/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "healthcheck":
		addr := os.Getenv("HTTP_ADDR")
		if addr == "" {
			addr = "127.0.0.1:8081"
		}
		err = healthcheck.Run(ctx, addr)
	case len(os.Args) > 1 && os.Args[1] == "check-config":
		if _, err = config.Load(os.Getenv); err != nil {
			err = fmt.Errorf("configuration:\n%w", err)
		} else {
			fmt.Println("configuration is valid")
		}
	default:
		err = run(ctx, os.Getenv, os.Stderr)
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "evaluator:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, getenv func(string) string, logOut io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := logging.New(logOut, "evaluator", cfg.LogLevel, cfg.LogFormat)
	a, err := app.New(cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return server.Run(ctx, log, server.RunOptions{
		Name: "evaluator", Addr: cfg.HTTPAddr, Handler: a.Handler, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second,
		OpsAddr: cfg.OpsAddr, Registry: a.Registry, ShutdownTimeout: cfg.ShutdownTimeout,
		// Streams end first, so that the drain does not wait for them; once the
		// requests have drained, what they counted is written before exiting.
		Drain: a.Drain, Stop: a.Shutdown,
	})
}
