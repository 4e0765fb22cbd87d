package semver

import (
	"cmp"
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

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1.2.3", "v1.0.0-rc.1+b", "1", "0.0.0-0.a.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := Parse(s)
		if ok && Compare(v, v) != 0 {
			t.Fatalf("%q does not equal itself", s)
		}
	})
}
