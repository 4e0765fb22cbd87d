// Command propagation measures how long a change takes to reach evaluations: it flips a
// probe flag through the admin API and, from the moment each write returns, polls the
// evaluator until it serves the new value; then it does the same with a Go SDK client,
// which evaluates in process and hears of changes on the evaluator's stream. It prints
// p50, p90, p99 and the maximum of each.
//
//	propagation -admin http://127.0.0.1:8080 -token $ADMIN_TOKEN \
//	            -evaluator http://127.0.0.1:8081 -sdk-key $SDK_KEY -writes 200
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"time"

	switchyard "github.com/switchyard/switchyard/sdk/go"

	"github.com/switchyard/switchyard/tools/internal/adminclient"
)

func main() {
	admin := flag.String("admin", "http://127.0.0.1:8080", "admin service base URL")
	token := flag.String("token", os.Getenv("ADMIN_TOKEN"), "admin token (default $ADMIN_TOKEN)")
	evaluator := flag.String("evaluator", "http://127.0.0.1:8081", "evaluator base URL")
	key := flag.String("sdk-key", os.Getenv("SDK_KEY"), "SDK key of the environment (default $SDK_KEY; created when empty)")
	project := flag.String("project", "demo", "project key")
	env := flag.String("environment", "production", "environment key")
	writes := flag.Int("writes", 200, "number of writes to measure")
	timeout := flag.Duration("timeout", 5*time.Second, "longest wait for one change")
	flag.Parse()
	if err := run(context.Background(), *admin, *token, *evaluator, *key, *project, *env, *writes, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "propagation:", err)
		os.Exit(1)
	}
}

const probe = "propagation-probe"

func run(ctx context.Context, adminURL, token, evaluatorURL, key, project, env string, writes int, timeout time.Duration) error {
	if token == "" {
		return errors.New("an admin token (-token or $ADMIN_TOKEN) is needed")
	}
	admin := adminclient.New(adminURL, token)
	if key == "" {
		var err error
		if key, err = admin.SDKKey(ctx, project, env, "propagation measurement"); err != nil {
			return err
		}
	}
	if err := admin.EnsureFlag(ctx, project, map[string]any{"key": probe, "kind": "boolean",
		"description": "Flipped by the propagation measurement"}); err != nil {
		return err
	}
	if _, err := admin.Configure(ctx, project, probe, env, map[string]any{"enabled": true,
		"default": map[string]any{"variant": "on"}, "off_variant": "off"}); err != nil {
		return err
	}
	evaluator := adminclient.New(evaluatorURL, key)
	served := func() (bool, error) {
		status, r, err := evaluator.OFREP(ctx, probe, map[string]any{"targetingKey": "probe"})
		if err != nil {
			return false, err
		}
		if status != http.StatusOK {
			return false, fmt.Errorf("evaluator answered %d: %s", status, r.ErrorCode)
		}
		v, _ := r.Value.(bool)
		return v, nil
	}
	toggle := "/api/v1/projects/" + project + "/flags/" + probe + "/environments/" + env + "/toggle"
	write := func(i int) (bool, error) {
		want := i%2 == 1
		return want, admin.Expect(ctx, nil, http.MethodPost, toggle, map[string]any{"enabled": want}, http.StatusOK)
	}
	// Each poll is a request: the evaluator serves the change once it has it.
	polled := func(want bool) bool {
		v, err := served()
		return err == nil && v == want
	}
	if err := measure("evaluator (OFREP requests)", writes, timeout, write, polled, nil); err != nil {
		return err
	}

	// A Go SDK client evaluates in process and hears of changes on its stream.
	sdk, err := switchyard.New(ctx, evaluatorURL, key, switchyard.WithStartTimeout(10*time.Second), switchyard.WithEventReporting(false))
	if err != nil {
		return fmt.Errorf("go sdk: %w", err)
	}
	defer sdk.Close(ctx)
	changed := make(chan struct{}, 1)
	sdk.OnChange(func(switchyard.Change) {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	user := &switchyard.Context{Key: "probe"}
	local := func(want bool) bool { return sdk.Bool(probe, user, !want) == want }
	return measure("Go SDK (in process, stream)", writes, timeout, write, local, changed)
}

// target is the bound on propagation to a client: p99 ≤ 100 ms on loopback.
const target = 100 * time.Millisecond

// measure makes writes changes and, from the moment each is acknowledged, checks
// served until the client serves it: at once, and then on every wake (nil: polling).
func measure(name string, writes int, timeout time.Duration, write func(int) (bool, error), served func(bool) bool, wake <-chan struct{}) error {
	var lat []time.Duration
	missed := 0
	for i := range writes {
		want, err := write(i)
		if err != nil {
			return fmt.Errorf("write %d: %w", i, err)
		}
		start, ok := time.Now(), true
		for !served(want) {
			if time.Since(start) > timeout {
				missed++
				ok = false
				break
			}
			if wake != nil {
				select {
				case <-wake:
				case <-time.After(10 * time.Millisecond):
				}
			}
		}
		if ok {
			lat = append(lat, time.Since(start))
		}
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	verdict := "met"
	if q(0.99) > target || missed > 0 {
		verdict = "missed"
	}
	fmt.Printf("propagation to the %s over %d writes: p50 %v  p90 %v  p99 %v  max %v  missed %d  (p99 ≤ %v: %s)\n",
		name, writes, q(0.50).Round(10*time.Microsecond), q(0.90).Round(10*time.Microsecond),
		q(0.99).Round(10*time.Microsecond), q(1).Round(10*time.Microsecond), missed, target, verdict)
	if missed > 0 {
		return fmt.Errorf("%d changes were not served by the %s within %v", missed, name, timeout)
	}
	return nil
}
