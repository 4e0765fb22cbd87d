package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
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
// after 20 s.
func (p *proc) stop() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func (p *proc) restart(ctx context.Context) error {
	p.stop()
	return p.start(ctx)
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
