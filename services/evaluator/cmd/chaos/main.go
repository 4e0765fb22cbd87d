// Command chaos is make chaos: it runs the admin service and two evaluator replicas
// against the chaos profile's PostgreSQL and Redis, drives a mixed load (evaluations on
// both replicas, flag creations, a probe flag flipped and watched on both replicas),
// and meanwhile stops and restarts Redis, stops and restarts PostgreSQL, restarts one
// evaluator, and restarts the admin service in the middle of a write burst. Then it
// checks, and prints:
//
//   - failed evaluations (none allowed);
//   - admin writes acknowledged, persisted and audited (every acknowledged write must
//     be both);
//   - invalidations published and received per replica;
//   - the largest staleness observed, and propagation p50/p99 across both replicas;
//   - that both replicas converge on the last value and the outbox drains.
//
// Every loop is bounded in count and time, and everything targets 127.0.0.1. The
// script scripts/chaos builds the binaries and prepares the database.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/services/evaluator/internal/adminclient"
)

type options struct {
	bin, stackScript, profile, logDir, databaseURL, adminToken string
	step                                                       time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin", "folder holding the admin and evaluator binaries")
	flag.StringVar(&o.stackScript, "stack", "scripts/stack", "the script that stops and starts PostgreSQL and Redis")
	flag.StringVar(&o.profile, "profile", "chaos", "the stack profile whose servers are stopped and started")
	flag.StringVar(&o.logDir, "logs", ".data/chaos", "where the services' logs go")
	flag.DurationVar(&o.step, "step", time.Second, "time unit of the fault schedule (its length is about 50 steps)")
	flag.Parse()
	o.databaseURL, o.adminToken = os.Getenv("DATABASE_URL"), os.Getenv("ADMIN_TOKEN")
	if o.databaseURL == "" || os.Getenv("REDIS_URL") == "" || o.adminToken == "" {
		fmt.Fprintln(os.Stderr, "chaos: DATABASE_URL, REDIS_URL, ADMIN_TOKEN and JWT_SECRET must be set (scripts/chaos sets them)")
		os.Exit(2)
	}
	ok, err := run(context.Background(), o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func newProc(o options, name string, args []string, env ...string) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	opsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(o.logDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &proc{name: name, addr: addr, opsAddr: opsAddr, args: args, env: env, log: f}, nil
}

func run(ctx context.Context, o options) (bool, error) {
	if err := os.MkdirAll(o.logDir, 0o755); err != nil {
		return false, err
	}
	servers := stack{script: o.stackScript, profile: o.profile}
	admin, err := newProc(o, "admin", []string{filepath.Join(o.bin, "admin"), "serve"}, "OUTBOX_INTERVAL=200ms", "SHUTDOWN_TIMEOUT=10s")
	if err != nil {
		return false, err
	}
	evalEnv := []string{"SNAPSHOT_MAX_AGE=5s", "DB_TIMEOUT=1s", "SHUTDOWN_TIMEOUT=10s", "ANALYTICS_FLUSH_INTERVAL=1s"}
	var evals []*proc
	for i := range 2 {
		p, err := newProc(o, fmt.Sprintf("evaluator-%d", i+1), []string{filepath.Join(o.bin, "evaluator")}, evalEnv...)
		if err != nil {
			return false, err
		}
		evals = append(evals, p)
	}
	all := append([]*proc{admin}, evals...)
	defer func() {
		for _, p := range all {
			p.stop()
		}
	}()
	if err := admin.start(ctx); err != nil {
		return false, err
	}
	ac := adminclient.New(admin.url(), o.adminToken)
	key, err := setup(ctx, ac)
	if err != nil {
		return false, err
	}
	for _, p := range evals {
		if err := p.start(ctx); err != nil {
			return false, err
		}
	}
	var replicas []*adminclient.Client
	for _, p := range evals {
		replicas = append(replicas, adminclient.New(p.url(), key))
	}

	// Counters of processes that restart are summed over their lifetimes.
	var published float64
	var received [2]float64 // per replica
	scrape := func() {
		published += metric(ctx, admin.opsURL(), "switchyard_admin_invalidations_published_total")
	}
	scrapeEval := func(i int) {
		received[i] += metric(ctx, evals[i].opsURL(), "switchyard_evaluator_invalidations_received_total")
	}

	var faults atomic.Int32
	load := &evalLoad{replicas: replicas}
	w := &writes{admin: ac}
	pr := &probe{admin: ac, replicas: replicas, faulty: func() bool { return faults.Load() > 0 }}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, f := range []func(){func() { load.run(loadCtx, 4) }, func() { w.run(loadCtx, 2) }, func() { pr.run(loadCtx) }} {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}

	start := time.Now()
	at := func(steps float64) { time.Sleep(time.Until(start.Add(time.Duration(steps * float64(o.step))))) }
	say := func(format string, args ...any) {
		fmt.Printf("%6.1fs  %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	fault := func(name string, do, undo func() error, from, to float64) error {
		at(from)
		faults.Add(1)
		say("%s: begin", name)
		if err := do(); err != nil {
			return err
		}
		at(to)
		if err := undo(); err != nil {
			return err
		}
		say("%s: end", name)
		time.Sleep(o.step) // the fault window includes a moment of recovery
		faults.Add(-1)
		return nil
	}
	steps := []error{
		fault("Redis stopped", func() error { return servers.stop("redis") }, servers.start, 5, 12),
		fault("PostgreSQL stopped", func() error { return servers.stop("postgres") }, servers.start, 18, 25),
		fault("evaluator-2 restarted", func() error { scrapeEval(1); evals[1].stop(); return nil },
			func() error { return evals[1].start(ctx) }, 31, 31),
		fault("admin restarted during a write burst", func() error {
			w.burst.Store(true)
			time.Sleep(o.step)
			scrape()
			admin.stop()
			return nil
		}, func() error { err := admin.start(ctx); time.Sleep(2 * o.step); w.burst.Store(false); return err }, 38, 38),
	}
	if err := errors.Join(steps...); err != nil {
		stopLoad()
		wg.Wait()
		return false, err
	}
	at(48)
	say("load stopped")
	stopLoad()
	wg.Wait()
	return report(ctx, o, reportInput{admin: admin, evals: evals, replicas: replicas, load: load, writes: w, probe: pr,
		published: &published, received: &received, scrape: scrape, scrapeEval: scrapeEval, elapsed: time.Since(start)})
}

// setup creates the projects, the evaluated flags and the probe, and an SDK key.
func setup(ctx context.Context, ac *adminclient.Client) (string, error) {
	for _, p := range []string{project, writeProject} {
		if err := ac.EnsureProject(ctx, p); err != nil {
			return "", err
		}
	}
	on := map[string]any{"enabled": true, "default": map[string]any{"variant": "on"}, "off_variant": "off"}
	for i := range evalFlags {
		f := fmt.Sprintf("eval-%02d", i)
		if err := ac.EnsureFlag(ctx, project, map[string]any{"key": f, "kind": "boolean"}); err != nil {
			return "", err
		}
		if _, err := ac.Configure(ctx, project, f, env, on); err != nil {
			return "", err
		}
	}
	if err := ac.EnsureFlag(ctx, project, map[string]any{"key": probeFlag, "kind": "boolean"}); err != nil {
		return "", err
	}
	probeOff := map[string]any{"enabled": false, "default": map[string]any{"variant": "on"}, "off_variant": "off"}
	if _, err := ac.Configure(ctx, project, probeFlag, env, probeOff); err != nil {
		return "", err
	}
	return ac.SDKKey(ctx, project, env, "chaos")
}
