package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/switchyard/switchyard/tools/internal/adminclient"
	"github.com/switchyard/switchyard/tools/internal/procstat"
)

// memory loads the big environment into the evaluator and reports its resident memory
// before and after, and the latency of cold and warm bulk evaluations of it.
//
// A cold evaluation is an OFREP bulk evaluation with a new SDK key, of a version the
// evaluator has not loaded: key and snapshot come from PostgreSQL, 10,000 flags are
// compiled, evaluated and encoded. The first is the process's first sight of the
// environment; the next ones follow an admin change (and a new key), o.rounds − 1 of
// them, once the change's invalidation has arrived.
func memory(ctx context.Context, w io.Writer, o options, s seeded, t *targets) error {
	fmt.Fprintf(w, "## Memory and cold loads (%d flags in one environment)\n\n", o.bigFlags)
	var before int64
	if o.evaluatorPID != 0 {
		var err error
		if before, err = procstat.RSS(o.evaluatorPID); err != nil {
			return err
		}
	}
	admin := adminclient.New(o.admin, o.token)
	body := map[string]any{"context": map[string]any{"targetingKey": "user-1", "plan": "pro", "country": "DE"}}
	bulk := func(key string, version int64) (time.Duration, bool, error) {
		ev := adminclient.New(o.evaluator, key)
		start := time.Now()
		status, raw, err := ev.Do(ctx, http.MethodPost, "/ofrep/v1/evaluate/flags", body)
		took := time.Since(start)
		if err != nil {
			return 0, false, err
		}
		if status != http.StatusOK {
			return 0, false, fmt.Errorf("bulk evaluation of the big environment: %d %.200s", status, raw)
		}
		var answer struct {
			Flags []struct {
				Metadata struct {
					EnvironmentVersion int64 `json:"environmentVersion"`
				} `json:"metadata"`
			} `json:"flags"`
		}
		if err := json.Unmarshal(raw, &answer); err != nil || len(answer.Flags) != o.bigFlags {
			return 0, false, fmt.Errorf("bulk evaluation of the big environment: %d flags (%v)", len(answer.Flags), err)
		}
		return took, answer.Flags[0].Metadata.EnvironmentVersion >= version, nil
	}
	var colds []float64
	var first, warm time.Duration
	for i := range o.rounds {
		key, version := s.bigKey, int64(0)
		if i > 0 {
			// A change, then a new key: both come from PostgreSQL again.
			cfg := flagConfig()
			cfg["default"] = map[string]any{"rollout": map[string]any{"weights": map[string]any{"on": 25 + i, "off": 75 - i}}}
			v, err := admin.Configure(ctx, bigProject, singleFlag, benchEnv, cfg)
			if err != nil {
				return err
			}
			version = v
			if _, key, err = admin.NewSDKKey(ctx, bigProject, benchEnv, fmt.Sprintf("cold-%d-%d", time.Now().UnixNano(), i), "server"); err != nil {
				return err
			}
			// The change fences Redis, so no copy of the new version exists until this
			// evaluator loads it from PostgreSQL: an answer of the new version is a
			// PostgreSQL load.
			time.Sleep(300 * time.Millisecond) // the invalidation arrives within milliseconds
		}
		took, fresh, err := bulk(key, version)
		if err != nil {
			return err
		}
		if !fresh {
			return fmt.Errorf("cold load %d answered a version older than %d: the invalidation had not arrived", i, version)
		}
		colds = append(colds, float64(took))
		if i == 0 {
			first = took
			if warm, _, err = bulk(key, version); err != nil {
				return err
			}
			if o.evaluatorPID != 0 {
				// Right after a load the process still holds the load's garbage, which
				// the runtime returns to the system over the next seconds: the figure
				// with the flags loaded is the settled one, read once RSS has stopped
				// falling (at most 15 s), and the one 0.5 s after is shown beside it.
				time.Sleep(500 * time.Millisecond)
				soon, err := procstat.RSS(o.evaluatorPID)
				if err != nil {
					return err
				}
				settled := soon
				for range 15 {
					time.Sleep(time.Second)
					now, err := procstat.RSS(o.evaluatorPID)
					if err != nil {
						return err
					}
					if now >= settled {
						break
					}
					settled = now
				}
				fmt.Fprintf(w, "| measure | value |\n|---|---|\n")
				fmt.Fprintf(w, "| evaluator RSS before loading (started, seeded, nothing evaluated yet) | %s |\n", procstat.MiB(before))
				fmt.Fprintf(w, "| evaluator RSS 0.5 s after the %d flags loaded | %s (+%s) |\n", o.bigFlags, procstat.MiB(soon), procstat.MiB(soon-before))
				fmt.Fprintf(w, "| evaluator RSS with the %d flags loaded, settled | %s (+%s) |\n", o.bigFlags, procstat.MiB(settled), procstat.MiB(settled-before))
				t.add(fmt.Sprintf("evaluator RSS with %d flags loaded (settled), above idle", o.bigFlags), settled-before <= 40<<20,
					fmt.Sprintf("+%s (+%s 0.5 s after the load)", procstat.MiB(settled-before), procstat.MiB(soon-before)), "≤ 40 MiB")
			}
		}
	}
	if o.evaluatorPID == 0 {
		fmt.Fprintf(w, "| measure | value |\n|---|---|\n")
		t.unmeasured("evaluator RSS with 10,000 flags loaded", "≤ 40 MiB", "no -evaluator-pid")
	}
	cold := time.Duration(median(colds))
	var each []string
	for _, c := range colds {
		each = append(each, time.Duration(c).Round(100*time.Microsecond).String())
	}
	fmt.Fprintf(w, "| cold bulk evaluation (OFREP): SDK key and snapshot from PostgreSQL, compile, evaluate %d flags, encode: first, then after changes | %s (median %v) |\n",
		o.bigFlags, strings.Join(each, " / "), cold.Round(100*time.Microsecond))
	fmt.Fprintf(w, "| next bulk evaluation, snapshot in memory | %v |\n\n", warm.Round(100*time.Microsecond))
	t.add(fmt.Sprintf("first bulk evaluation of %d flags (cold, from PostgreSQL), median of %d", o.bigFlags, len(colds)),
		cold <= 100*time.Millisecond, fmt.Sprintf("%v (first %v)", cold.Round(100*time.Microsecond), first.Round(100*time.Microsecond)), "≤ 100 ms")
	return nil
}
