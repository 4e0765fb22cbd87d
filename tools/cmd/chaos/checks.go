package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Minimums below which a check would pass without having tested anything (0 failed of
// 0). They sit far under what a run on a 2-core VM produces (docs/RELIABILITY.md), so a
// slow machine does not trip them, but an empty or broken load does.
const (
	minEvaluations     = 10_000
	minEvalsPerFault   = 200 // evaluations that ended during each fault window
	minAcked           = 1_000
	minRefusedPostgres = 10  // writes refused during each PostgreSQL outage
	minSteady          = 100 // probe convergences measured outside fault windows
	maxRetries         = 100
	maxStaleness       = 7 * time.Second // SNAPSHOT_MAX_AGE (5 s) + recovery; see staleBound
	maxSteadyP99       = 100 * time.Millisecond
)

// record is everything a run observed. The checks read only this, so each can be shown
// to fail on a record made up in a test.
type record struct {
	faults     []fault
	evalAt     []time.Duration // when each evaluation ended, served or failed
	evalFailed []string        // each failed evaluation: when, flag, what went wrong
	retries    []retry
	refusals   []refusal // writes (flag creations and probe flips) not acknowledged

	acked, persisted, audited int
	persistedUnacked          int // unanswered writes that did commit

	published  float64    // invalidations, summed over the admin service's lifetimes
	received   [2]float64 // per replica, summed over its lifetimes
	metricErrs []string   // scrapes of lifetime counters that failed

	outboxDepth float64
	outboxErr   string // why the outbox depth could not be read at the end

	converged bool        // both replicas served the last probe value
	stale     []staleness // per probe write and replica, when the old value was seen after the write
	steady    []time.Duration
	all       []time.Duration
}

// staleness is how long after a probe write (acknowledged at at) a replica was last seen
// serving the value it replaced.
type staleness struct{ at, d time.Duration }

// fault is one injected fault and what confirmed it took effect.
type fault struct {
	plan
	from, to time.Duration // from injection to the end of the recovery step
	kills    []kill
	rise     rises    // counters over the window
	errs     []string // scrapes or restarts that failed during the window
}

// kill is what was seen of one process a fault stopped or crashed.
type kill struct {
	what       string // redis, postgres, evaluator-2, admin
	pid        int    // before the fault; 0 when none was running
	exited     bool   // seen gone (or a zombie) after the stop or kill
	portClosed bool   // its port refused connections once it had exited
	newPID     int    // after the restart; 0 when none came back
}

// rises are the dependency-error counters' increase over a fault window.
type rises struct {
	redisErrors, postgresErrors [2]float64 // evaluator_dependency_errors_total, per replica
	invalidationFailures        float64    // admin_invalidation_failures_total
}

// retry is an evaluation moved to the other replica.
type retry struct {
	at      time.Duration
	replica string
	status  int // 0: no answer
	reason  string
}

// refusal is a write answered with anything but success, or not answered (status 0).
type refusal struct {
	at     time.Duration
	status int
}

// faultRow is a fault's line in the report; it passed when problems is empty.
type faultRow struct {
	at, name, evidence string
	evals              int
	refused            string
	problems           []string
}

// row is a measure's line in the report. Rows that are not checks only inform.
type row struct {
	what, got, target string
	check             bool
	problems          []string
}

func (r row) ok() bool { return !r.check || len(r.problems) == 0 }

// within is whether t falls in the fault's window.
func (f fault) within(t time.Duration) bool { return t >= f.from && t <= f.to }

func countWithin(ts []time.Duration, f fault) int {
	n := 0
	for _, t := range ts {
		if f.within(t) {
			n++
		}
	}
	return n
}

// refusedWithin counts the writes refused during the fault, by status.
func refusedWithin(rs []refusal, f fault) map[int]int {
	out := map[int]int{}
	for _, r := range rs {
		if f.within(r.at) {
			out[r.status]++
		}
	}
	return out
}

func statusCounts(byStatus map[int]int) string {
	if len(byStatus) == 0 {
		return "none"
	}
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(byStatus)) {
		name := fmt.Sprint(s)
		if s == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", name, byStatus[s]))
	}
	return strings.Join(parts, ", ")
}

func (k kill) problems() []string {
	if k.pid == 0 {
		return []string{k.what + " was not running before the fault (pid file stale or missing)"}
	}
	var p []string
	if !k.exited {
		p = append(p, fmt.Sprintf("%s pid %d did not exit", k.what, k.pid))
	}
	if !k.portClosed {
		p = append(p, k.what+"'s port still accepted connections")
	}
	if k.newPID == 0 || k.newPID == k.pid {
		p = append(p, k.what+" did not come back as a new process")
	}
	return p
}

func (k kill) evidence() string {
	if k.pid == 0 {
		return k.what + " not running"
	}
	parts := []string{fmt.Sprintf("%s pid %d", k.what, k.pid), "did not exit", "port still open", "not back"}
	if k.exited {
		parts[1] = "exited"
	}
	if k.portClosed {
		parts[2] = "port closed"
	}
	if k.newPID != 0 {
		parts[3] = fmt.Sprintf("back as pid %d", k.newPID)
	}
	return strings.Join(parts, ", ")
}

// checkFault confirms that a fault took effect: every process it stopped exited and came
// back, the services counted the dependency failing, the load ran through it, and only
// the writes that should have been refused were, with the status promised (503).
func checkFault(f fault, r record) faultRow {
	var p, ev []string
	for _, k := range f.kills {
		p = append(p, k.problems()...)
		ev = append(ev, k.evidence())
	}
	p = append(p, f.errs...)
	evals := countWithin(r.evalAt, f)
	if evals < minEvalsPerFault {
		p = append(p, fmt.Sprintf("%d evaluations during the fault, want ≥ %d", evals, minEvalsPerFault))
	}
	refused := refusedWithin(r.refusals, f)
	if f.breaks("redis") {
		ev = append(ev, fmt.Sprintf("Redis errors +%.0f / +%.0f", f.rise.redisErrors[0], f.rise.redisErrors[1]))
		for i, n := range f.rise.redisErrors {
			if n <= 0 {
				p = append(p, fmt.Sprintf("evaluator-%d counted no Redis error", i+1))
			}
		}
	}
	if f.breaks("redis") && !f.breaks("postgres") {
		// Writes go on, so their invalidations fail to reach Redis. With PostgreSQL down
		// too there are no writes, hence nothing to deliver.
		ev = append(ev, fmt.Sprintf("invalidation failures +%.0f", f.rise.invalidationFailures))
		if f.rise.invalidationFailures <= 0 {
			p = append(p, "the admin service counted no failed invalidation")
		}
	}
	if f.breaks("redis") && f.breaks("postgres") {
		// With both down a refresh fails through to memory; with PostgreSQL alone down,
		// Redis still answers and the evaluators have no reason to call PostgreSQL.
		ev = append(ev, fmt.Sprintf("PostgreSQL errors +%.0f / +%.0f", f.rise.postgresErrors[0], f.rise.postgresErrors[1]))
		for i, n := range f.rise.postgresErrors {
			if n <= 0 {
				p = append(p, fmt.Sprintf("evaluator-%d counted no PostgreSQL error", i+1))
			}
		}
	}
	switch {
	case f.breaks("postgres"):
		n := 0
		for status, c := range refused {
			n += c
			if status != 503 {
				p = append(p, fmt.Sprintf("%d writes refused with %s, want 503", c, statusCounts(map[int]int{status: c})))
			}
		}
		if n < minRefusedPostgres {
			p = append(p, fmt.Sprintf("%d writes refused, want ≥ %d", n, minRefusedPostgres))
		}
	case f.process == "admin":
		if refused[0] == 0 {
			p = append(p, "no write went unanswered while the admin service was down")
		}
	case len(refused) > 0:
		p = append(p, "writes refused: "+statusCounts(refused)+", want none")
	}
	return faultRow{
		at:       fmt.Sprintf("%.1f → %.1f s", f.from.Seconds(), f.to.Seconds()),
		name:     f.name,
		evidence: strings.Join(ev, "; "),
		evals:    evals,
		refused:  statusCounts(refused),
		problems: p,
	}
}

// checks judges a run: one row per fault, then the measures.
func checks(r record) ([]faultRow, []row) {
	var faults []faultRow
	for _, f := range r.faults {
		faults = append(faults, checkFault(f, r))
	}
	var rows []row
	check := func(what, got, target string, problems ...string) {
		var p []string
		for _, s := range problems {
			if s != "" {
				p = append(p, s)
			}
		}
		rows = append(rows, row{what: what, got: got, target: target, check: true, problems: p})
	}
	info := func(what, got string) { rows = append(rows, row{what: what, got: got}) }
	when := func(failed bool, format string, args ...any) string {
		if failed {
			return fmt.Sprintf(format, args...)
		}
		return ""
	}

	total, failed := len(r.evalAt), len(r.evalFailed)
	check("failed evaluations", fmt.Sprintf("%d of %d", failed, total), fmt.Sprintf("0, of ≥ %d", minEvaluations),
		when(failed > 0, "%d evaluations failed", failed),
		when(total < minEvaluations, "only %d evaluations", total))

	unexplained := 0
	for _, rt := range r.retries {
		if !slices.ContainsFunc(r.faults, func(f fault) bool { return f.process == rt.replica && f.within(rt.at) }) {
			unexplained++
		}
	}
	check("evaluations retried on the other replica (connection refused or reset, 502, 503, 504)",
		retrySummary(r.retries), fmt.Sprintf("≤ %d, all while the replica retried was restarting", maxRetries),
		when(len(r.retries) > maxRetries, "%d retries", len(r.retries)),
		when(unexplained > 0, "%d retries while their replica was not restarting", unexplained))

	check("admin writes acknowledged → persisted", fmt.Sprintf("%d → %d", r.acked, r.persisted), fmt.Sprintf("all, of ≥ %d", minAcked),
		when(r.persisted != r.acked, "%d acknowledged writes not persisted", r.acked-r.persisted),
		when(r.acked < minAcked, "only %d writes acknowledged", r.acked))
	check("acknowledged writes audited exactly once", fmt.Sprintf("%d of %d", r.audited, r.acked), "all",
		when(r.audited != r.acked, "%d acknowledged writes without exactly one audit row", r.acked-r.audited))

	outside := map[int]int{}
	for _, rf := range r.refusals {
		if !slices.ContainsFunc(r.faults, func(f fault) bool { return f.within(rf.at) }) {
			outside[rf.status]++
		}
	}
	check("writes refused outside fault windows", statusCounts(outside), "none",
		when(len(outside) > 0, "writes refused with no fault active"))
	all := map[int]int{}
	for _, rf := range r.refusals {
		all[rf.status]++
	}
	info("writes refused or unanswered, all windows (flag creations and probe flips)", statusCounts(all))
	info("unanswered writes that did persist", fmt.Sprint(r.persistedUnacked))
	info("invalidations published (admin, all lifetimes)", fmt.Sprintf("%.0f", r.published))
	info("invalidations received: evaluator-1 / evaluator-2 (all lifetimes)", fmt.Sprintf("%.0f / %.0f", r.received[0], r.received[1]))
	check("metrics scrapes answered", fmt.Sprintf("%d failed", len(r.metricErrs)), "all",
		strings.Join(r.metricErrs, "; "))

	drained := r.outboxErr == "" && r.outboxDepth == 0
	got := fmt.Sprintf("depth %.0f", r.outboxDepth)
	if r.outboxErr != "" {
		got = "unreadable"
	}
	check("outbox drained at the end", got, "depth 0, read from /metrics",
		when(r.outboxErr != "", "outbox depth unreadable: %s", r.outboxErr),
		when(!drained && r.outboxErr == "", "%.0f invalidations left", r.outboxDepth))
	check("both replicas serve the last probe value", fmt.Sprint(r.converged), "true",
		when(!r.converged, "a replica did not converge"))
	var worst, worstBoth time.Duration
	over := 0
	for _, st := range r.stale {
		bound, both := staleBound(st, r.faults)
		if st.d > bound {
			over++
		}
		if both {
			worstBoth = max(worstBoth, st.d)
		} else {
			worst = max(worst, st.d)
		}
	}
	check(fmt.Sprintf("largest staleness: other writes / writes caught by Redis and PostgreSQL down together (n=%d probe writes)", len(r.all)),
		ms(worst)+" / "+ms(worstBoth),
		fmt.Sprintf("≤ %v (SNAPSHOT_MAX_AGE 5 s + recovery) / until both are back + a step", maxStaleness),
		when(over > 0, "%d replicas served a replaced value past the bound", over),
		when(len(r.all) < minSteady, "only %d probe writes", len(r.all)))
	p99 := quantile(r.steady, 0.99)
	check(fmt.Sprintf("propagation outside fault windows, both replicas: p50 / p99 (n=%d)", len(r.steady)),
		ms(quantile(r.steady, 0.5))+" / "+ms(p99), fmt.Sprintf("p99 ≤ %v, n ≥ %d", maxSteadyP99, minSteady),
		when(p99 > maxSteadyP99, "p99 %s", ms(p99)),
		when(len(r.steady) < minSteady, "only %d measurements", len(r.steady)))
	info(fmt.Sprintf("convergence over all probe writes: p50 / p99 / max (n=%d)", len(r.all)),
		ms(quantile(r.all, 0.5))+" / "+ms(quantile(r.all, 0.99))+" / "+ms(quantile(r.all, 1)))
	return faults, rows
}

// staleBound is how long a replica may serve the value a write replaced: the maximum
// age of a snapshot plus recovery. When Redis and PostgreSQL both go down before the
// replica has the write (its invalidation not yet delivered), nothing fresher than
// memory exists until they are back, so the bound runs to the end of that window (which
// includes a recovery step). both tells which case applied.
func staleBound(st staleness, faults []fault) (bound time.Duration, both bool) {
	bound = maxStaleness
	for _, f := range faults {
		if f.breaks("redis") && f.breaks("postgres") && f.from <= st.at+st.d && f.to >= st.at {
			bound, both = max(bound, f.to-st.at), true
		}
	}
	return bound, both
}

// retrySummary counts retries by replica, status and reason.
func retrySummary(rs []retry) string {
	if len(rs) == 0 {
		return "0"
	}
	by := map[string]int{}
	for _, r := range rs {
		what := r.reason
		if r.status != 0 {
			what = fmt.Sprint(r.status)
		}
		by[r.replica+" "+what]++
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(by)) {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, by[k]))
	}
	return fmt.Sprintf("%d: %s", len(rs), strings.Join(parts, ", "))
}

func quantile(v []time.Duration, q float64) time.Duration {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
