package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"

	"github.com/switchyard/switchyard/services/evaluator/internal/adminclient"
)

// metric reads one unlabelled sample from the /metrics of a service's operations
// listener, base (0 when absent or unreachable).
func metric(ctx context.Context, base, name string) float64 {
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(cctx, http.MethodGet, base+"/metrics", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f
		}
	}
	return 0
}

type reportInput struct {
	admin      *proc
	evals      []*proc
	replicas   []*adminclient.Client
	load       *evalLoad
	writes     *writes
	probe      *probe
	published  *float64
	received   *[2]float64
	scrape     func()
	scrapeEval func(int)
	elapsed    time.Duration
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

func report(ctx context.Context, o options, in reportInput) (bool, error) {
	// Settle: the outbox drains and both replicas serve the last probe value.
	drained := false
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if metric(ctx, in.admin.opsURL(), "switchyard_admin_outbox_depth") == 0 {
			drained = true
			break
		}
	}
	in.probe.mu.Lock()
	want := in.probe.want
	in.probe.mu.Unlock()
	converged := true
	for _, r := range in.replicas {
		if d, _ := waitServed(r, want, time.Now(), 15*time.Second); d >= 15*time.Second {
			converged = false
		}
	}
	time.Sleep(500 * time.Millisecond) // the last messages arrive
	in.scrape()
	for i := range in.evals {
		in.scrapeEval(i)
	}

	db, err := sql.Open("pgx", o.databaseURL)
	if err != nil {
		return false, err
	}
	defer db.Close()
	in.writes.mu.Lock()
	acked := slices.Clone(in.writes.acked)
	in.writes.mu.Unlock()
	var persisted, audited, persistedAll int
	err = db.QueryRowContext(ctx, `
		SELECT (SELECT count(*) FROM flags f JOIN projects p ON p.id = f.project_id
		         WHERE p.key = $1 AND f.key = ANY($2)),
		       (SELECT count(*) FROM (SELECT entity_key FROM audit_log
		         WHERE project_key = $1 AND action = 'flag.create' AND entity_key = ANY($2)
		         GROUP BY entity_key HAVING count(*) = 1) once),
		       (SELECT count(*) FROM flags f JOIN projects p ON p.id = f.project_id WHERE p.key = $1)`,
		writeProject, acked).Scan(&persisted, &audited, &persistedAll)
	if err != nil {
		return false, fmt.Errorf("count persisted writes: %w", err)
	}

	p := in.probe
	p.mu.Lock()
	steady, allLat, maxStale, probeFailed := slices.Clone(p.steady), slices.Clone(p.all), p.maxStale, p.writeFailed
	p.mu.Unlock()
	l := in.load
	pass := true
	row := func(what, got, target string, ok bool) {
		verdict := "ok"
		if !ok {
			verdict = "**FAILED**"
			pass = false
		}
		fmt.Printf("| %s | %s | %s | %s |\n", what, got, target, verdict)
	}
	info := func(what, got string) { fmt.Printf("| %s | %s | | |\n", what, got) }
	fmt.Printf("\n## Chaos run: %v, admin + 2 evaluators, Redis and PostgreSQL stopped and restarted, an evaluator and the admin restarted\n\n", in.elapsed.Round(time.Second))
	fmt.Println("| measure | value | target | |\n|---|---|---|---|")
	row("failed evaluations", fmt.Sprintf("%d of %d", l.fail.Load(), l.ok.Load()+l.fail.Load()), "0", l.fail.Load() == 0)
	info("evaluations retried on the other replica", strconv.FormatInt(l.retried.Load(), 10))
	row("admin writes acknowledged → persisted", fmt.Sprintf("%d → %d", len(acked), persisted), "all", persisted == len(acked))
	row("acknowledged writes audited exactly once", fmt.Sprintf("%d of %d", audited, len(acked)), "all", audited == len(acked))
	info("writes refused (an error answer) / unanswered (admin restarting)", fmt.Sprintf("%d / %d", in.writes.refused.Load(), in.writes.unknown.Load()))
	info("unanswered writes that did persist", strconv.Itoa(persistedAll-persisted))
	info("invalidations published (admin, all lifetimes)", fmt.Sprintf("%.0f", *in.published))
	info("invalidations received: evaluator-1 / evaluator-2 (all lifetimes)", fmt.Sprintf("%.0f / %.0f", in.received[0], in.received[1]))
	row("outbox drained at the end", strconv.FormatBool(drained), "true", drained)
	row("both replicas serve the last probe value", strconv.FormatBool(converged), "true", converged)
	row("largest staleness observed (a replica serving the value before an acknowledged write)", ms(maxStale),
		"≤ SNAPSHOT_MAX_AGE (5 s) + recovery", maxStale <= 7*time.Second)
	row(fmt.Sprintf("propagation outside fault windows, both replicas: p50 / p99 (n=%d)", len(steady)),
		ms(quantile(steady, 0.5))+" / "+ms(quantile(steady, 0.99)), "p99 ≤ 100 ms", len(steady) > 0 && quantile(steady, 0.99) <= 100*time.Millisecond)
	info(fmt.Sprintf("convergence over all probe writes: p50 / p99 / max (n=%d)", len(allLat)),
		ms(quantile(allLat, 0.5))+" / "+ms(quantile(allLat, 0.99))+" / "+ms(quantile(allLat, 1)))
	info("probe writes refused while PostgreSQL or the admin was down", strconv.Itoa(probeFailed))
	if len(l.failures) > 0 {
		fmt.Println("\nFirst failed evaluations:")
		for _, f := range l.failures {
			fmt.Println("  " + f)
		}
	}
	if pass {
		fmt.Println("\nchaos: every check passed")
	} else {
		fmt.Println("\nchaos: FAILED")
	}
	return pass, nil
}
