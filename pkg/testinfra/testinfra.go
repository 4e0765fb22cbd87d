// Package testinfra gives integration tests the real PostgreSQL and Redis servers that
// scripts/stack starts: a fresh database per test, the shared test Redis, and private
// Redis servers that a test may stop and start to inject failures.
//
// scripts/test exports SWITCHYARD_TEST_DATABASE_URL and SWITCHYARD_TEST_REDIS_URL and
// sets SWITCHYARD_INTEGRATION=1, under which a missing server fails the test instead of
// skipping it, so CI cannot pass by skipping.
package testinfra

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"

	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

func required(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("SWITCHYARD_INTEGRATION") == "1" {
			t.Fatalf("%s is not set; run the tests through scripts/test", name)
		}
		t.Skipf("integration test: %s is not set (make test sets it)", name)
	}
	return v
}

// PostgresDB creates an empty database on the test server and returns its URL; the
// database is dropped when the test ends.
func PostgresDB(t testing.TB) string {
	t.Helper()
	base := required(t, "SWITCHYARD_TEST_DATABASE_URL")
	u, err := neturl.Parse(base)
	if err != nil {
		t.Fatalf("SWITCHYARD_TEST_DATABASE_URL: %v", err)
	}
	name := "t_" + randomHex(8)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	u.Path = "/" + name
	return u.String()
}

// MigratedDB creates a database on the test server holding the current schema, copied
// from the template scripts/test migrates once per run (SWITCHYARD_TEST_TEMPLATE), and
// returns its URL; the database is dropped when the test ends. Copying a template is
// much faster than migrating, and keeps the migration tool out of the modules whose
// tests need a schema but never migrate.
func MigratedDB(t testing.TB) string {
	t.Helper()
	template := required(t, "SWITCHYARD_TEST_TEMPLATE")
	base := required(t, "SWITCHYARD_TEST_DATABASE_URL")
	u, err := neturl.Parse(base)
	if err != nil {
		t.Fatalf("SWITCHYARD_TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + template
	return CloneDB(t, u.String())
}

// RedisURL returns the shared test Redis. Tests share it, so they must use keys and
// messages of their own (environment ids are random).
func RedisURL(t testing.TB) string {
	t.Helper()
	return required(t, "SWITCHYARD_TEST_REDIS_URL")
}

// Redis is a private redis-server a test can stop and start again on the same port.
type Redis struct {
	t    testing.TB
	port int
	dir  string
	cmd  *exec.Cmd
}

// StartRedis starts a private Redis on a free loopback port; it is stopped when the
// test ends.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	required(t, "SWITCHYARD_TEST_REDIS_URL") // only where the test servers are available
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server not found: %v", err)
	}
	r := &Redis{t: t, port: FreePort(t), dir: t.TempDir()}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// URL returns the server's address as a redis:// URL.
func (r *Redis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// Addr returns host:port.
func (r *Redis) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// Start starts the server (again) and waits until it answers.
func (r *Redis) Start() {
	r.t.Helper()
	if r.cmd != nil {
		return
	}
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("start redis: %v", err)
	}
	r.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ping(r.Addr()) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.t.Fatalf("redis on %s did not start", r.Addr())
}

// Stop kills the server and waits until it is gone.
func (r *Redis) Stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

func ping(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 7)
	n, _ := conn.Read(buf)
	return string(buf[:n]) == "+PONG\r\n"
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// StartRedisCluster starts a 3-node Redis Cluster on loopback with
// scripts/redis-cluster and returns its redis-cluster:// URL; it is stopped when the
// test ends.
func StartRedisCluster(t testing.TB) string {
	t.Helper()
	required(t, "SWITCHYARD_TEST_REDIS_URL")
	script, err := repoFile("scripts/redis-cluster")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, err := exec.Command(script, "up", dir).Output()
	t.Cleanup(func() { _ = exec.Command(script, "down", dir).Run() })
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("start redis cluster: %v\n%s", err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// repoFile finds a file of the repository from the test's working directory.
func repoFile(rel string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%s not found above the working directory", rel)
		}
		dir = parent
	}
}

// CloneDB copies a test database as it is now (CREATE DATABASE ... TEMPLATE), for
// simulating a read replica that lags behind; the copy is dropped when the test ends.
func CloneDB(t testing.TB, url string) string {
	t.Helper()
	base := required(t, "SWITCHYARD_TEST_DATABASE_URL")
	u, err := neturl.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	src := strings.TrimPrefix(u.Path, "/")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A template must have no other connections.
	if _, err := admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, src); err != nil {
		t.Fatal(err)
	}
	name := "t_" + randomHex(8)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE "+src); err != nil {
		admin.Close()
		t.Fatalf("clone database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	})
	u.Path = "/" + name
	return u.String()
}

// StartRedisSentinel starts a private Redis primary and one Sentinel monitoring it as
// "switchyard", both on free loopback ports, and returns the redis-sentinel:// URL that
// finds the primary through the Sentinel. Both stop when the test ends.
func StartRedisSentinel(t testing.TB) string {
	t.Helper()
	primary := StartRedis(t)
	dir := t.TempDir()
	port := FreePort(t)
	conf := filepath.Join(dir, "sentinel.conf") // Sentinel rewrites its configuration file
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor switchyard 127.0.0.1 %d 1\n"+
		"sentinel down-after-milliseconds switchyard 2000\n", port, dir, primary.port)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("redis-server", conf, "--sentinel", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis sentinel: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	Eventually(t, 10*time.Second, "sentinel on "+addr, func() bool { return ping(addr) })
	return "redis-sentinel://" + addr + "?master_name=switchyard"
}
