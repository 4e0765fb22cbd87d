package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// scenario is one wrk run: a request shape against one server.
type scenario struct {
	name, base, method, path, body, key string
}

// luaScript varies the targeting key per request (as real traffic does) with the same
// cost for every scenario, the floor included.
func luaScript(s scenario) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %q\n", s.method)
	b.WriteString("wrk.headers[\"Content-Type\"] = \"application/json\"\n")
	if s.key != "" {
		fmt.Fprintf(&b, "wrk.headers[\"Authorization\"] = %q\n", "Bearer "+s.key)
	}
	b.WriteString("local n = 0\nrequest = function()\n  n = n + 1\n")
	path := strconv.Quote(s.path)
	body := "nil"
	if s.body != "" {
		body = strings.ReplaceAll(strconv.Quote(s.body), "USER", `" .. n .. "`)
	}
	path = strings.ReplaceAll(path, "USER", `" .. n .. "`)
	fmt.Fprintf(&b, "  return wrk.format(nil, %s, nil, %s)\nend\n", path, body)
	return b.String()
}

// result is what wrk measured.
type result struct {
	rps      float64
	p50, p99 time.Duration
	errors   int // non-2xx answers and socket errors
}

var (
	rpsLine  = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	pctLine  = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
	non2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	sockErrs = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func parseWrk(out string) (result, error) {
	var r result
	m := rpsLine.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("no Requests/sec in wrk's output:\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, m := range pctLine.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]
		d := time.Duration(v * float64(unit))
		if m[1] == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if m := non2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.Atoi(m[1])
		r.errors += n
	}
	if m := sockErrs.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.Atoi(s)
			r.errors += n
		}
	}
	return r, nil
}

func wrk(ctx context.Context, o options, s scenario, d time.Duration) (result, error) {
	dir, err := os.MkdirTemp("", "switchyard-bench")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "request.lua")
	if err := os.WriteFile(script, []byte(luaScript(s)), 0o600); err != nil {
		return result{}, err
	}
	cmd := exec.CommandContext(ctx, "wrk", "-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.connections),
		"-d", fmt.Sprintf("%ds", max(1, int(d.Seconds()))), "--latency", "-s", script, s.base)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk %s: %w\n%s", s.name, err, out)
	}
	return parseWrk(string(out))
}

func load(ctx context.Context, w io.Writer, o options, s seeded) error {
	const ctxBody = `{"context":{"targetingKey":"user-USER","plan":"pro","country":"DE","app_version":"2.4.1","email":"userUSER@corp.test"}}`
	scenarios := []scenario{
		{name: "floor: bare echo, fixed JSON", base: o.floor, method: "GET", path: "/api/v1/evaluate/" + singleFlag + "?key=user-USER&plan=pro&country=DE"},
		{name: "single flag: GET /api/v1/evaluate/{flag}", base: o.evaluator, method: "GET", key: s.benchKey,
			path: "/api/v1/evaluate/" + singleFlag + "?key=user-USER&plan=pro&country=DE"},
		{name: "OFREP single: POST /ofrep/v1/evaluate/flags/{key}", base: o.evaluator, method: "POST", key: s.benchKey,
			path: "/ofrep/v1/evaluate/flags/" + singleFlag, body: ctxBody},
		{name: fmt.Sprintf("bulk of %d flags: POST /api/v1/evaluate", benchFlags), base: o.evaluator, method: "POST", key: s.benchKey,
			path: "/api/v1/evaluate", body: ctxBody},
	}
	fmt.Fprintf(w, "## Load (wrk -t%d -c%d, %v per run after a %v warm-up, on loopback)\n\n", o.threads, o.connections, o.duration, o.warmup)
	fmt.Fprintln(w, "| scenario | req/s | p50 | p99 | errors | req/s ÷ floor | p50 ÷ floor | p99 ÷ floor |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	var floor result
	results := map[string]result{}
	for i, sc := range scenarios {
		if o.warmup > 0 {
			if _, err := wrk(ctx, o, sc, o.warmup); err != nil {
				return err
			}
		}
		r, err := wrk(ctx, o, sc, o.duration)
		if err != nil {
			return err
		}
		if i == 0 {
			floor = r
		}
		results[sc.name] = r
		fmt.Fprintf(w, "| %s | %.0f | %v | %v | %d | %.2f× | %.2f× | %.2f× |\n", sc.name, r.rps, r.p50, r.p99, r.errors,
			r.rps/floor.rps, float64(r.p50)/float64(floor.p50), float64(r.p99)/float64(floor.p99))
	}
	single := results[scenarios[1].name]
	check := func(what string, ok bool, got, target string) {
		verdict := "met"
		if !ok {
			verdict = "**missed**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", what, got, target, verdict)
	}
	fmt.Fprintf(w, "\nTargets for single-flag evaluation, against the floor of the same run:\n\n")
	fmt.Fprintln(w, "| measure | got | target | |\n|---|---|---|---|")
	rr, p50r, p99r := single.rps/floor.rps, float64(single.p50)/float64(floor.p50), float64(single.p99)/float64(floor.p99)
	check("req/s ÷ floor", rr >= 0.8, fmt.Sprintf("%.2f×", rr), "≥ 0.8×")
	check("p50 ÷ floor", p50r <= 1.2, fmt.Sprintf("%.2f×", p50r), "≤ 1.2×")
	check("p99 ÷ floor", p99r <= 1.5, fmt.Sprintf("%.2f×", p99r), "≤ 1.5×")
	errs := 0
	for _, r := range results {
		errs += r.errors
	}
	check("failed requests", errs == 0, strconv.Itoa(errs), "0")
	fmt.Fprintln(w)
	return nil
}
