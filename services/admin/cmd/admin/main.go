// Command admin is the write path of Switchyard: projects, environments, flags and
// their configurations in PostgreSQL, audited, with Redis invalidated after each commit.
//
//	admin [serve]                 serve the admin API (the default)
//	admin migrate up|down|status  apply, revert or list the schema migrations
//	admin seed                    create the demo project, unless it exists
//	admin healthcheck             ask the running service's /healthz (for containers)
//	admin check-config            validate the configuration and exit
//	admin users create -email E [-name N] [-instance-admin]
//	                              create a user; the password comes from
//	                              ADMIN_USER_PASSWORD or standard input
//
// Configuration comes from the environment; see the README's table.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/pkg/platform/healthcheck"
	"github.com/switchyard/switchyard/pkg/platform/logging"
	"github.com/switchyard/switchyard/pkg/platform/server"
	"github.com/switchyard/switchyard/services/admin/internal/app"
	"github.com/switchyard/switchyard/services/admin/internal/config"
	"github.com/switchyard/switchyard/services/admin/internal/postgres"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "admin:", err)
		os.Exit(1)
	}
}

const usage = "usage: admin [serve | migrate up|down|status | seed | users create -email E [-name N] [-instance-admin] | healthcheck | check-config]"

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "serve":
		cfg, err := config.Load(getenv)
		if err != nil {
			return fmt.Errorf("configuration:\n%w", err)
		}
		return serve(ctx, cfg)
	case "migrate":
		if len(args) != 2 {
			return errors.New("usage: admin migrate up|down|status")
		}
		return migrate(ctx, getenv("DATABASE_URL"), args[1], stdout)
	case "seed":
		cfg, err := config.Load(getenv)
		if err != nil {
			return fmt.Errorf("configuration:\n%w", err)
		}
		return seedCommand(ctx, cfg, stdout)
	case "users":
		cfg, err := config.Load(getenv)
		if err != nil {
			return fmt.Errorf("configuration:\n%w", err)
		}
		return usersCommand(ctx, cfg, args[1:], getenv, os.Stdin, stdout)
	case "check-config":
		if _, err := config.Load(getenv); err != nil {
			return fmt.Errorf("configuration:\n%w", err)
		}
		fmt.Fprintln(stdout, "configuration is valid")
		return nil
	case "healthcheck":
		return healthcheck.Run(ctx, or(getenv("HTTP_ADDR"), "127.0.0.1:8080"))
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q; %s", cmd, usage)
}

func migrate(ctx context.Context, databaseURL, command string, stdout io.Writer) error {
	if databaseURL == "" {
		return errors.New("DATABASE_URL: required")
	}
	store, err := postgres.Open(ctx, slog.New(slog.DiscardHandler), databaseURL, postgres.Options{MaxConns: 2})
	if err != nil {
		return err
	}
	defer store.Close()
	return postgres.Migrate(ctx, store.SQL(), command, func(s string) { fmt.Fprintln(stdout, s) })
}

// newApp wires the service from cfg, logging to stderr.
func newApp(ctx context.Context, cfg config.Config) (*app.App, error) {
	return app.New(ctx, cfg, logging.New(os.Stderr, "admin", cfg.LogLevel, cfg.LogFormat), app.Options{})
}

func serve(ctx context.Context, cfg config.Config) error {
	a, err := newApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	// Shut down in reverse order: stop taking requests and drain those in flight, then
	// deliver what they enqueued (Stop), then close the connections (Close).
	return server.Run(ctx, a.Log(), server.RunOptions{
		Name: "admin", Addr: cfg.HTTPAddr, Handler: a.Handler, ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second,
		OpsAddr: cfg.OpsAddr, Registry: a.Registry, ShutdownTimeout: cfg.ShutdownTimeout,
		Started: a.Start, Stop: a.Stop,
	})
}
