package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
	if r.p50 <= 0 || r.p99 <= 0 {
		return r, fmt.Errorf("no 50%% and 99%% latencies in wrk's output:\n%s", out)
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

// loadRun is one scenario of the load step, and the floor it is held to.
type loadRun struct {
	scenario
	floor int // index of the floor scenario; -1 for a floor
}

func load(ctx context.Context, w io.Writer, o options, s seeded, t *targets) error {
	const ctxBody = `{"context":{"targetingKey":"user-USER","plan":"pro","country":"DE","app_version":"2.4.1","email":"userUSER@corp.test"}}`
	const query = "?key=user-USER&plan=pro&country=DE&app_version=2.4.1&email=userUSER%40corp.test"
	runs := []loadRun{
		// The floors get the same requests, SDK key included (which they ignore), so
		// that net/http parses the same bytes for both.
		{scenario{name: "floor GET: bare echo, query decoded", base: o.floor, method: "GET", key: s.benchKey, path: "/api/v1/evaluate/" + singleFlag + query}, -1},
		{scenario{name: "floor POST: bare echo, body decoded", base: o.floor, method: "POST", key: s.benchKey, path: "/ofrep/v1/evaluate/flags/" + singleFlag, body: ctxBody}, -1},
		{scenario{name: "native single: GET /api/v1/evaluate/{flag}", base: o.evaluator, method: "GET", key: s.benchKey,
			path: "/api/v1/evaluate/" + singleFlag + query}, 0},
		{scenario{name: "OFREP single: POST /ofrep/v1/evaluate/flags/{key}", base: o.evaluator, method: "POST", key: s.benchKey,
			path: "/ofrep/v1/evaluate/flags/" + singleFlag, body: ctxBody}, 1},
		{scenario{name: fmt.Sprintf("OFREP bulk of %d flags: POST /ofrep/v1/evaluate/flags", benchFlags), base: o.evaluator, method: "POST", key: s.benchKey,
			path: "/ofrep/v1/evaluate/flags", body: ctxBody}, 1},
		{scenario{name: fmt.Sprintf("native bulk of %d flags: POST /api/v1/evaluate", benchFlags), base: o.evaluator, method: "POST", key: s.benchKey,
			path: "/api/v1/evaluate", body: ctxBody}, 1},
	}
	fmt.Fprintf(w, "## Load (wrk -t%d -c%d, %v per run, %d rounds, on loopback)\n\n", o.threads, o.connections, o.duration, o.rounds)
	fmt.Fprintf(w, "Each round runs every scenario once, floors included, so that a floor and the scenarios held to it share the\n"+
		"machine's state of that minute; the figures are the medians of the rounds, each ratio the median scenario's over its floor's median.\n"+
		"Every scenario had a %v warm-up first.\n\n", o.warmup)
	for _, r := range runs {
		// Each scenario is asked once first, and must answer what it claims to
		// measure: a load of errors or of empty answers would otherwise pass.
		if err := probe(ctx, r.scenario, r.floor < 0); err != nil {
			return err
		}
		if o.warmup > 0 {
			if _, err := wrk(ctx, o, r.scenario, o.warmup); err != nil {
				return err
			}
		}
	}
	got := make([][]result, len(runs))
	for round := range o.rounds {
		fmt.Fprintf(os.Stderr, "bench: load round %d of %d\n", round+1, o.rounds)
		for i, r := range runs {
			res, err := wrk(ctx, o, r.scenario, o.duration)
			if err != nil {
				return err
			}
			got[i] = append(got[i], res)
		}
	}
	med := make([]result, len(runs))
	for i := range runs {
		med[i] = medianResult(got[i])
	}
	fmt.Fprintln(w, "| scenario | req/s (rounds) | req/s | p50 | p99 | errors | req/s ÷ floor | p50 ÷ floor | p99 ÷ floor |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	errs := 0
	for i, r := range runs {
		m := med[i]
		var each []string
		for _, x := range got[i] {
			each = append(each, fmt.Sprintf("%.0f", x.rps))
			errs += x.errors
		}
		ratios := " | | " // a floor: three empty cells
		if r.floor >= 0 {
			f := med[r.floor]
			ratios = fmt.Sprintf("%.2f× | %.2f× | %.2f×", m.rps/f.rps, float64(m.p50)/float64(f.p50), float64(m.p99)/float64(f.p99))
		}
		fmt.Fprintf(w, "| %s | %s | %.0f | %v | %v | %d | %s |\n", r.name, strings.Join(each, " / "), m.rps, roundDuration(m.p50), roundDuration(m.p99), m.errors, ratios)
	}
	fmt.Fprintln(w)
	ratio := func(i int) (rps, p99 float64) {
		f := med[runs[i].floor]
		return med[i].rps / f.rps, float64(med[i].p99) / float64(f.p99)
	}
	for _, i := range []int{2, 3} {
		rps, p99 := ratio(i)
		name := strings.SplitN(runs[i].name, ":", 2)[0]
		t.add(name+": req/s ÷ floor", rps >= 0.9, fmt.Sprintf("%.2f×", rps), "≥ 0.9×")
		t.add(name+": p99 ÷ floor", p99 <= 1.5, fmt.Sprintf("%.2f×", p99), "≤ 1.5×")
	}
	for _, i := range []int{4, 5} {
		rps, _ := ratio(i)
		name := strings.SplitN(runs[i].name, ":", 2)[0]
		t.add(name+": req/s ÷ floor", rps >= 0.35, fmt.Sprintf("%.2f×", rps), "≥ 0.35×")
	}
	t.add("failed requests in the load runs", errs == 0, strconv.Itoa(errs), "0")
	return nil
}

// medianResult is the median of each figure over the rounds.
func medianResult(rs []result) result {
	var rps, p50, p99, errs []float64
	for _, r := range rs {
		rps = append(rps, r.rps)
		p50 = append(p50, float64(r.p50))
		p99 = append(p99, float64(r.p99))
		errs = append(errs, float64(r.errors))
	}
	return result{rps: median(rps), p50: time.Duration(median(p50)), p99: time.Duration(median(p99)), errors: int(median(errs))}
}

// probe sends a scenario's request once and checks its answer: 200 for a floor; for
// the evaluator a value and a variant for a single flag, every flag of the project
// for a bulk one.
func probe(ctx context.Context, s scenario, floor bool) error {
	var body io.Reader
	if s.body != "" {
		body = strings.NewReader(strings.ReplaceAll(s.body, "USER", "1"))
	}
	req, err := http.NewRequestWithContext(ctx, s.method, s.base+strings.ReplaceAll(s.path, "USER", "1"), body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if s.key != "" {
		req.Header.Set("Authorization", "Bearer "+s.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %d %.200s", s.name, resp.StatusCode, raw)
	}
	if floor {
		return nil
	}
	var answer struct {
		Flags   json.RawMessage `json:"flags"`
		Value   any             `json:"value"`
		Variant string          `json:"variant"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		return fmt.Errorf("%s: %w: %.200s", s.name, err, raw)
	}
	if answer.Flags == nil {
		if answer.Value == nil || answer.Variant == "" {
			return fmt.Errorf("%s: no value or variant in %.200s", s.name, raw)
		}
		return nil
	}
	var list []json.RawMessage
	var byKey map[string]json.RawMessage
	if json.Unmarshal(answer.Flags, &list) != nil && json.Unmarshal(answer.Flags, &byKey) != nil {
		return fmt.Errorf("%s: flags neither a list nor an object: %.200s", s.name, raw)
	}
	if n := len(list) + len(byKey); n != benchFlags {
		return fmt.Errorf("%s: %d flags answered, want %d", s.name, n, benchFlags)
	}
	return nil
}
