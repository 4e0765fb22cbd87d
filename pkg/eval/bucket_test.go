package eval

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
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
