// Command propagation measures how long a change takes to reach evaluations: it flips a
// probe flag through the admin API and, from the moment each write returns, polls the
// evaluator until it serves the new value. It prints p50, p90, p99 and the maximum.
//
//	propagation -admin http://127.0.0.1:8080 -token $ADMIN_TOKEN \
//	            -evaluator http://127.0.0.1:8081 -sdk-key $SDK_KEY -writes 200
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"
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
	if err := run(*admin, *token, *evaluator, *key, *project, *env, *writes, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "propagation:", err)
		os.Exit(1)
	}
}

const probe = "propagation-probe"

var client = &http.Client{Timeout: 10 * time.Second}

func call(method, url, auth string, body any, extra ...string) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+auth)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}

func run(admin, token, evaluator, key, project, env string, writes int, timeout time.Duration) error {
	if token == "" {
		return errors.New("an admin token (-token or $ADMIN_TOKEN) is needed")
	}
	base := admin + "/api/v1/projects/" + project
	if key == "" {
		status, body, err := call("POST", base+"/environments/"+env+"/sdk-keys", token, map[string]any{"name": "propagation measurement"})
		var created struct{ Key string }
		if err != nil || status != 201 || json.Unmarshal(body, &created) != nil {
			return fmt.Errorf("create an SDK key: %d %s %v", status, body, err)
		}
		key = created.Key
	}
	status, body, err := call("POST", base+"/flags", token, map[string]any{"key": probe, "kind": "boolean",
		"description": "Flipped by the propagation measurement"})
	if err != nil || (status != 201 && status != 409) {
		return fmt.Errorf("create the probe flag: %d %s %v", status, body, err)
	}
	cfg := base + "/flags/" + probe + "/environments/" + env
	status, body, err = call("PUT", cfg, token, map[string]any{"enabled": true, "default": map[string]any{"variant": "on"}, "off_variant": "off"},
		"If-Match", "*")
	if err != nil || status != 200 {
		return fmt.Errorf("configure the probe flag: %d %s %v", status, body, err)
	}
	served := func() (bool, error) {
		status, body, err := call("POST", evaluator+"/ofrep/v1/evaluate/flags/"+probe, key, map[string]any{"context": map[string]any{"targetingKey": "probe"}})
		if err != nil {
			return false, err
		}
		if status != 200 {
			return false, fmt.Errorf("evaluator answered %d: %s", status, body)
		}
		var r struct{ Value bool }
		err = json.Unmarshal(body, &r)
		return r.Value, err
	}
	var lat []time.Duration
	missed := 0
	want := false
	for i := range writes {
		want = i%2 == 1
		status, body, err := call("POST", cfg+"/toggle", token, map[string]any{"enabled": want})
		if err != nil || status != 200 {
			return fmt.Errorf("write %d: %d %s %v", i, status, body, err)
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
