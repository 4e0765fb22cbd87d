package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// scrape reads series (a name and its labels, as exposed) from the /metrics of a
// service's operations listener, base. An unreachable listener or a missing series is an
// error: read as 0, it would let a check pass on nothing.
func scrape(ctx context.Context, base string, series ...string) ([]float64, error) {
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s/metrics answered %d", base, res.StatusCode)
	}
	return parseSeries(res.Body, series...)
}

// parseSeries finds each series in a Prometheus text exposition.
func parseSeries(r io.Reader, series ...string) ([]float64, error) {
	out := make([]float64, len(series))
	found := make([]bool, len(series))
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		for i, s := range series {
			v, ok := strings.CutPrefix(sc.Text(), s+" ")
			if !ok {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", s, err)
			}
			out[i], found[i] = f, true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for i, ok := range found {
		if !ok {
			return nil, fmt.Errorf("no series %s", series[i])
		}
	}
	return out, nil
}

// collect lets the system settle (the outbox drains, both replicas serve the last probe
// value), then gathers what the run observed into a record.
func collect(ctx context.Context, o options, rn *runner, load *evalLoad, w *writes, pr *probe) (record, error) {
	var r record
	r.outboxErr = "never read"
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		v, err := scrape(ctx, rn.admin.opsURL(), outboxDepthSeries)
		if err != nil {
			r.outboxErr = err.Error()
			continue
		}
		r.outboxDepth, r.outboxErr = v[0], ""
		if v[0] == 0 {
			break
		}
	}
	pr.mu.Lock()
	want := pr.want
	pr.mu.Unlock()
	r.converged = true
	for _, c := range pr.replicas {
		if d, _ := waitServed(c, want, time.Now(), 15*time.Second); d >= 15*time.Second {
			r.converged = false
		}
	}
	time.Sleep(500 * time.Millisecond) // the last messages arrive
	rn.lifetime(ctx, rn.admin, publishedSeries, &rn.published)
	for i, e := range rn.evals {
		rn.lifetime(ctx, e, receivedSeries, &rn.received[i])
	}
	r.published, r.received, r.metricErrs = rn.published, rn.received, rn.metricErrs

	db, err := sql.Open("pgx", o.databaseURL)
	if err != nil {
		return r, err
	}
	defer db.Close()
	w.mu.Lock()
	acked := slices.Clone(w.acked)
	w.mu.Unlock()
	var persistedAll int
	err = db.QueryRowContext(ctx, `
		SELECT (SELECT count(*) FROM flags f JOIN projects p ON p.id = f.project_id
		         WHERE p.key = $1 AND f.key = ANY($2)),
		       (SELECT count(*) FROM (SELECT entity_key FROM audit_log
		         WHERE project_key = $1 AND action = 'flag.create' AND entity_key = ANY($2)
		         GROUP BY entity_key HAVING count(*) = 1) once),
		       (SELECT count(*) FROM flags f JOIN projects p ON p.id = f.project_id WHERE p.key = $1)`,
		writeProject, acked).Scan(&r.persisted, &r.audited, &persistedAll)
	if err != nil {
		return r, fmt.Errorf("count persisted writes: %w", err)
	}
	r.acked, r.persistedUnacked = len(acked), persistedAll-r.persisted

	load.mu.Lock()
	r.evalAt, r.evalFailed, r.retries = load.ended, load.failed, load.retries
	load.mu.Unlock()
	w.log.mu.Lock()
	r.refusals = slices.Clone(w.log.refusals)
	w.log.mu.Unlock()
	pr.mu.Lock()
	r.steady, r.all, r.stale = slices.Clone(pr.steady), slices.Clone(pr.all), slices.Clone(pr.stale)
	pr.mu.Unlock()
	return r, nil
}

// report prints the faults and the measures as Markdown tables, then every problem,
// and returns whether every check passed.
func report(r record, elapsed time.Duration) bool {
	faults, rows := checks(r)
	pass := true
	verdict := func(ok bool) string {
		if ok {
			return "ok"
		}
		pass = false
		return "**FAILED**"
	}
	fmt.Printf("\n## Chaos run: %v of load, admin + 2 evaluators\n\n", elapsed.Round(time.Second))
	fmt.Println("| at | fault | confirmed by | evaluations during | writes refused | |\n|---|---|---|---|---|---|")
	for _, f := range faults {
		fmt.Printf("| %s | %s | %s | %d | %s | %s |\n", f.at, f.name, f.evidence, f.evals, f.refused, verdict(len(f.problems) == 0))
	}
	fmt.Println("\n| measure | value | target | |\n|---|---|---|---|")
	for _, row := range rows {
		v := ""
		if row.check {
			v = verdict(row.ok())
		}
		fmt.Printf("| %s | %s | %s | %s |\n", row.what, row.got, row.target, v)
	}
	var problems []string
	for _, f := range faults {
		for _, p := range f.problems {
			problems = append(problems, f.name+": "+p)
		}
	}
	for _, row := range rows {
		for _, p := range row.problems {
			problems = append(problems, row.what+": "+p)
		}
	}
	if len(problems) > 0 {
		fmt.Println("\nProblems:")
		for _, p := range problems {
			fmt.Println("  - " + p)
		}
	}
	if len(r.evalFailed) > 0 {
		fmt.Println("\nFirst failed evaluations:")
		for _, f := range r.evalFailed[:min(len(r.evalFailed), 5)] {
			fmt.Println("  " + f)
		}
	}
	if len(r.retries) > 0 {
		fmt.Println("\nRetries (first 10):")
		for _, rt := range r.retries[:min(len(r.retries), 10)] {
			fmt.Printf("  %.3fs %s: %s\n", rt.at.Seconds(), rt.replica, rt.reason)
		}
	}
	if pass {
		fmt.Println("\nchaos: every check passed")
	} else {
		fmt.Println("\nchaos: FAILED")
	}
	return pass
}
