package main

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// plan is one fault of the schedule: servers stopped or crashed, or a service process
// restarted.
type plan struct {
	name     string
	from, to float64  // in steps from the start of the load
	servers  []string // the dependencies taken down: redis, postgres
	crash    bool     // SIGKILL rather than a clean stop
	process  string   // or the service restarted: evaluator-2, admin
}

func (p plan) breaks(server string) bool { return slices.Contains(p.servers, server) }

// schedule is the run's faults, in order. Each outage lasts 7 steps, longer than
// SNAPSHOT_MAX_AGE (5 s), so that the evaluators' memory ages out and they have to go
// to the broken dependency. The clean stops are what operators do; the crashes lose
// what was not yet on disk.
var schedule = []plan{
	{name: "Redis stopped (SIGTERM)", from: 3, to: 10, servers: []string{"redis"}},
	{name: "PostgreSQL stopped (fast shutdown)", from: 13, to: 20, servers: []string{"postgres"}},
	{name: "evaluator-2 restarted (SIGTERM, graceful)", from: 23, to: 23, process: "evaluator-2"},
	{name: "Redis crashed (SIGKILL)", from: 27, to: 34, servers: []string{"redis"}, crash: true},
	{name: "PostgreSQL crashed (SIGKILL, every process)", from: 37, to: 44, servers: []string{"postgres"}, crash: true},
	{name: "Redis and PostgreSQL crashed together (SIGKILL)", from: 47, to: 54, servers: []string{"redis", "postgres"}, crash: true},
	{name: "admin restarted in a write burst (SIGTERM, graceful)", from: 58, to: 58, process: "admin"},
}

// loadSteps is when the load stops.
const loadSteps = 66

// The series the run reads: the dependency-error counters a fault must move, and the
// counters and gauge it reports.
const (
	redisErrorsSeries    = `switchyard_evaluator_dependency_errors_total{dependency="redis"}`
	postgresErrorsSeries = `switchyard_evaluator_dependency_errors_total{dependency="postgres"}`
	invalidationFailures = "switchyard_admin_invalidation_failures_total"
	publishedSeries      = "switchyard_admin_invalidations_published_total"
	receivedSeries       = "switchyard_evaluator_invalidations_received_total"
	outboxDepthSeries    = "switchyard_admin_outbox_depth"
)

// How long a server gets to exit after the stop or kill, and to answer after the start.
const (
	serverExitLimit       = 10 * time.Second
	serverComeBackTimeout = 10 * time.Second
)

// runner injects the faults and keeps the counters of processes that restart.
type runner struct {
	step    time.Duration
	start   time.Time
	stack   stack
	servers map[string]server
	admin   *proc
	evals   []*proc
	burst   *atomic.Bool // the write load's
	active  atomic.Int32 // faults in progress

	// Counters of processes that restart, summed over their lifetimes.
	published  float64
	received   [2]float64
	metricErrs []string
}

func (rn *runner) since() time.Duration { return time.Since(rn.start) }

func (rn *runner) at(steps float64) {
	time.Sleep(time.Until(rn.start.Add(time.Duration(steps * float64(rn.step)))))
}

func (rn *runner) say(format string, args ...any) {
	fmt.Printf("%6.1fs  %s\n", rn.since().Seconds(), fmt.Sprintf(format, args...))
}

// lifetime adds a process's counter to its running sum, before the process restarts
// and at the end.
func (rn *runner) lifetime(ctx context.Context, p *proc, series string, sum *float64) {
	v, err := scrape(ctx, p.opsURL(), series)
	if err != nil {
		rn.metricErrs = append(rn.metricErrs, fmt.Sprintf("%s at %.1fs: %v", p.name, rn.since().Seconds(), err))
		return
	}
	*sum += v[0]
}

// counters reads the dependency-error counters a fault must move.
func (rn *runner) counters(ctx context.Context) (rises, []string) {
	var c rises
	var errs []string
	for i, e := range rn.evals {
		v, err := scrape(ctx, e.opsURL(), redisErrorsSeries, postgresErrorsSeries)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", e.name, err))
			continue
		}
		c.redisErrors[i], c.postgresErrors[i] = v[0], v[1]
	}
	v, err := scrape(ctx, rn.admin.opsURL(), invalidationFailures)
	if err != nil {
		errs = append(errs, fmt.Sprintf("admin: %v", err))
	} else {
		c.invalidationFailures = v[0]
	}
	return c, errs
}

// inject runs one fault of the schedule and returns what was seen of it.
func (rn *runner) inject(ctx context.Context, p plan) fault {
	rn.at(p.from)
	f := fault{plan: p, from: rn.since()}
	rn.active.Add(1)
	rn.say("%s: begin", p.name)
	before, errs := rn.counters(ctx)
	f.errs = append(f.errs, errs...)
	if p.process != "" {
		rn.restart(ctx, &f)
	} else {
		rn.takeDown(ctx, &f)
	}
	rn.say("%s: end", p.name)
	time.Sleep(rn.step) // the fault window includes a moment of recovery
	after, errs := rn.counters(ctx)
	f.errs = append(f.errs, errs...)
	for i := range rn.evals {
		f.rise.redisErrors[i] = after.redisErrors[i] - before.redisErrors[i]
		f.rise.postgresErrors[i] = after.postgresErrors[i] - before.postgresErrors[i]
	}
	f.rise.invalidationFailures = after.invalidationFailures - before.invalidationFailures
	f.to = rn.since()
	rn.active.Add(-1)
	return f
}

// takeDown stops or crashes the plan's servers, confirms each exited and closed its
// port, and at the end of the outage starts them again and confirms each came back.
func (rn *runner) takeDown(ctx context.Context, f *fault) {
	f.kills = make([]kill, len(f.servers))
	var killed [][]int
	for i, name := range f.servers {
		s := rn.servers[name]
		k := kill{what: name, pid: s.running()}
		pids := []int{k.pid}
		var err error
		switch {
		case k.pid == 0: // nothing to take down: reported as a failed fault
		case f.crash:
			pids, err = crash(k.pid)
		default:
			err = rn.stack.stop(name)
		}
		if err != nil {
			f.errs = append(f.errs, err.Error())
		}
		f.kills[i], killed = k, append(killed, pids)
	}
	for i, name := range f.servers {
		k, s := &f.kills[i], rn.servers[name]
		if k.pid == 0 {
			continue
		}
		k.exited = waitGone(killed[i], serverExitLimit)
		k.portClosed = closedWithin(s.addr, 2*time.Second)
		if k.exited {
			if err := s.forgetStale(k.pid); err != nil {
				f.errs = append(f.errs, err.Error())
			}
		}
	}
	rn.at(f.plan.to)
	if err := rn.stack.start(); err != nil {
		f.errs = append(f.errs, err.Error())
	}
	for i, name := range f.servers {
		s := rn.servers[name]
		for deadline := time.Now().Add(serverComeBackTimeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if pid := s.running(); pid != 0 && listening(s.addr) {
				f.kills[i].newPID = pid
				break
			}
		}
	}
}

// restart stops a service process gracefully and starts it again; for the admin
// service, in the middle of a write burst.
func (rn *runner) restart(ctx context.Context, f *fault) {
	p := rn.admin
	if i := slices.IndexFunc(rn.evals, func(e *proc) bool { return e.name == f.process }); i >= 0 {
		p = rn.evals[i]
	}
	if p == rn.admin {
		rn.burst.Store(true)
		defer rn.burst.Store(false)
		time.Sleep(rn.step)
		rn.lifetime(ctx, p, publishedSeries, &rn.published)
	} else {
		i := slices.Index(rn.evals, p)
		rn.lifetime(ctx, p, receivedSeries, &rn.received[i])
	}
	k := kill{what: p.name, pid: p.pid()}
	k.exited = p.stop()
	k.portClosed = closedWithin(p.addr, 2*time.Second)
	if err := p.start(ctx); err != nil {
		f.errs = append(f.errs, err.Error())
	} else {
		k.newPID = p.pid()
	}
	f.kills = []kill{k}
	if p == rn.admin {
		time.Sleep(2 * rn.step)
	}
}
