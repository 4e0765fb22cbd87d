package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// proc is a service process the run starts, stops and restarts.
type proc struct {
	name, addr string
	opsAddr    string // the operations listener: /metrics
	args       []string
	env        []string
	log        *os.File

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *proc) url() string { return "http://" + p.addr }

// opsURL is where the process serves its metrics.
func (p *proc) opsURL() string { return "http://" + p.opsAddr }

// pid is the running process's, 0 when none runs.
func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// start runs the process and waits until /healthz answers.
func (p *proc) start(ctx context.Context) error {
	p.mu.Lock()
	cmd := exec.Command(p.args[0], p.args[1:]...)
	cmd.Env = append(append(os.Environ(), p.env...), "HTTP_ADDR="+p.addr, "OPS_ADDR="+p.opsAddr)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url()+"/healthz", nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("%s exited at start; see its log", p.name)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not become healthy", p.name)
}

// stop sends SIGTERM (a graceful shutdown) and waits for the exit, killing the process
// after 20 s. It reports whether the process exited within those 20 s.
func (p *proc) stop() bool {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return false
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return true
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return false
	}
}

// listening is whether something accepts connections on addr.
// closedWithin waits until nothing accepts connections on addr, up to limit: the
// kernel tears a killed process's sockets down as it goes, not at the instant the
// process stops running.
func closedWithin(addr string, limit time.Duration) bool {
	for deadline := time.Now().Add(limit); ; time.Sleep(20 * time.Millisecond) {
		if !listening(addr) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// stack stops and starts the profile's PostgreSQL or Redis through scripts/stack.
type stack struct{ script, profile string }

func (s stack) run(args ...string) error {
	out, err := exec.Command(s.script, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %v: %w\n%s", s.script, args, err, out)
	}
	return nil
}

func (s stack) stop(server string) error { return s.run("down", s.profile, server) }
func (s stack) start() error             { return s.run("up", s.profile) }

// server is the profile's PostgreSQL or Redis as the operating system sees it: the
// process its pid file names and the port it listens on. scripts/stack trusts the pid
// file (and kill -0, which succeeds on a zombie); the run checks the process itself.
type server struct {
	name, pidFile, addr string
	locks               []string // other files that name the server's pid
}

// running is the pid in the pid file when that process is alive, else 0.
func (s server) running() int {
	pid, err := pidIn(s.pidFile)
	if err != nil || !alive(pid) {
		return 0
	}
	return pid
}

// pidIn reads the pid on the first line of a pid or lock file.
func pidIn(file string) (int, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	return strconv.Atoi(strings.TrimSpace(line))
}

// crash kills the server and every process it forked with SIGKILL, as a machine
// failure or the OOM killer would: nothing gets to flush or clean up. It returns the
// pids killed.
func crash(pid int) ([]int, error) {
	// Frozen, the parent forks no child between the listing and the kill.
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return nil, fmt.Errorf("stop pid %d: %w", pid, err)
	}
	pids := append([]int{pid}, children(pid)...)
	var errs []error
	for _, p := range pids {
		if err := syscall.Kill(p, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("kill pid %d: %w", p, err))
		}
	}
	return pids, errors.Join(errs...)
}

// waitGone waits until none of pids is alive, and reports whether that happened.
func waitGone(pids []int, limit time.Duration) bool {
	for deadline := time.Now().Add(limit); ; time.Sleep(20 * time.Millisecond) {
		n := 0
		for _, p := range pids {
			if alive(p) {
				n++
			}
		}
		if n == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// forgetStale removes the pid and lock files that still name pid, which has exited. A
// server killed outright leaves them behind, and where nothing reaps orphans (init in
// a container) the dead process stays a zombie that kill -0 still finds: scripts/stack
// and PostgreSQL itself would both take the server for running and not start it.
func (s server) forgetStale(pid int) error {
	if alive(pid) {
		return nil
	}
	var errs []error
	for _, f := range append([]string{s.pidFile}, s.locks...) {
		if p, err := pidIn(f); err == nil && p == pid {
			errs = append(errs, os.Remove(f))
		}
	}
	return errors.Join(errs...)
}

// alive is whether pid is a process that has not exited; a zombie has.
func alive(pid int) bool {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	state, _, ok := parseStat(string(raw))
	return ok && state != 'Z' && state != 'X'
}

// children lists the processes whose parent is pid.
func children(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, f := range stats {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue // exited meanwhile
		}
		if _, ppid, ok := parseStat(string(raw)); ok && ppid == pid {
			c, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			out = append(out, c)
		}
	}
	return out
}

// parseStat reads the state and the parent pid from /proc/PID/stat: "pid (comm) state
// ppid …", where comm may itself hold spaces and parentheses.
func parseStat(stat string) (state byte, ppid int, ok bool) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], ppid, true
}
