package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/pkg/domain"
)

// limitSnapshot builds an environment at every limit at once, as large as
// MaxSnapshotBytes allows: flags with MaxRules rules and MaxConditions conditions per
// rule up to MaxConfigBytes, two sets of MaxSetValues/2 short values (the densest
// memory per byte), MaxStringValues values for the string operators, distinct
// attribute names, distinct patterns of MaxRegexInstructions each up to
// MaxSnapshotRegexInstructions in all, chains of MaxPrerequisiteDepth, flags with
// MaxPrerequisites prerequisites, and json flags with MaxVariants values of
// MaxVariantValueBytes up to MaxSnapshotVariantBytes, each an array of empty objects
// (the densest memory per byte once decoded).
func limitSnapshot(tb testing.TB) []byte {
	tb.Helper()
	var (
		flags    []domain.FlagConfig
		size     int
		patterns int
		insts    int
		rxBytes  int
	)
	add := func(fc domain.FlagConfig) bool {
		b, err := json.Marshal(fc)
		if err != nil {
			tb.Fatal(err)
		}
		if size+len(b)+1 > domain.MaxSnapshotBytes-1024 {
			return false
		}
		size += len(b) + 1
		flags = append(flags, fc)
		return true
	}
	boolean := domain.Flag{Kind: domain.KindBoolean, Variants: domain.BooleanVariants()}

	// MaxSnapshotVariantBytes: json flags at MaxVariants values of MaxVariantValueBytes.
	elems := make([]any, 0, domain.MaxVariantValueBytes/3)
	for len(elems) < cap(elems)-1 {
		elems = append(elems, map[string]any{})
	}
	value, _ := json.Marshal(elems)
	for i, left := 0, domain.MaxSnapshotVariantBytes/len(value); left > 1; i++ {
		f := domain.Flag{Key: fmt.Sprintf("json-%03d", i), Kind: domain.KindJSON}
		for v := range min(left, domain.MaxVariants) {
			f.Variants = append(f.Variants, domain.Variant{Key: "v" + strconv.Itoa(v), Value: elems})
		}
		left -= len(f.Variants)
		add(domain.FlagConfig{Flag: f, Config: domain.Config{Enabled: true, OffVariant: "v0", Default: domain.Serve{Variant: "v1"}}})
	}

	// The rest: flags at the configuration limits, in chains of MaxPrerequisiteDepth.
	for i := 0; ; i++ {
		f := boolean
		f.Key = fmt.Sprintf("limit-%04d", i)
		cfg := domain.Config{Enabled: true, OffVariant: "off",
			Default: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": 50, "off": 50}}}}
		link := i % (domain.MaxPrerequisiteDepth + 1)
		if link > 0 {
			cfg.Prerequisites = []domain.Prerequisite{{Flag: fmt.Sprintf("limit-%04d", i-1), Variant: "on"}}
		}
		if link == domain.MaxPrerequisiteDepth && (i/(link+1))%4 == 3 {
			// The top of every fourth chain also requires MaxPrerequisites flags below
			// the tops of other chains, keeping its depth within the limit.
			for j := i - 2; j >= 0 && len(cfg.Prerequisites) < domain.MaxPrerequisites; j-- {
				if j%(domain.MaxPrerequisiteDepth+1) != domain.MaxPrerequisiteDepth {
					cfg.Prerequisites = append(cfg.Prerequisites, domain.Prerequisite{Flag: fmt.Sprintf("limit-%04d", j), Variant: "off"})
				}
			}
		}
		values := 0
		set := func(n int) []any {
			vs := make([]any, n)
			for k := range vs {
				vs[k] = strconv.FormatInt(int64(k), 36)
			}
			values += n
			return vs
		}
		strs := func(n int) []any {
			vs := make([]any, n)
			for k := range vs {
				vs[k] = strings.Repeat("a", k%40+1) + "z"
			}
			values += n
			return vs
		}
		rules := []domain.Rule{{ID: "lists", Serve: domain.Serve{Variant: "on"}, Conditions: []domain.Condition{
			{Attribute: "s0", Operator: domain.OpIn, Values: set(domain.MaxSetValues / 2)},
			{Attribute: "s1", Operator: domain.OpNotIn, Values: set(domain.MaxSetValues / 2)},
		}}}
		ops := []domain.Condition{
			{Operator: domain.OpContains, Values: strs(0)},
			{Operator: domain.OpEndsWith, Values: strs(0)},
			{Operator: domain.OpExists},
			{Operator: domain.OpSemverGt, Values: []any{"1.2.3"}},
			{Operator: domain.OpGt, Values: []any{1.5}},
		}
		bytes := 0
		for r := 1; r < domain.MaxRules && bytes < domain.MaxConfigBytes*85/100; r++ {
			rule := domain.Rule{ID: "r" + strconv.Itoa(r), Serve: domain.Serve{Variant: "on"}}
			for c := range domain.MaxConditions {
				cond := ops[(r+c)%len(ops)]
				// Attributes: a few long context strings, and distinct names.
				if c%2 == 0 {
					cond.Attribute = "s" + strconv.Itoa(c%8)
				} else {
					cond.Attribute = fmt.Sprintf("attr-%d-%d", r, c)
				}
				// Values up to MaxConfigValues, keeping one per condition for patterns.
				left := domain.MaxConfigValues - values - domain.MaxRules
				switch {
				case cond.Operator == domain.OpContains && left > 5000+domain.MaxStringValues:
					cond.Values = strs(domain.MaxStringValues)
				case left <= 1:
					cond = domain.Condition{Operator: domain.OpExists, Attribute: cond.Attribute}
				case cond.Operator == domain.OpContains || cond.Operator == domain.OpEndsWith:
					cond.Values = strs(1)
				case cond.Operator != domain.OpExists:
					values++
				}
				if c == 0 && insts+domain.MaxRegexInstructions <= domain.MaxSnapshotRegexInstructions &&
					rxBytes+32 <= domain.MaxSnapshotRegexBytes {
					// A distinct pattern that keeps every instruction busy on a run of a.
					k := 300 + patterns%150
					p := fmt.Sprintf("(?:a?){%d}a{%d}b", k, domain.MaxRegexInstructions-2-2*k-5)
					n, exact, err := domain.RegexInstructions(p)
					if err != nil || !exact || n > domain.MaxRegexInstructions {
						tb.Fatalf("pattern %s: %d %v %v", p, n, exact, err)
					}
					patterns++
					insts += n
					rxBytes += len(p)
					cond = domain.Condition{Attribute: "s0", Operator: domain.OpMatches, Values: []any{p}}
					values++
				}
				rule.Conditions = append(rule.Conditions, cond)
			}
			b, _ := json.Marshal(rule)
			bytes += len(b)
			rules = append(rules, rule)
		}
		cfg.Rules = rules
		if values > domain.MaxConfigValues {
			tb.Fatalf("%d values", values)
		}
		if b, _ := json.Marshal(cfg); len(b) > domain.MaxConfigBytes {
			tb.Fatalf("config of %d bytes", len(b))
		}
		if !add(domain.FlagConfig{Flag: f, Config: cfg}) {
			break
		}
	}
	snap := domain.Snapshot{ProjectKey: "p", EnvironmentKey: "limits", Version: 1, Flags: flags}
	b, err := json.Marshal(snap)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// limitContext is the most a context can make the engine work: every string the
// conditions test at MaxInputBytes, of the letter the patterns repeat, and a list at
// MaxInputListLen.
func limitContext() *Context {
	long := strings.Repeat("a", domain.MaxInputBytes)
	attrs := map[string]any{}
	for i := range 8 {
		attrs["s"+strconv.Itoa(i)] = long
	}
	list := make([]any, domain.MaxInputListLen)
	for i := range list {
		list[i] = long
	}
	attrs["s7"] = list
	return &Context{Key: "user-1", Attributes: attrs}
}

func decode(tb testing.TB, raw []byte) domain.Snapshot {
	var ds domain.Snapshot
	if err := json.Unmarshal(raw, &ds); err != nil {
		tb.Fatal(err)
	}
	return ds
}

func heap() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// BenchmarkLimits decodes, compiles and evaluates an environment at every limit at
// once (limitSnapshot) and reports what an evaluator pays for it: the snapshot's size,
// the heap its decoded and compiled forms hold, the memory compiling allocates, the time
// to compile, and the time of a bulk evaluation for limitContext under the default
// budget. The budget this must stay within: 300 MiB held while compiling, 2 s to compile.
func BenchmarkLimits(b *testing.B) {
	raw := limitSnapshot(b)
	// Heap held: by the decoded snapshot alone, by it and the compiled one together
	// (what compiling needs at its peak, besides garbage), and by the compiled one once
	// the decoded one is dropped (it keeps the decoded variant values).
	var decoded, both, compiled, allocated uint64
	var compileTime, evalTime time.Duration
	var answered int
	for b.Loop() {
		base := heap()
		ds := decode(b, raw)
		decoded = heap() - base
		before := totalAlloc()
		start := time.Now()
		s := Compile(ds)
		compileTime = time.Since(start)
		allocated = totalAlloc() - before
		if p := s.Problems(); len(p) > 0 {
			b.Fatalf("%d problems, first %v", len(p), p[0])
		}
		both = heap() - base
		runtime.KeepAlive(ds)
		compiled = heap() - base
		start = time.Now()
		res := s.EvaluateAll(limitContext())
		evalTime = time.Since(start)
		answered = 0
		for _, r := range res {
			if r.ErrorMessage != MessageBudget {
				answered++
			}
		}
		runtime.KeepAlive(s)
	}
	// What the budget saves: the same evaluation without it.
	s := Compile(decode(b, raw)).WithBudget(math.MaxInt64)
	start := time.Now()
	s.EvaluateAll(limitContext())
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "ms-evalall-unbudgeted")
	const mib = 1 << 20
	b.ReportMetric(float64(len(raw))/mib, "MiB-json")
	b.ReportMetric(float64(decoded)/mib, "MiB-decoded")
	b.ReportMetric(float64(both)/mib, "MiB-decoded+compiled")
	b.ReportMetric(float64(compiled)/mib, "MiB-compiled")
	b.ReportMetric(float64(allocated)/mib, "MiB-compile-alloc")
	b.ReportMetric(float64(compileTime.Microseconds())/1000, "ms-compile")
	b.ReportMetric(float64(evalTime.Microseconds())/1000, "ms-evalall")
	b.ReportMetric(float64(answered), "flags-answered")
	// The stated budget is a check, not only a report.
	if both > 300<<20 || compileTime > 2*time.Second || evalTime > time.Second {
		b.Fatalf("over budget: %.0f MiB decoded and compiled (300), compile %v (2 s), bulk evaluation %v (1 s)",
			float64(both)/mib, compileTime, evalTime)
	}
}
