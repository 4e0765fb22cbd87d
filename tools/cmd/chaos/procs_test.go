package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	for _, c := range []struct {
		stat  string
		state byte
		ppid  int
		ok    bool
	}{
		{"1234 (redis-server) S 1 1234 1234 0 -1", 'S', 1, true},
		{"20093 (postgres) Ss 1 20093", 0, 0, false}, // a state is one letter
		{"77 (odd) (name) Z 20093 77 77", 'Z', 20093, true},
		{"77 (a b) R 5", 'R', 5, true},
		{"77 no parenthesis S 1", 0, 0, false},
		{"77 (x) S", 0, 0, false},
		{"77 (x) S one", 0, 0, false},
	} {
		state, ppid, ok := parseStat(c.stat)
		if state != c.state || ppid != c.ppid || ok != c.ok {
			t.Errorf("parseStat(%q) = %q, %d, %v; want %q, %d, %v", c.stat, state, ppid, ok, c.state, c.ppid, c.ok)
		}
	}
}

func TestAlive(t *testing.T) {
	if !alive(os.Getpid()) {
		t.Error("this process is not alive")
	}
	if alive(0) || alive(1<<30) {
		t.Error("a pid that cannot exist is alive")
	}
	// A child that exited and was not waited for is a zombie: kill -0 finds it, but it
	// has exited, as a killed server has where nothing reaps orphans.
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if state, _, _ := parseStat(string(raw)); err == nil && state == 'Z' {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the child never became a zombie")
		}
	}
	if syscall.Kill(pid, 0) != nil {
		t.Fatal("kill -0 does not find the zombie; the case is not shown")
	}
	if alive(pid) {
		t.Error("a zombie is alive")
	}
}

// forgetStale must never remove the pid file of a running server: scripts/stack would
// then start a second one.
func TestForgetStale(t *testing.T) {
	const dead = 1 << 30
	for _, c := range []struct {
		name    string
		content string
		pid     int
		removed bool
	}{
		{"names the dead process", strconv.Itoa(dead) + "\n/data\n", dead, true},
		{"names a live process", strconv.Itoa(os.Getpid()) + "\n", os.Getpid(), false},
		{"names another process", strconv.Itoa(os.Getpid()) + "\n", dead, false},
	} {
		f := filepath.Join(t.TempDir(), "server.pid")
		if err := os.WriteFile(f, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := (server{pidFile: f}).forgetStale(c.pid); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		_, err := os.Stat(f)
		if removed := os.IsNotExist(err); removed != c.removed {
			t.Errorf("%s: removed %v, want %v", c.name, removed, c.removed)
		}
	}
	if err := (server{pidFile: filepath.Join(t.TempDir(), "none.pid")}).forgetStale(dead); err != nil {
		t.Errorf("no pid file: %v", err)
	}
}
