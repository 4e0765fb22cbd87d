package eval_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestEngineDependencies: the engine module (domain, eval, validate, semver) is what the
// Go SDK imports, so it must pull in no server, storage or protocol code. It lists
// every package the module's packages build from, tests excluded, with the module
// on its own (GOWORK=off), and refuses any of the server-side dependencies.
func TestEngineDependencies(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "../...")
	cmd.Env = append(cmd.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{
		"github.com/labstack/echo", "github.com/redis/go-redis", "github.com/jackc/pgx",
		"gorm.io/", "github.com/getkin/kin-openapi", "github.com/prometheus/",
		"github.com/switchyard/switchyard/pkg/platform", "github.com/switchyard/switchyard/pkg/testinfra",
		"github.com/switchyard/switchyard/services/",
	}
	deps := strings.Fields(string(out))
	for _, d := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(d, f) {
				t.Errorf("the engine depends on %s", d)
			}
		}
	}
	// The list itself must be real: the engine's own packages are in it.
	for _, want := range []string{"github.com/switchyard/switchyard/pkg/eval", "github.com/switchyard/switchyard/pkg/domain"} {
		if !slices.Contains(deps, want) {
			t.Errorf("go list -deps does not list %s:\n%s", want, out)
		}
	}
	t.Logf("engine dependencies outside the standard library: %d packages", len(deps))
}
