// Command propagation measures how long a change takes to reach evaluations: it flips a
// probe flag through the admin API and, from the moment each write returns, polls the
// evaluator until it serves the new value. It prints p50, p90, p99 and the maximum.
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
	var lat []time.Duration
	missed := 0
	for i := range writes {
		want := i%2 == 1
		if err := admin.Expect(ctx, nil, http.MethodPost, toggle, map[string]any{"enabled": want}, http.StatusOK); err != nil {
			return fmt.Errorf("write %d: %w", i, err)
		}
		start := time.Now()
		for {
			v, err := served()
			if err == nil && v == want {
				lat = append(lat, time.Since(start))
				break
			}
			if time.Since(start) > timeout {
				missed++
				break
			}
		}
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	fmt.Printf("propagation over %d writes: p50 %v  p90 %v  p99 %v  max %v  missed %d\n",
		writes, q(0.50).Round(10*time.Microsecond), q(0.90).Round(10*time.Microsecond),
		q(0.99).Round(10*time.Microsecond), q(1).Round(10*time.Microsecond), missed)
	if missed > 0 {
		return fmt.Errorf("%d changes were not served within %v", missed, timeout)
	}
	return nil
}
