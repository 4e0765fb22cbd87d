package main

import (
	"strings"
	"testing"
	"time"
)

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// passingRecord is a run in which every fault of the schedule took effect and every
// check holds, with counts just above the minimums where they have one.
func passingRecord() record {
	var r record
	for _, p := range schedule {
		f := fault{plan: p, from: sec(p.from), to: sec(p.to + 1.5)}
		names := p.servers
		if p.process != "" {
			names = []string{p.process}
		}
		for _, n := range names {
			f.kills = append(f.kills, kill{what: n, pid: 100, exited: true, portClosed: true, newPID: 200})
		}
		f.rise = rises{redisErrors: [2]float64{3, 4}, postgresErrors: [2]float64{1, 2}, invalidationFailures: 10}
		switch {
		case p.breaks("postgres"):
			for i := range minRefusedPostgres {
				r.refusals = append(r.refusals, refusal{at: f.from + time.Duration(i)*time.Millisecond, status: 503})
			}
		case p.process == "admin":
			r.refusals = append(r.refusals, refusal{at: f.from + sec(1.2), status: 0})
		case p.process == "evaluator-2":
			r.retries = append(r.retries, retry{at: f.from + sec(0.1), replica: "evaluator-2", reason: "connection refused"})
		}
		r.faults = append(r.faults, f)
	}
	for t := time.Duration(0); t < sec(loadSteps); t += 5 * time.Millisecond {
		r.evalAt = append(r.evalAt, t)
	}
	r.acked, r.persisted, r.audited = minAcked, minAcked, minAcked
	r.published, r.received = 900, [2]float64{890, 880}
	r.converged = true
	r.stale = []staleness{{at: sec(5), d: 4900 * time.Millisecond}}
	both := faultNamed(&r, "Redis and PostgreSQL")
	// Acknowledged just before both went down: stale until they are back.
	r.stale = append(r.stale, staleness{at: both.from - sec(0.2), d: both.to - both.from})
	for range minSteady {
		r.steady = append(r.steady, 6*time.Millisecond)
		r.all = append(r.all, 6*time.Millisecond)
	}
	return r
}

// faultNamed finds a fault of the record by the start of its name.
func faultNamed(r *record, prefix string) *fault {
	for i := range r.faults {
		if strings.HasPrefix(r.faults[i].name, prefix) {
			return &r.faults[i]
		}
	}
	panic("no fault " + prefix)
}

func TestPassingRecordPasses(t *testing.T) {
	faults, rows := checks(passingRecord())
	if len(faults) != len(schedule) {
		t.Fatalf("%d fault rows, want %d", len(faults), len(schedule))
	}
	for _, f := range faults {
		if len(f.problems) > 0 {
			t.Errorf("fault %q: %v", f.name, f.problems)
		}
	}
	for _, r := range rows {
		if !r.ok() {
			t.Errorf("%q: %v", r.what, r.problems)
		}
	}
}

// checkCases each break one thing in a passing record; the check named by target (the
// start of a fault's name or of a measure) must fail with a problem containing want.
var checkCases = []struct {
	name, target, want string
	mutate             func(r *record)
}{
	// Faults: the process went away and came back.
	{"server not running before the fault", "Redis stopped", "not running before the fault",
		func(r *record) { faultNamed(r, "Redis stopped").kills[0].pid = 0 }},
	{"server never exited", "PostgreSQL crashed", "did not exit",
		func(r *record) { faultNamed(r, "PostgreSQL crashed").kills[0].exited = false }},
	{"port still open", "Redis crashed", "still accepted connections",
		func(r *record) { faultNamed(r, "Redis crashed").kills[0].portClosed = false }},
	{"server not back", "Redis and PostgreSQL", "did not come back",
		func(r *record) { faultNamed(r, "Redis and PostgreSQL").kills[1].newPID = 0 }},
	{"same pid after the restart", "evaluator-2 restarted", "did not come back",
		func(r *record) { faultNamed(r, "evaluator-2 restarted").kills[0].newPID = 100 }},
	{"a scrape failed during the fault", "PostgreSQL stopped", "connection refused",
		func(r *record) {
			f := faultNamed(r, "PostgreSQL stopped")
			f.errs = append(f.errs, "evaluator-1: connection refused")
		}},
	// Faults: the load ran through them.
	{"no evaluations during the fault", "Redis crashed", "evaluations during the fault",
		func(r *record) {
			f := faultNamed(r, "Redis crashed")
			var kept []time.Duration
			for _, t := range r.evalAt {
				if !f.within(t) {
					kept = append(kept, t)
				}
			}
			r.evalAt = kept
		}},
	// Faults: the services saw the dependency fail.
	{"evaluator-1 saw no Redis error", "Redis stopped", "evaluator-1 counted no Redis error",
		func(r *record) { faultNamed(r, "Redis stopped").rise.redisErrors[0] = 0 }},
	{"evaluator-2 saw no Redis error", "Redis crashed", "evaluator-2 counted no Redis error",
		func(r *record) { faultNamed(r, "Redis crashed").rise.redisErrors[1] = 0 }},
	{"no failed invalidation while Redis was down", "Redis stopped", "no failed invalidation",
		func(r *record) { faultNamed(r, "Redis stopped").rise.invalidationFailures = 0 }},
	{"no PostgreSQL error with both down", "Redis and PostgreSQL", "evaluator-2 counted no PostgreSQL error",
		func(r *record) { faultNamed(r, "Redis and PostgreSQL").rise.postgresErrors[1] = 0 }},
	// Faults: writes refused as promised, and only then.
	{"writes refused with 500 while PostgreSQL was down", "PostgreSQL stopped", "want 503",
		func(r *record) {
			r.refusals = append(r.refusals, refusal{at: faultNamed(r, "PostgreSQL stopped").from + sec(1), status: 500})
		}},
	{"too few writes refused while PostgreSQL was down", "PostgreSQL crashed", "writes refused, want ≥",
		func(r *record) {
			f := faultNamed(r, "PostgreSQL crashed")
			var kept []refusal
			for _, rf := range r.refusals {
				if !f.within(rf.at) {
					kept = append(kept, rf)
				}
			}
			r.refusals = kept
		}},
	{"no write unanswered while the admin was down", "admin restarted", "no write went unanswered",
		func(r *record) {
			f := faultNamed(r, "admin restarted")
			for i := range r.refusals {
				if f.within(r.refusals[i].at) {
					r.refusals[i].status = 503
				}
			}
		}},
	{"writes refused while only Redis was down", "Redis stopped", "want none",
		func(r *record) {
			r.refusals = append(r.refusals, refusal{at: faultNamed(r, "Redis stopped").from + sec(2), status: 503})
		}},
	{"writes refused while an evaluator restarted", "evaluator-2 restarted", "want none",
		func(r *record) {
			r.refusals = append(r.refusals, refusal{at: faultNamed(r, "evaluator-2 restarted").from, status: 0})
		}},
	// Measures.
	{"a failed evaluation", "failed evaluations", "1 evaluations failed",
		func(r *record) {
			r.evalFailed = append(r.evalFailed, "1.000s eval-01 on evaluator-1: served false, want true")
		}},
	{"too few evaluations", "failed evaluations", "only",
		func(r *record) { r.evalAt = r.evalAt[:minEvaluations-1] }},
	{"too many retries", "evaluations retried", "retries",
		func(r *record) {
			f := faultNamed(r, "evaluator-2 restarted")
			for range maxRetries {
				r.retries = append(r.retries, retry{at: f.from, replica: "evaluator-2", status: 503, reason: "503"})
			}
		}},
	{"a retry of a replica that was not restarting", "evaluations retried", "not restarting",
		func(r *record) {
			r.retries = append(r.retries, retry{at: faultNamed(r, "evaluator-2 restarted").from, replica: "evaluator-1", reason: "connection refused"})
		}},
	{"a retry outside the restart", "evaluations retried", "not restarting",
		func(r *record) {
			r.retries = append(r.retries, retry{at: sec(1), replica: "evaluator-2", status: 502, reason: "502"})
		}},
	{"an acknowledged write lost", "admin writes acknowledged", "not persisted",
		func(r *record) { r.persisted-- }},
	{"too few acknowledged writes", "admin writes acknowledged", "only",
		func(r *record) { r.acked, r.persisted, r.audited = 0, 0, 0 }},
	{"a write audited twice or not at all", "acknowledged writes audited", "without exactly one audit row",
		func(r *record) { r.audited-- }},
	{"a write refused with no fault active", "writes refused outside fault windows", "no fault active",
		func(r *record) { r.refusals = append(r.refusals, refusal{at: sec(1), status: 500}) }},
	{"a lifetime scrape failed", "metrics scrapes answered", "admin",
		func(r *record) { r.metricErrs = append(r.metricErrs, "admin at 57.0s: no series x") }},
	{"outbox depth unreadable", "outbox drained", "unreadable",
		func(r *record) { r.outboxErr = "connection refused" }},
	{"outbox not drained", "outbox drained", "invalidations left",
		func(r *record) { r.outboxDepth = 3 }},
	{"a replica not converged", "both replicas serve", "did not converge",
		func(r *record) { r.converged = false }},
	{"staleness past the bound", "largest staleness", "past the bound",
		func(r *record) { r.stale = append(r.stale, staleness{at: sec(30), d: maxStaleness + time.Millisecond}) }},
	{"staleness past the end of both outages", "largest staleness", "past the bound",
		func(r *record) {
			f := faultNamed(r, "Redis and PostgreSQL")
			r.stale = append(r.stale, staleness{at: f.from - sec(0.2), d: f.to - f.from + sec(0.3)})
		}},
	{"staleness from a Redis outage alone is not excused", "largest staleness", "past the bound",
		func(r *record) {
			f := faultNamed(r, "Redis crashed")
			r.stale = append(r.stale, staleness{at: f.from - sec(0.2), d: f.to - f.from})
		}},
	{"too few probe writes", "largest staleness", "only",
		func(r *record) { r.all = r.all[:minSteady-1] }},
	{"propagation p99 too slow", "propagation outside fault windows", "p99",
		func(r *record) {
			for i := range r.steady {
				r.steady[i] = maxSteadyP99 + time.Millisecond
			}
		}},
	{"too few propagation measurements", "propagation outside fault windows", "only",
		func(r *record) { r.steady = r.steady[:minSteady-1] }},
}

func TestEachCheckFails(t *testing.T) {
	for _, c := range checkCases {
		t.Run(c.name, func(t *testing.T) {
			r := passingRecord()
			c.mutate(&r)
			faults, rows := checks(r)
			var problems []string
			found := false
			for _, f := range faults {
				if strings.HasPrefix(f.name, c.target) {
					found, problems = true, f.problems
				}
			}
			for _, row := range rows {
				if strings.HasPrefix(row.what, c.target) {
					found, problems = true, row.problems
				}
			}
			if !found {
				t.Fatalf("no check %q", c.target)
			}
			if !strings.Contains(strings.Join(problems, "; "), c.want) {
				t.Errorf("check %q passed or failed for another reason: %v, want a problem with %q", c.target, problems, c.want)
			}
		})
	}
}

// Every check the report makes has at least one case above that makes it fail.
func TestEveryCheckHasAFailingCase(t *testing.T) {
	covered := func(name string) bool {
		for _, c := range checkCases {
			if strings.HasPrefix(name, c.target) {
				return true
			}
		}
		return false
	}
	faults, rows := checks(passingRecord())
	for _, f := range faults {
		if !covered(f.name) {
			t.Errorf("fault %q has no failing case", f.name)
		}
	}
	for _, r := range rows {
		if r.check && !covered(r.what) {
			t.Errorf("check %q has no failing case", r.what)
		}
	}
}

func TestStatusCounts(t *testing.T) {
	for _, c := range []struct {
		in   map[int]int
		want string
	}{
		{nil, "none"},
		{map[int]int{503: 4}, "503 ×4"},
		{map[int]int{503: 4, 0: 2, 500: 1}, "no answer ×2, 500 ×1, 503 ×4"},
	} {
		if got := statusCounts(c.in); got != c.want {
			t.Errorf("statusCounts(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}
