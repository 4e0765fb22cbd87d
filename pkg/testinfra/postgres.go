package testinfra

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Postgres is a private PostgreSQL server a test can stop and start again on the same
// port, to inject database failures. As root it runs as the postgres system user, since
// PostgreSQL refuses to run as root.
type Postgres struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cred *syscall.Credential
	cmd  *exec.Cmd
}

// StartPostgres initialises a cluster in a temporary folder and starts it on a free
// loopback port; it is stopped and removed when the test ends. It holds one database,
// "switchyard".
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	required(t, "SWITCHYARD_TEST_DATABASE_URL")
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(bins) == 0 {
		t.Fatal("PostgreSQL server binaries not found under /usr/lib/postgresql")
	}
	p := &Postgres{t: t, bin: filepath.Dir(bins[len(bins)-1]), port: FreePort(t)}
	dir, err := os.MkdirTemp("", "switchyard-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() { p.Stop(); os.RemoveAll(dir) })
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	initdb := p.command(filepath.Join(p.bin, "initdb"), "-D", p.data(), "-U", "switchyard", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.Start()
	db, err := sql.Open("pgx", p.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE DATABASE switchyard"); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *Postgres) data() string { return filepath.Join(p.dir, "data") }

func (p *Postgres) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	return cmd
}

func (p *Postgres) url(db string) string {
	return fmt.Sprintf("postgres://switchyard@127.0.0.1:%d/%s?sslmode=disable", p.port, db)
}

// URL returns the address of the "switchyard" database.
func (p *Postgres) URL() string { return p.url("switchyard") }

// Start starts the server (again) and waits until it accepts connections.
func (p *Postgres) Start() {
	p.t.Helper()
	if p.cmd != nil {
		return
	}
	cmd := p.command(filepath.Join(p.bin, "postgres"), "-D", p.data(), "-p", strconv.Itoa(p.port), "-k", p.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start postgres: %v", err)
	}
	p.cmd = cmd
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		db, err := sql.Open("pgx", p.url("postgres"))
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			err = db.PingContext(ctx)
			cancel()
			db.Close()
			if err == nil {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("postgres on port %d did not start", p.port)
}

// Stop shuts the server down fast (existing connections are cut) and waits for it.
func (p *Postgres) Stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	p.cmd = nil
}

// Migrate copies the schema of the test run's template database (see MigratedDB) into
// this server's "switchyard" database, with pg_dump and psql. It dumps a copy of the
// template, never the template itself: copying a template ends every connection to it,
// which would cut a dump running at the same time.
func (p *Postgres) Migrate() {
	p.t.Helper()
	source := MigratedDB(p.t)
	dump := exec.Command(filepath.Join(p.bin, "pg_dump"), "--no-owner", "--no-privileges", source)
	load := exec.Command(filepath.Join(p.bin, "psql"), "-q", "-v", "ON_ERROR_STOP=1", p.URL())
	pipe, err := dump.StdoutPipe()
	if err != nil {
		p.t.Fatal(err)
	}
	load.Stdin = pipe
	var dumpErr, loadOut strings.Builder
	dump.Stderr = &dumpErr
	load.Stdout, load.Stderr = &loadOut, &loadOut
	if err := dump.Start(); err != nil {
		p.t.Fatalf("pg_dump: %v", err)
	}
	if err := load.Run(); err != nil {
		_ = dump.Wait()
		p.t.Fatalf("load the schema: %v\n%s", err, loadOut.String())
	}
	if err := dump.Wait(); err != nil {
		p.t.Fatalf("pg_dump: %v\n%s", err, dumpErr.String())
	}
}
