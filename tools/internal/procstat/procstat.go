// Package procstat reads what the load tools report of a process: its resident
// memory, from /proc.
package procstat

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// RSS returns a process's resident set size in bytes.
func RSS(pid int) (int64, error) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	n, err := VMRSS(string(raw))
	if err != nil {
		return 0, fmt.Errorf("process %d: %w", pid, err)
	}
	return n, nil
}

// VMRSS reads the VmRSS line of a /proc/PID/status file, in bytes.
func VMRSS(status string) (int64, error) {
	for line := range strings.SplitSeq(status, "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS line")
}

// MiB shows a size in mebibytes.
func MiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
