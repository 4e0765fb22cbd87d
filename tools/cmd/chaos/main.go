// Command chaos is make chaos: it runs the admin service and two evaluator replicas
// against the chaos profile's PostgreSQL and Redis, drives a mixed load (evaluations on
// both replicas, flag creations, a probe flag flipped and watched on both replicas),
// and meanwhile injects the faults of the schedule (faults.go): Redis and PostgreSQL
// stopped cleanly, each crashed with SIGKILL, both crashed together, one evaluator
// restarted, and the admin service restarted in the middle of a write burst.
//
// A fault counts only when it is seen to take effect: the process exited and its port
// closed, it came back as a new process, the services counted the dependency failing
// (evaluator_dependency_errors_total, admin_invalidation_failures_total) or refused
// writes with 503, and evaluations went on during it. Then it checks (checks.go) that
// no evaluation failed and only what a load balancer retries was retried, that every
// acknowledged write persisted with one audit row, that writes were refused only
// during faults, that the outbox drained and both replicas converged, and staleness
// and propagation; each check has a minimum count so that it cannot pass on nothing,
// and a metric that cannot be read is an error, never a zero.
//
// Every loop is bounded in count and time, and everything targets 127.0.0.1. The
// script scripts/chaos builds the binaries and prepares the database.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/switchyard/switchyard/tools/internal/adminclient"
)

type options struct {
	bin, stackScript, profile, logDir, dataDir string
	databaseURL, redisURL, adminToken          string
	step                                       time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin", "folder holding the admin and evaluator binaries")
	flag.StringVar(&o.stackScript, "stack", "scripts/stack", "the script that stops and starts PostgreSQL and Redis")
	flag.StringVar(&o.profile, "profile", "chaos", "the stack profile whose servers are stopped and started")
	flag.StringVar(&o.logDir, "logs", ".data/chaos", "where the services' logs go")
	flag.StringVar(&o.dataDir, "data", ".data/chaos", "the profile's data folder, which holds the servers' pid files")
	flag.DurationVar(&o.step, "step", time.Second, fmt.Sprintf("time unit of the fault schedule (its length is %d steps)", loadSteps))
	flag.Parse()
	o.databaseURL, o.redisURL, o.adminToken = os.Getenv("DATABASE_URL"), os.Getenv("REDIS_URL"), os.Getenv("ADMIN_TOKEN")
	if o.databaseURL == "" || o.redisURL == "" || o.adminToken == "" {
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
	servers, err := profileServers(o)
	if err != nil {
		return false, err
	}
	adminDB, err := durable(ctx, o.databaseURL)
	if err != nil {
		return false, err
	}
	admin, err := newProc(o, "admin", []string{filepath.Join(o.bin, "admin"), "serve"}, "OUTBOX_INTERVAL=200ms", "SHUTDOWN_TIMEOUT=10s",
		"DATABASE_URL="+adminDB)
	if err != nil {
		return false, err
	}
	evalEnv := []string{"SNAPSHOT_MAX_AGE=5s", "DB_TIMEOUT=1s", "SHUTDOWN_TIMEOUT=10s", "ANALYTICS_FLUSH_INTERVAL=1s"}
	var evals []*proc
	var names []string
	for i := range 2 {
		p, err := newProc(o, fmt.Sprintf("evaluator-%d", i+1), []string{filepath.Join(o.bin, "evaluator")}, evalEnv...)
		if err != nil {
			return false, err
		}
		evals, names = append(evals, p), append(names, p.name)
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

	rn := &runner{step: o.step, stack: stack{script: o.stackScript, profile: o.profile}, servers: servers,
		admin: admin, evals: evals, start: time.Now()}
	log := &writeLog{since: rn.since}
	load := &evalLoad{replicas: replicas, names: names, since: rn.since}
	w := &writes{admin: ac, log: log}
	rn.burst = &w.burst
	pr := &probe{admin: ac, replicas: replicas, log: log, since: rn.since, faulty: func() bool { return rn.active.Load() > 0 }}
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, f := range []func(){func() { load.run(loadCtx, 4) }, func() { w.run(loadCtx, 2) }, func() { pr.run(loadCtx) }} {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	var faults []fault
	for _, p := range schedule {
		faults = append(faults, rn.inject(ctx, p))
	}
	rn.at(loadSteps)
	rn.say("load stopped")
	stopLoad()
	wg.Wait()
	elapsed := rn.since()
	rec, err := collect(ctx, o, rn, load, w, pr)
	if err != nil {
		return false, err
	}
	rec.faults = faults
	return report(rec, elapsed), nil
}

// profileServers locates the stack profile's PostgreSQL and Redis: their addresses in
// DATABASE_URL and REDIS_URL, their pid files in the profile's data folder (where
// PostgreSQL also keeps its socket's lock file, which names its pid too).
func profileServers(o options) (map[string]server, error) {
	pg, err := url.Parse(o.databaseURL)
	if err != nil || pg.Port() == "" {
		return nil, fmt.Errorf("no PostgreSQL port in DATABASE_URL")
	}
	redis, err := url.Parse(o.redisURL)
	if err != nil || redis.Port() == "" {
		return nil, fmt.Errorf("no Redis port in REDIS_URL")
	}
	pgData := filepath.Join(o.dataDir, "postgres")
	return map[string]server{
		"postgres": {name: "postgres", addr: pg.Host, pidFile: filepath.Join(pgData, "postmaster.pid"),
			locks: []string{filepath.Join(pgData, ".s.PGSQL."+pg.Port()+".lock")}},
		"redis": {name: "redis", addr: redis.Host, pidFile: filepath.Join(o.dataDir, "redis", "redis.pid")},
	}, nil
}

// durable returns the database URL with synchronous_commit=on, which PostgreSQL takes
// from the connection's startup parameters, and checks that a connection through it
// commits synchronously. The stack's servers run with synchronous_commit=off to make
// the tests fast, and with it PostgreSQL acknowledges commits that a crash loses (the
// last few hundred milliseconds); a deployment keeps the default, on, and that is what
// the crashes must test.
func durable(ctx context.Context, databaseURL string) (string, error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return "", fmt.Errorf("DATABASE_URL: %w", err)
	}
	q := u.Query()
	q.Set("synchronous_commit", "on")
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		return "", err
	}
	defer db.Close()
	var got string
	if err := db.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&got); err != nil {
		return "", fmt.Errorf("check synchronous_commit: %w", err)
	}
	if got != "on" {
		return "", fmt.Errorf("synchronous_commit is %q through DATABASE_URL, want on", got)
	}
	return u.String(), nil
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
