package semver

import (
	"cmp"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Version
		ok   bool
	}{
		{"1.2.3", Version{1, 2, 3, ""}, true},
		{"v1.2.3", Version{1, 2, 3, ""}, true},
		{"1.2", Version{1, 2, 0, ""}, true},
		{"7", Version{7, 0, 0, ""}, true},
		{"1.0.0-alpha.1", Version{1, 0, 0, "alpha.1"}, true},
		{"1.0.0-rc.1+build.5", Version{1, 0, 0, "rc.1"}, true},
		{"1.0.0+build", Version{1, 0, 0, ""}, true},
		{"V1.2.3", Version{1, 2, 3, ""}, true},
		{"1.0.0+001.0a", Version{1, 0, 0, ""}, true}, // build identifiers may have leading zeros
		{"1.0.0-x-y.z-1+b-c", Version{1, 0, 0, "x-y.z-1"}, true},
		{"1.0.0-0a.00-", Version{1, 0, 0, "0a.00-"}, true}, // alphanumeric, so zeros lead freely
		{"", Version{}, false},
		{"v", Version{}, false},
		{"1.2.3.4", Version{}, false},
		{"01.2.3", Version{}, false},
		{"1..3", Version{}, false},
		{"1.2.x", Version{}, false},
		{"1.0.0-", Version{}, false},
		{"1.0.0-01", Version{}, false},
		{"1.0.0-a..b", Version{}, false},
		{"1.0.0+", Version{}, false},
		{"1.0.0-a_b", Version{}, false},
		{"99999999999999999999.0.0", Version{}, false},
	}
	for _, tt := range tests {
		got, ok := Parse(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCompare(t *testing.T) {
	// The precedence example of the specification, in ascending order.
	order := []string{
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
		"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0",
		"10.0.0",
	}
	for i := range order {
		for j := range order {
			a, _ := Parse(order[i])
			b, _ := Parse(order[j])
			want := cmp.Compare(i, j)
			if got := Compare(a, b); got != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", order[i], order[j], got, want)
			}
		}
	}
	a, _ := Parse("1.0.0+build.1")
	b, _ := Parse("1.0.0+build.2")
	if Compare(a, b) != 0 {
		t.Error("build metadata must not affect ordering")
	}
}

func TestParseAllocs(t *testing.T) {
	n := testing.AllocsPerRun(100, func() {
		v, _ := Parse("v2.10.3-beta.4+sha.1")
		w, _ := Parse("2.10.3")
		_ = Compare(v, w)
	})
	if n != 0 {
		t.Errorf("Parse/Compare allocate %v times, want 0", n)
	}
}

// grammar is the SemVer 2.0.0 grammar (the regular expression semver.org suggests),
// widened as the package documents: an optional "v" or "V", and minor and patch
// optional. Parse additionally refuses numbers of more than 19 digits, so that they
// fit in a uint64.
var grammar = regexp.MustCompile(`^[vV]?(0|[1-9]\d*)(?:\.(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?)?` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

func grammatical(s string) bool {
	m := grammar.FindStringSubmatch(s)
	if m == nil {
		return false
	}
	for _, n := range m[1:4] {
		if len(n) > 19 {
			return false
		}
	}
	return true
}

// format writes v in the canonical form MAJOR.MINOR.PATCH[-PRE]: Version has no
// String method, and build metadata is not kept.
func format(v Version) string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Pre != "" {
		s += "-" + v.Pre
	}
	return s
}

// precedence orders a and b by the rules of SemVer 2.0.0, section 11, written
// independently of Compare: numeric identifiers compare as numbers of any length.
func precedence(a, b Version) int {
	for _, c := range []int{cmp.Compare(a.Major, b.Major), cmp.Compare(a.Minor, b.Minor), cmp.Compare(a.Patch, b.Patch)} {
		if c != 0 {
			return c
		}
	}
	switch {
	case a.Pre == b.Pre:
		return 0
	case a.Pre == "": // a normal version has higher precedence than a pre-release
		return 1
	case b.Pre == "":
		return -1
	}
	as, bs := strings.Split(a.Pre, "."), strings.Split(b.Pre, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, xnum := new(big.Int).SetString(as[i], 10)
		y, ynum := new(big.Int).SetString(bs[i], 10)
		xnum = xnum && allDigitsRef(as[i])
		ynum = ynum && allDigitsRef(bs[i])
		var c int
		switch {
		case xnum && ynum:
			c = x.Cmp(y)
		case xnum: // numeric identifiers have lower precedence than alphanumeric ones
			c = -1
		case ynum:
			c = 1
		default: // compared lexically in ASCII sort order
			c = strings.Compare(as[i], bs[i])
		}
		if c != 0 {
			return c
		}
	}
	// A larger set of pre-release fields has higher precedence when all before are equal.
	return cmp.Compare(len(as), len(bs))
}

// allDigitsRef reports whether s is a numeric identifier (big.Int also takes signs).
func allDigitsRef(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// references are versions the fuzzed ones are ordered against: the specification's
// precedence example and neighbours that differ in one part.
var references = func() []Version {
	var vs []Version
	for _, s := range []string{
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0", "0.0.0-0",
		"1.0.0-0", "1.0.0-1", "1.0.0-a-b", "1.0.0-99999999999999999999", "1.0.0-A",
	} {
		v, ok := Parse(s)
		if !ok {
			panic("reference version " + s + " does not parse")
		}
		vs = append(vs, v)
	}
	return vs
}()

// FuzzParse checks, for any input: Parse accepts exactly the grammar; what it accepts
// survives a round trip through its canonical text; and Compare is a total order (equal
// to itself, antisymmetric, transitive) that agrees with the SemVer precedence rules.
// An input with spaces is also read as several versions, so the fuzzer can build
// pairs and triples of its own next to the reference versions.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"1.2.3", "v1.0.0-rc.1+b", "1", "0.0.0-0.a.1",
		"1.0.0-alpha 1.0.0-alpha.1 1.0.0-beta", "1.0.0-rc.1+b 1.0.0-rc.1 1.0.0-rc.10",
		"1.0.0-2 1.0.0-10 1.0.0-a", "V2.0.0+001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := Parse(s)
		if want := grammatical(s); ok != want {
			t.Fatalf("Parse(%q) ok = %v, but the grammar says %v", s, ok, want)
		}
		if ok {
			text := format(v)
			back, ok := Parse(text)
			if !ok || back != v {
				t.Fatalf("Parse(%q) = %+v, written %q, parsed back as %+v, %v", s, v, text, back, ok)
			}
			if w, ok := Parse("v" + text + "+build.1"); !ok || w != v {
				t.Fatalf("%q with a prefix and build metadata parsed as %+v, %v", text, w, ok)
			}
			if Compare(v, v) != 0 {
				t.Fatalf("%q does not equal itself", s)
			}
		}

		var pool []Version
		for _, word := range strings.Fields(s) {
			if w, ok := Parse(word); ok && len(pool) < 3 {
				pool = append(pool, w)
			}
		}
		if len(pool) == 0 && !ok {
			return
		}
		if ok {
			pool = append(pool, v)
		}
		fuzzed := len(pool)
		pool = append(pool, references...)
		for i, a := range pool {
			for j, b := range pool {
				if i >= fuzzed && j >= fuzzed {
					continue // two references: TestCompare covers them
				}
				ab := Compare(a, b)
				if want := precedence(a, b); ab != want {
					t.Fatalf("Compare(%s, %s) = %d, SemVer precedence says %d", format(a), format(b), ab, want)
				}
				if ba := Compare(b, a); ba != -ab {
					t.Fatalf("Compare(%s, %s) = %d but Compare(%s, %s) = %d", format(a), format(b), ab, format(b), format(a), ba)
				}
				for _, c := range pool {
					bc, ac := Compare(b, c), Compare(a, c)
					if ab <= 0 && bc <= 0 && ac > 0 || ab == 0 && bc == 0 && ac != 0 {
						t.Fatalf("not transitive: %s ? %s = %d, %s ? %s = %d, %s ? %s = %d",
							format(a), format(b), ab, format(b), format(c), bc, format(a), format(c), ac)
					}
				}
			}
		}
	})
}
