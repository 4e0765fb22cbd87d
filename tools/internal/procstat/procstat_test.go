package procstat

import "testing"

func TestVMRSS(t *testing.T) {
	tests := []struct {
		name, status string
		want         int64
		ok           bool
	}{
		{"proc status", "Name:\tevaluator\nVmPeak:\t  900 kB\nVmRSS:\t   204800 kB\nRssAnon:\t 1 kB\n", 200 << 20, true},
		{"no VmRSS (a kernel thread)", "Name:\tkthreadd\nState:\tS\n", 0, false},
		{"garbled", "VmRSS:\tlots kB\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VMRSS(tt.status)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("got %d, %v; want %d, ok %v", got, err, tt.want, tt.ok)
			}
		})
	}
}
