// Command example follows one flag of a Switchyard environment with the Go SDK: it
// prints the flag's answer for a sample user at start and on every change of the
// flag, and the client's status when it changes, until interrupted.
//
//	SWITCHYARD_URL=http://localhost:8081 SWITCHYARD_SDK_KEY=sy_sdk_… go run ./example [flag-key]
//
// The key must be a server SDK key of the environment. The flag defaults to
// new-checkout.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	switchyard "github.com/switchyard/switchyard/sdk/go"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	flag := "new-checkout"
	if len(os.Args) > 1 {
		flag = os.Args[1]
	}
	if err := run(ctx, os.Stdout, os.Getenv("SWITCHYARD_URL"), os.Getenv("SWITCHYARD_SDK_KEY"), flag); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer, url, key, flag string) error {
	if url == "" || key == "" {
		return errors.New("set SWITCHYARD_URL (the evaluator, e.g. http://localhost:8081) and SWITCHYARD_SDK_KEY (a server SDK key)")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	client, err := switchyard.New(ctx, url, key, switchyard.WithLogger(log))
	switch {
	case errors.Is(err, switchyard.ErrNotReady):
		// Not fatal: the client keeps trying and answers defaults meanwhile.
		log.Warn("starting without flag definitions", "error", err)
	case err != nil:
		return err
	}
	defer func() {
		// Close sends the evaluation counts not yet reported.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := client.Close(ctx); err != nil {
			log.Warn("closing", "error", err)
		}
	}()

	// A context is built once per user and reused: evaluating allocates nothing.
	user := &switchyard.Context{Key: "user-42", Attributes: map[string]any{
		"email": "jane@example.com", "country": "NL", "plan": "pro",
	}}
	show := func(why string) {
		r := client.Evaluate(flag, user)
		fmt.Fprintf(out, "%-8s version %-4d %s = %v (variant %q, reason %s", why, client.Version(), flag, r.Value, r.Variant, r.Reason)
		if r.ErrorCode != "" {
			fmt.Fprintf(out, ", error %s", r.ErrorCode)
		}
		fmt.Fprintln(out, ")")
	}

	client.OnReady(func() { show("ready") })
	client.OnChange(func(ch switchyard.Change) {
		if slices.Contains(ch.Flags, flag) {
			show("changed")
		}
	})
	client.OnStatus(func(s switchyard.Status) {
		fmt.Fprintf(out, "status   %s (version %d, streaming %v)\n", s.State, s.Version, s.Streaming)
	})
	<-ctx.Done()
	return nil
}
