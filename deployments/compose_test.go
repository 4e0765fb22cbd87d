// Package deployments holds the tests that stand in for a Docker engine and a
// Kubernetes cluster, which these machines lack: they load docker-compose.yml with the
// Compose specification's own loader, run the go build of every Dockerfile, and check
// the Kubernetes manifests.
package deployments

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// root is the repository root.
func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var secrets = []string{"ADMIN_TOKEN=" + strings.Repeat("a", 64), "JWT_SECRET=" + strings.Repeat("j", 64)}

func loadCompose(t *testing.T, env []string) (*types.Project, error) {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root(t), "docker-compose.yml")},
		cli.WithWorkingDirectory(root(t)), cli.WithEnv(env), cli.WithName("switchyard"))
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(context.Background())
}

var (
	buildDir  string
	buildOnce = map[string]*sync.Once{"admin": {}, "evaluator": {}}
	buildErr  = map[string]error{}
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "switchyard-deploy-")
	if err != nil {
		panic(err)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var buildLine = regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .*)$`)

// dockerBuild runs, once per test run, the go build command a service's Dockerfile
// runs, writing the binary into a temporary folder, and returns the binary.
func dockerBuild(t *testing.T, svc string) string {
	t.Helper()
	out := filepath.Join(buildDir, svc)
	buildOnce[svc].Do(func() {
		raw, err := os.ReadFile(filepath.Join(root(t), "deployments", svc+".Dockerfile"))
		if err != nil {
			buildErr[svc] = err
			return
		}
		m := buildLine.FindStringSubmatch(string(raw))
		if m == nil {
			buildErr[svc] = fmt.Errorf("%s.Dockerfile has no static go build line", svc)
			return
		}
		command := strings.Replace(m[1], "/out/"+svc, out, 1)
		cmd := exec.Command("sh", "-c", command)
		cmd.Dir = root(t)
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr[svc] = fmt.Errorf("%s: %v\n%s", command, err, b)
		}
	})
	if err := buildErr[svc]; err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCompose(t *testing.T) {
	p, err := loadCompose(t, secrets)
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	want := []string{"admin", "evaluator", "migrate", "postgres", "redis"}
	if got := p.ServiceNames(); !slices.Equal(sorted(got), want) {
		t.Fatalf("services %v, want %v", got, want)
	}
	svc := func(name string) types.ServiceConfig {
		s, err := p.GetService(name)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if img := svc("postgres").Image; !strings.HasPrefix(img, "postgres:16") {
		t.Errorf("postgres image %q, want postgres 16", img)
	}
	if img := svc("redis").Image; !strings.HasPrefix(img, "redis:7") {
		t.Errorf("redis image %q, want redis 7", img)
	}
	for _, name := range []string{"postgres", "redis", "admin", "evaluator"} {
		hc := svc(name).HealthCheck
		if hc == nil || len(hc.Test) == 0 || hc.Disable {
			t.Errorf("%s has no health check", name)
		}
	}
	for _, name := range []string{"admin", "evaluator"} {
		if test := svc(name).HealthCheck.Test; test[len(test)-1] != "healthcheck" {
			t.Errorf("%s health check %v should run the binary's healthcheck command", name, test)
		}
	}
	deps := map[string]map[string]string{
		"migrate":   {"postgres": types.ServiceConditionHealthy},
		"admin":     {"migrate": types.ServiceConditionCompletedSuccessfully, "postgres": types.ServiceConditionHealthy, "redis": types.ServiceConditionHealthy},
		"evaluator": {"migrate": types.ServiceConditionCompletedSuccessfully, "redis": types.ServiceConditionHealthy},
	}
	for name, want := range deps {
		got := svc(name).DependsOn
		for dep, cond := range want {
			if got[dep].Condition != cond {
				t.Errorf("%s depends on %s with %q, want %q", name, dep, got[dep].Condition, cond)
			}
		}
	}
	if c := svc("migrate").Command; !slices.Equal([]string(c), []string{"migrate", "up"}) || svc("migrate").Restart != "no" {
		t.Errorf("migrate must be one-shot 'migrate up': %v, restart %q", c, svc("migrate").Restart)
	}
	// The API and the operations listener (metrics, profiles), both on loopback only,
	// the latter where OPS_ADDR listens.
	ports := map[string][2]string{"admin": {"8080", "9080"}, "evaluator": {"8081", "9081"}}
	for name, want := range ports {
		ps := svc(name).Ports
		if len(ps) != 2 {
			t.Errorf("%s ports %+v, want the API's and the operations listener's", name, ps)
			continue
		}
		for i, port := range want {
			if ps[i].Published != port || ps[i].Target != mustAtoi(t, port) || ps[i].HostIP != "127.0.0.1" {
				t.Errorf("%s port %+v, want 127.0.0.1:%s:%s", name, ps[i], port, port)
			}
		}
		if ops := svc(name).Environment["OPS_ADDR"]; ops == nil || *ops != "0.0.0.0:"+want[1] {
			t.Errorf("%s: OPS_ADDR %v, want 0.0.0.0:%s", name, ops, want[1])
		}
	}
	for _, v := range []string{"pgdata", "redisdata"} {
		if _, ok := p.Volumes[v]; !ok {
			t.Errorf("named volume %s missing", v)
		}
	}
	for name, dockerfile := range map[string]string{"migrate": "deployments/admin.Dockerfile", "evaluator": "deployments/evaluator.Dockerfile"} {
		if b := svc(name).Build; b == nil || b.Dockerfile != dockerfile {
			t.Errorf("%s builds %+v, want %s", name, b, dockerfile)
		}
	}

	// Every variable each service requires is set: its own configuration check passes
	// with exactly the environment compose gives it.
	for name, svcName := range map[string]string{"admin": "admin", "evaluator": "evaluator", "migrate": "admin"} {
		bin := dockerBuild(t, svcName)
		cmd := exec.Command(bin, "check-config")
		cmd.Env = nil
		for k, v := range svc(name).Environment {
			if v != nil {
				cmd.Env = append(cmd.Env, k+"="+*v)
			}
		}
		if name == "migrate" {
			// migrate needs only DATABASE_URL; the configuration check is the server's.
			if svc(name).Environment["DATABASE_URL"] == nil {
				t.Error("migrate has no DATABASE_URL")
			}
			continue
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s: its configuration check fails with compose's environment: %v\n%s", name, err, out)
		}
	}
}

// TestComposeRefusesMissingSecrets: without ADMIN_TOKEN and JWT_SECRET compose does not
// start, rather than running with a default secret.
func TestComposeRefusesMissingSecrets(t *testing.T) {
	if _, err := loadCompose(t, nil); err == nil || !strings.Contains(err.Error(), "ADMIN_TOKEN") {
		t.Errorf("loading without secrets: %v", err)
	}
}

// TestDockerfiles checks each Dockerfile's shape and runs the go build it runs.
func TestDockerfiles(t *testing.T) {
	for _, svc := range []string{"admin", "evaluator"} {
		t.Run(svc, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(root(t), "deployments", svc+".Dockerfile"))
			if err != nil {
				t.Fatal(err)
			}
			text := string(raw)
			stages := regexp.MustCompile(`(?m)^FROM `).FindAllStringIndex(text, -1)
			if len(stages) < 2 {
				t.Fatal("not a multi-stage build")
			}
			final := text[stages[len(stages)-1][0]:]
			if !strings.Contains(final, "distroless/static") || !regexp.MustCompile(`(?m)^USER nonroot`).MatchString(final) {
				t.Error("the final stage must be a small static base run as a non-root user")
			}
			copied := map[string]bool{}
			for _, m := range regexp.MustCompile(`(?m)^COPY (?:--\S+ )?(.+) \S+$`).FindAllStringSubmatch(text, -1) {
				for _, src := range strings.Fields(m[1]) {
					if strings.HasPrefix(m[0], "COPY --from") || src == "." {
						continue
					}
					copied[src] = true
					if _, err := os.Stat(filepath.Join(root(t), src)); err != nil {
						t.Errorf("COPY %s: not in the repository", src)
					}
				}
			}
			// go mod download runs in workspace mode before the sources are copied: it
			// needs the go.mod of every module go.work uses.
			for _, dir := range workspaceModules(t) {
				if mod := filepath.ToSlash(filepath.Join(dir, "go.mod")); !copied[mod] {
					t.Errorf("%s is in go.work but not copied before go mod download", mod)
				}
			}
			// The image listens for the API and for operations where it says it does.
			env := regexp.MustCompile(`(?m)^ENV .*\bHTTP_ADDR=0\.0\.0\.0:(\d+) .*\bOPS_ADDR=0\.0\.0\.0:(\d+)\b`).FindStringSubmatch(final)
			expose := regexp.MustCompile(`(?m)^EXPOSE (.+)$`).FindStringSubmatch(final)
			if env == nil || expose == nil || !slices.Equal(strings.Fields(expose[1]), env[1:]) {
				t.Errorf("the final stage must set HTTP_ADDR and OPS_ADDR and EXPOSE both ports: ENV %v, EXPOSE %v", env, expose)
			}
			f, err := elf.Open(dockerBuild(t, svc))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Error("the binary is dynamically linked; distroless/static needs a static one")
				}
			}
		})
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func mustAtoi(t *testing.T, s string) uint32 {
	t.Helper()
	var n uint32
	for _, c := range s {
		n = n*10 + uint32(c-'0')
	}
	return n
}

// workspaceModules lists the module folders go.work uses, relative to the root.
func workspaceModules(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root(t), "go.work"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, m := range regexp.MustCompile(`(?m)^\s*\./(\S+)\s*$`).FindAllStringSubmatch(string(raw), -1) {
		dirs = append(dirs, m[1])
	}
	if len(dirs) < 5 {
		t.Fatalf("go.work lists %d modules: %v", len(dirs), dirs)
	}
	return dirs
}
