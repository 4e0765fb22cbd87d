package domain

import (
	"regexp/syntax"
	"strings"
	"testing"
)

// hostilePattern is the example: 961 bytes that compile to some 160,000
// instructions.
var hostilePattern = strings.Repeat("(?:a?){1000}", 80) + "b"

func programSize(t *testing.T, pattern string) int {
	t.Helper()
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		t.Fatal(err)
	}
	return len(prog.Inst)
}

func TestRegexInstructions(t *testing.T) {
	tests := []struct {
		pattern string
		n       int // 0: whatever syntax.Compile gives
		exact   bool
		fits    bool
	}{
		{`^user-\d+$`, 0, true, true},
		{`a{998}`, MaxRegexInstructions, true, true},
		{`a{999}`, MaxRegexInstructions + 1, true, false},
		{`(?i)^[a-z0-9._%+-]+@(acme|globex|initech)\.com$`, 0, true, true},
		// Too large to be worth compiling: refused on the estimate.
		{hostilePattern, 0, false, false},
		{`x{1000}y{1000}z{1000}w{1000}v{1000}`, 0, false, false},
	}
	for _, tt := range tests {
		n, exact, err := RegexInstructions(tt.pattern)
		if err != nil {
			t.Fatalf("%.40s: %v", tt.pattern, err)
		}
		want := tt.n
		if want == 0 && tt.exact {
			want = programSize(t, tt.pattern)
		}
		if exact != tt.exact || (tt.exact && n != want) {
			t.Errorf("%.40s: got %d (exact %v), want %d (exact %v)", tt.pattern, n, exact, want, tt.exact)
		}
		if !exact && n <= regexGuard {
			t.Errorf("%.40s: an estimate of %d is not over the guard", tt.pattern, n)
		}
		size := RegexSize{Instructions: n, Exact: exact}
		if size.Fits() != tt.fits {
			t.Errorf("%.40s: fits %v, want %v", tt.pattern, size.Fits(), tt.fits)
		}
	}
	if _, _, err := RegexInstructions(`(unclosed`); err == nil {
		t.Error("a pattern that does not parse must be an error")
	}
}

// TestEstimateBoundsProgram checks that the estimate RegexInstructions refuses on is
// never below the program compiling would give: it must not refuse a pattern that fits.
func TestEstimateBoundsProgram(t *testing.T) {
	for _, p := range []string{
		``, `a`, `abc`, `(?i)abc`, `[a-z]`, `.`, `(?s).`, `^$`, `\b\B`, `\A\z`,
		`(a)`, `(?:a)`, `a*`, `a+`, `a?`, `a*?`, `(a*)*`, `(a|b)*`, `(?:a*)+`, `(?:a?)*`, `(?:|a)*`,
		`a|b|c`, `ab|cd|ef`, `(?:a|)`, `a{3}`, `a{2,5}`, `a{0,3}`, `a{3,}`, `a{0,}`, `a{1,}`, `(?:ab){2,4}`,
		`(?:a{2}){3}`, `(?:a*){3}`, `(?:(?:a?){10}){10}`, `[^\x00-\x{10FFFF}]`, `(?:[^\x00-\x{10FFFF}]){5}`,
		`^user-\d+@(?:[a-z]+\.)+[a-z]{2,}$`, `(?i)(iphone|ipad|android).*mobile`, `(?:){10}`,
		`\pL+\d{1,3}(?:-\w+)*`, `x{1000}`, `(?:a?){400}a{196}b`,
	} {
		re, err := syntax.Parse(p, syntax.Perl)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if est, got := estimate(re)+2, programSize(t, p); est < got {
			t.Errorf("%s: estimate %d below the program's %d instructions", p, est, got)
		}
	}
}

func TestRegexTally(t *testing.T) {
	var tally RegexTally
	s, first := tally.Measure(`a{98}`)
	if !first || !s.Fits() || s.Instructions != 100 {
		t.Fatalf("first pattern: %+v, first %v", s, first)
	}
	if s, first = tally.Measure(`a{98}`); first || tally.Instructions != 100 || tally.Bytes != 5 {
		t.Errorf("a pattern seen again must cost nothing: first %v, %d instructions, %d bytes", first, tally.Instructions, tally.Bytes)
	}
	// Fill the instruction total to its limit exactly with distinct patterns.
	for i := 0; tally.Instructions+MaxRegexInstructions <= MaxSnapshotRegexInstructions; i++ {
		p := "b{" + itoa(i+1) + "}c{" + itoa(MaxRegexInstructions-2-(i+1)) + "}"
		if s, _ := tally.Measure(p); !s.Fits() {
			t.Fatalf("pattern %d %s: %+v", i, p, s)
		}
	}
	if tally.Over() {
		t.Fatalf("over before the limit: %d instructions", tally.Instructions)
	}
	left := MaxSnapshotRegexInstructions - tally.Instructions
	if s, _ := tally.Measure("d{" + itoa(left-2) + "}"); !s.Fits() || tally.Instructions != MaxSnapshotRegexInstructions {
		t.Fatalf("the pattern that reaches the limit must fit: %+v, %d", s, tally.Instructions)
	}
	if s, _ := tally.Measure(`e`); s.Fits() || !s.Over || !tally.Over() {
		t.Errorf("the pattern that goes over the limit must not fit: %+v", s)
	}
	// Once over, patterns are not even parsed.
	if s, _ := tally.Measure(`(unclosed`); s.Err != nil || !s.Over {
		t.Errorf("a pattern after the limit was measured: %+v", s)
	}

	var bytes RegexTally
	long := strings.Repeat("[x]", MaxRegexBytes/3) // a character class is one instruction
	for i := 0; bytes.Bytes+len(long)+4 <= MaxSnapshotRegexBytes; i++ {
		if s, _ := bytes.Measure(long + itoa(1000+i)); !s.Fits() {
			t.Fatalf("pattern %d: %+v", i, s)
		}
	}
	if s, _ := bytes.Measure(long); !s.Over || s.Exact {
		t.Errorf("the pattern over MaxSnapshotRegexBytes must be refused unparsed: %+v", s)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
