package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/switchyard/switchyard/pkg/domain"
)

// chiSquare returns the chi-square statistic of observed counts against a uniform
// expectation.
func chiSquare(counts []int, total int) float64 {
	expected := float64(total) / float64(len(counts))
	var x float64
	for _, c := range counts {
		d := float64(c) - expected
		x += d * d / expected
	}
	return x
}

// Critical values of chi-square at p = 0.001 (a deterministic test: the keys are fixed,
// so a pass is a pass forever; the threshold says how unlikely a failure would be for a
// truly uniform hash).
const (
	chi2Crit99df  = 148.23  // 100 bins
	chi2Crit999df = 1143.92 // 1000 bins
	chi2Crit1df   = 10.83   // 2×2 contingency table
)

func TestBucketUniform(t *testing.T) {
	const n = 100_000
	for _, salt := range []string{"new-checkout", "a", "checkout/v2"} {
		for _, bins := range []int{100, 1000} {
			counts := make([]int, bins)
			for i := range n {
				b := Bucket(salt, fmt.Sprintf("user-%d", i))
				if b >= Buckets {
					t.Fatalf("bucket %d out of range", b)
				}
				counts[int(b)*bins/Buckets]++
			}
			crit := chi2Crit99df
			if bins == 1000 {
				crit = chi2Crit999df
			}
			if x := chiSquare(counts, n); x > crit {
				t.Errorf("salt %q, %d bins: chi-square %.1f > %.1f: not uniform", salt, bins, x, crit)
			}
		}
	}
}

// TestBucketIndependent checks that being in the first half of one flag's buckets says
// nothing about another flag's: a 2×2 contingency chi-square for pairs of salts.
func TestBucketIndependent(t *testing.T) {
	const n = 100_000
	salts := []string{"flag-a", "flag-b", "flag-c", "new-checkout", "new-checkout-2"}
	for i := range salts {
		for j := i + 1; j < len(salts); j++ {
			var table [2][2]float64
			for k := range n {
				key := fmt.Sprintf("user-%d", k)
				a := Bucket(salts[i], key) < Buckets/2
				b := Bucket(salts[j], key) < Buckets/2
				table[btoi(a)][btoi(b)]++
			}
			var x float64
			for r := range 2 {
				for c := range 2 {
					row := table[r][0] + table[r][1]
					col := table[0][c] + table[1][c]
					e := row * col / n
					x += (table[r][c] - e) * (table[r][c] - e) / e
				}
			}
			if x > chi2Crit1df {
				t.Errorf("%s vs %s: chi-square %.2f > %.2f: buckets are correlated", salts[i], salts[j], x, chi2Crit1df)
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func rolloutFlag(on float64) domain.FlagConfig {
	return domain.FlagConfig{
		Flag: domain.Flag{Key: "rollout", Kind: domain.KindBoolean, Variants: domain.BooleanVariants()},
		Config: domain.Config{Enabled: true, OffVariant: "off",
			Default: domain.Serve{Rollout: &domain.Rollout{Weights: map[string]float64{"on": on, "off": 100 - on}}}},
	}
}

// TestRolloutMonotonic raises a rollout step by step and checks that nobody who had the
// feature loses it, and that each step serves close to its percentage.
func TestRolloutMonotonic(t *testing.T) {
	const n = 20_000
	steps := []float64{0, 0.001, 1, 5, 10, 12.5, 20, 33.333, 50, 99.999, 100}
	prev := make([]bool, n)
	for _, pct := range steps {
		s := Compile(domain.Snapshot{Flags: []domain.FlagConfig{rolloutFlag(pct)}})
		on := 0
		for i := range n {
			r := s.Evaluate("rollout", &Context{Key: fmt.Sprintf("user-%d", i)})
			got := r.Value == true
			if prev[i] && !got {
				t.Fatalf("user-%d lost the feature when the rollout rose to %v%%", i, pct)
			}
			prev[i] = got
			if got {
				on++
			}
		}
		share := 100 * float64(on) / n
		if math.Abs(share-pct) > 1.5 {
			t.Errorf("rollout %v%% served %.2f%%", pct, share)
		}
	}
}

// TestRolloutWeightOrder checks that the bucket layout follows the flag's variant order,
// not the order the weights were written in.
func TestRolloutWeightOrder(t *testing.T) {
	a := rolloutFlag(30)
	b := rolloutFlag(30)
	b.Config.Default.Rollout.Weights = map[string]float64{"off": 70, "on": 30}
	sa := Compile(domain.Snapshot{Flags: []domain.FlagConfig{a}})
	sb := Compile(domain.Snapshot{Flags: []domain.FlagConfig{b}})
	for i := range 2000 {
		ctx := &Context{Key: fmt.Sprintf("u%d", i)}
		if sa.Evaluate("rollout", ctx) != sb.Evaluate("rollout", ctx) {
			t.Fatal("weight order changed the result")
		}
	}
}

// TestRolloutBucketBy checks account-level rollouts: everyone of one company gets the
// same variant, and numbers bucket like their text.
func TestRolloutBucketBy(t *testing.T) {
	fc := rolloutFlag(50)
	fc.Config.Default.Rollout.BucketBy = "company.id"
	s := Compile(domain.Snapshot{Flags: []domain.FlagConfig{fc}})
	seen := map[string]any{}
	for i := range 500 {
		company := fmt.Sprintf("c-%d", i%20)
		r := s.Evaluate("rollout", &Context{Key: fmt.Sprintf("user-%d", i), Attributes: map[string]any{"company": map[string]any{"id": company}}})
		if prev, ok := seen[company]; ok && prev != r.Value {
			t.Fatalf("users of %s got different variants", company)
		}
		seen[company] = r.Value
	}
	num := s.Evaluate("rollout", &Context{Attributes: map[string]any{"company": map[string]any{"id": 42.0}}})
	txt := s.Evaluate("rollout", &Context{Attributes: map[string]any{"company": map[string]any{"id": "42"}}})
	if num != txt || num.Reason != ReasonSplit {
		t.Errorf("number %+v and text %+v bucket differently", num, txt)
	}
}

type vector struct {
	Salt   string `json:"salt"`
	Key    string `json:"key"`
	Bucket uint32 `json:"bucket"`
}

// TestBucketVectors checks the published vectors in testdata/bucketing.json, which other
// implementations use to prove they bucket identically.
func TestBucketVectors(t *testing.T) {
	// The hash is standard XXH64 with seed 0 (vectors from the xxHash reference).
	if got := xxhash.Sum64String(""); got != 0xef46db3751d8e999 {
		t.Fatalf("XXH64(\"\") = %#x", got)
	}
	if got := xxhash.Sum64String("abc"); got != 0x44bc2cf5ad770999 {
		t.Fatalf("XXH64(\"abc\") = %#x", got)
	}
	data, err := os.ReadFile("testdata/bucketing.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Algorithm string   `json:"algorithm"`
		Vectors   []vector `json:"vectors"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) < 20 {
		t.Fatalf("only %d vectors", len(file.Vectors))
	}
	for _, v := range file.Vectors {
		if got := Bucket(v.Salt, v.Key); got != v.Bucket {
			t.Errorf("Bucket(%q, %q) = %d, published %d", v.Salt, v.Key, got, v.Bucket)
		}
		// The published definition, computed independently of Bucket.
		if got := uint32(xxhash.Sum64String(v.Salt+":"+v.Key) % 100000); got != v.Bucket {
			t.Errorf("XXH64(%q) mod 100000 = %d, published %d", v.Salt+":"+v.Key, got, v.Bucket)
		}
	}
}

// TestBucketAcrossProcesses runs this test binary again and compares its buckets, so a
// per-process seed (as Go's maps and hash/maphash have) could never slip into bucketing.
func TestBucketAcrossProcesses(t *testing.T) {
	if os.Getenv("SWITCHYARD_BUCKET_CHILD") == "1" {
		for i := range 1000 {
			fmt.Println(Bucket("salt", fmt.Sprintf("k%d", i)))
		}
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBucketAcrossProcesses$")
	cmd.Env = append(os.Environ(), "SWITCHYARD_BUCKET_CHILD=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(out))
	if len(lines) < 1000 {
		t.Fatalf("child printed %d lines", len(lines))
	}
	for i := range 1000 {
		if want := fmt.Sprint(Bucket("salt", fmt.Sprintf("k%d", i))); lines[i] != want {
			t.Fatalf("k%d: child %s, parent %s", i, lines[i], want)
		}
	}
}

// boundaryFile is testdata/boundaries.json: keys at the exact edges of rollout ranges.
type boundaryFile struct {
	Salt     string `json:"salt"`
	Rollouts []struct {
		Name     string             `json:"name"`
		Variants []string           `json:"variants"`
		Weights  map[string]float64 `json:"weights"`
		BucketBy string             `json:"bucket_by"`
		Cases    []struct {
			Key     string `json:"key"`
			Bucket  uint32 `json:"bucket"`
			Variant string `json:"variant"`
		} `json:"cases"`
	} `json:"rollouts"`
}

// TestRolloutBoundaries pins which variant the buckets on either side of every range
// edge get, for weights from 0% to 100% with three decimals. The statistical tests
// above allow a point or more of slack, so only exact vectors can tell bucket < bound
// from bucket <= bound, or a weight of 0.001% from one of 0.002%.
func TestRolloutBoundaries(t *testing.T) {
	data, err := os.ReadFile("testdata/boundaries.json")
	if err != nil {
		t.Fatal(err)
	}
	var file boundaryFile
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Rollouts) < 6 {
		t.Fatalf("only %d rollouts", len(file.Rollouts))
	}
	for _, ro := range file.Rollouts {
		t.Run(ro.Name, func(t *testing.T) {
			// The vectors must sit on the edges: bound-1 and bound for every range
			// that ends inside the buckets, so no edge goes unchecked.
			covered := map[uint32]bool{}
			for _, c := range ro.Cases {
				if got := Bucket(file.Salt, c.Key); got != c.Bucket {
					t.Fatalf("Bucket(%q, %q) = %d, the file says %d", file.Salt, c.Key, got, c.Bucket)
				}
				covered[c.Bucket] = true
			}
			var bound int64
			for _, v := range ro.Variants {
				units, _ := domain.WeightUnits(ro.Weights[v])
				bound += units
				if units > 0 && bound < Buckets && (!covered[uint32(bound-1)] || !covered[uint32(bound)]) {
					t.Fatalf("the edge at bucket %d (after %q) needs cases at %d and %d", bound, v, bound-1, bound)
				}
			}

			fc := domain.FlagConfig{
				// The key differs from the salt: buckets must come from the salt.
				Flag: domain.Flag{Key: "boundaries", Salt: file.Salt, Kind: domain.KindString},
				Config: domain.Config{Enabled: true, OffVariant: ro.Variants[len(ro.Variants)-1],
					Default: domain.Serve{Rollout: &domain.Rollout{Weights: ro.Weights, BucketBy: ro.BucketBy}}},
			}
			for _, v := range ro.Variants {
				fc.Flag.Variants = append(fc.Flag.Variants, domain.Variant{Key: v, Value: v})
			}
			s := compile(t, fc)
			for _, c := range ro.Cases {
				ctxs := map[string]*Context{"key": {Key: c.Key}}
				if ro.BucketBy != "" {
					n, err := strconv.ParseFloat(c.Key, 64)
					if err != nil {
						t.Fatalf("bucket_by case %q is not a number", c.Key)
					}
					ctxs = map[string]*Context{
						"text":   {Attributes: map[string]any{"account": map[string]any{"id": c.Key}}},
						"number": {Attributes: map[string]any{"account": map[string]any{"id": n}}},
					}
				}
				for how, ctx := range ctxs {
					r := s.Evaluate("boundaries", ctx)
					if r.Variant != c.Variant || r.Reason != ReasonSplit {
						t.Errorf("%s %q (bucket %d, as %s): served %q (%s), want %q",
							ro.Name, c.Key, c.Bucket, how, r.Variant, r.Reason, c.Variant)
					}
				}
			}
		})
	}
}

// rolloutAt returns a flag whose on variant covers buckets [0, edge) of salt, bucketed
// by bucketBy ("" for the targeting key).
func rolloutAt(salt, bucketBy string, edge uint32) domain.FlagConfig {
	fc := rolloutFlag(0)
	fc.Flag.Salt = salt
	fc.Config.Default.Rollout = &domain.Rollout{BucketBy: bucketBy, Weights: map[string]float64{
		"on": float64(edge) / 1000, "off": float64(Buckets-edge) / 1000}}
	return fc
}

// TestRolloutKeyText checks that a bucketing attribute that is not a string buckets
// exactly as its text, the one eq compares (numbers in JavaScript's shortest form). The
// rollout is cut right at the bucket of that text: the context must be just outside
// the on range, and one bucket later just inside it.
func TestRolloutKeyText(t *testing.T) {
	tests := []struct {
		name  string
		value any
		text  string
	}{
		{"string", "acct-7", "acct-7"},
		{"true", true, "true"},
		{"false", false, "false"},
		{"integer", 42.0, "42"},
		{"Go int", 42, "42"},
		{"fraction", 1.5, "1.5"},
		{"negative", -3.0, "-3"},
		{"json.Number", json.Number("1.50"), "1.5"},
		{"just below 1e21: digits", 1e20, "100000000000000000000"},
		{"1e21: exponent form", 1e21, "1e+21"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Bucket("key-text", tt.text)
			ctx := &Context{Key: "someone-else", Attributes: map[string]any{"account": map[string]any{"id": tt.value}}}
			for _, edge := range []struct {
				at   uint32
				want string
			}{{b, "off"}, {b + 1, "on"}} {
				s := compile(t, rolloutAt("key-text", "account.id", edge.at))
				if r := s.Evaluate("rollout", ctx); r.Variant != edge.want || r.Reason != ReasonSplit {
					t.Errorf("%v (bucket %d of %q) with on below %d: served %q (%s), want %q",
						tt.value, b, tt.text, edge.at, r.Variant, r.Reason, edge.want)
				}
			}
		})
	}
}

// TestRolloutKeyMissing checks that a context without a usable bucketing key is not
// bucketed at all, an empty string included: bucketing "" would put every such context
// in one bucket, on or off together.
func TestRolloutKeyMissing(t *testing.T) {
	byKey := compile(t, rolloutAt("missing", "", 100_000))
	byAttr := compile(t, rolloutAt("missing", "account.id", 100_000))
	tests := []struct {
		name string
		s    *Snapshot
		ctx  Context
	}{
		{"no targeting key", byKey, Context{}},
		{"attribute missing", byAttr, Context{Key: "u1"}},
		{"attribute empty", byAttr, Context{Key: "u1", Attributes: map[string]any{"account": map[string]any{"id": ""}}}},
		{"attribute null", byAttr, Context{Key: "u1", Attributes: map[string]any{"account": map[string]any{"id": nil}}}},
		{"attribute an object", byAttr, Context{Key: "u1", Attributes: map[string]any{"account": map[string]any{"id": map[string]any{}}}}},
	}
	want := Result{Key: "rollout", Value: false, Variant: "off", Reason: ReasonError, ErrorCode: ErrTargetingKeyMissing}
	for _, tt := range tests {
		if r := tt.s.Evaluate("rollout", &tt.ctx); r != want {
			t.Errorf("%s: got %+v, want %+v", tt.name, r, want)
		}
	}
}

// TestCompileRefusesBadWeights checks that the engine itself refuses weights that do
// not divide the buckets exactly, whatever the store holds: buckets past the last
// range, or a range cut between buckets, would be served by accident.
func TestCompileRefusesBadWeights(t *testing.T) {
	tests := []struct {
		name    string
		weights map[string]float64
		problem string // "" when the weights are fine
	}{
		{"exact", map[string]float64{"on": 33.333, "off": 66.667}, ""},
		{"under 100", map[string]float64{"on": 50, "off": 49.999}, "weights sum to 99.999, not 100"},
		{"over 100", map[string]float64{"on": 50, "off": 50.001}, "weights sum to 100.001, not 100"},
		{"four decimals summing to 100", map[string]float64{"on": 33.3333, "off": 66.6667}, "not a percentage with three decimals"},
		{"negative", map[string]float64{"on": -10, "off": 110}, "not a percentage with three decimals"},
		{"unknown variant", map[string]float64{"on": 50, "maybe": 50}, `undefined variant "maybe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fc := rolloutFlag(0)
			fc.Config.Default.Rollout.Weights = tt.weights
			s := Compile(domain.Snapshot{Flags: []domain.FlagConfig{fc}})
			r := s.Evaluate("rollout", &Context{Key: "u1"})
			if tt.problem == "" {
				if len(s.Problems()) > 0 || r.Reason != ReasonSplit {
					t.Fatalf("refused: %v, %+v", s.Problems(), r)
				}
				return
			}
			if len(s.Problems()) != 1 || !strings.Contains(s.Problems()[0].Error(), tt.problem) {
				t.Errorf("problems %v, want one saying %q", s.Problems(), tt.problem)
			}
			if want := (Result{Key: "rollout", Reason: ReasonError, ErrorCode: ErrGeneral, ErrorMessage: MessageBroken}); r != want {
				t.Errorf("got %+v, want %+v", r, want)
			}
		})
	}
}
