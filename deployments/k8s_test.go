package deployments

import (
	"bytes"
	"errors"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// object is one rendered manifest, as generic YAML.
type object map[string]any

// asObject accepts a mapping however the decoder typed it.
func asObject(v any) (object, bool) {
	switch m := v.(type) {
	case object:
		return m, true
	case map[string]any:
		return object(m), true
	}
	return nil, false
}

func (o object) get(path ...string) any {
	var cur any = o
	for _, p := range path {
		m, ok := asObject(cur)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func (o object) str(path ...string) string { s, _ := o.get(path...).(string); return s }

func (o object) list(path ...string) []any { l, _ := o.get(path...).([]any); return l }

func (o object) labels(path ...string) map[string]string {
	out := map[string]string{}
	if m, ok := asObject(o.get(path...)); ok {
		for k, v := range m {
			out[k], _ = v.(string)
		}
	}
	return out
}

// build renders a kustomization the way kubectl apply -k does, over an in-memory copy
// of deployments/k8s where each secrets.env.example also stands as the secrets.env an
// operator writes (and git ignores).
func build(t *testing.T, dir string) []object {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	top := filepath.Join(root(t), "deployments", "k8s")
	err := filepath.WalkDir(top, func(path string, d iofs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := fs.WriteFile(path, data); err != nil {
			return err
		}
		if strings.HasSuffix(path, "/secrets.env.example") {
			return fs.WriteFile(strings.TrimSuffix(path, ".example"), data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	res, err := k.Run(fs, filepath.Join(root(t), dir))
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	raw, err := res.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	var out []object
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var o object
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, o)
	}
	return out
}

func byKind(objs []object, kind string) map[string]object {
	out := map[string]object{}
	for _, o := range objs {
		if o.str("kind") == kind {
			out[o.str("metadata", "name")] = o
		}
	}
	return out
}

func subset(sel, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// containers returns the containers of a workload's pod template.
func containers(o object) []object {
	var out []object
	for _, c := range o.list("spec", "template", "spec", "containers") {
		if m, ok := asObject(c); ok {
			out = append(out, m)
		}
	}
	return out
}

func ports(c object) map[string]int {
	out := map[string]int{}
	for _, p := range c.list("ports") {
		m, _ := asObject(p)
		n, _ := m.get("containerPort").(int)
		out[m.str("name")] = n
	}
	return out
}

func TestKubernetes(t *testing.T) {
	base := build(t, "deployments/k8s/base")
	overlay := build(t, "deployments/k8s/overlays/example")
	for name, objs := range map[string][]object{"base": base, "overlay": overlay} {
		t.Run(name, func(t *testing.T) { checkManifests(t, objs, name == "overlay") })
	}
	// The overlay supplies the secret and pins images.
	deps := byKind(overlay, "Deployment")
	for _, d := range deps {
		for _, c := range containers(d) {
			if strings.HasSuffix(c.str("image"), ":latest") {
				t.Errorf("%s: the overlay must pin the image, not %s", d.str("metadata", "name"), c.str("image"))
			}
		}
		if d.str("metadata", "namespace") != "switchyard" {
			t.Errorf("%s: namespace %q", d.str("metadata", "name"), d.str("metadata", "namespace"))
		}
	}
}

func checkManifests(t *testing.T, objs []object, withSecret bool) {
	deps := byKind(objs, "Deployment")
	jobs := byKind(objs, "Job")
	services := byKind(objs, "Service")
	for _, want := range []string{"switchyard-admin", "switchyard-evaluator"} {
		if _, ok := deps[want]; !ok {
			t.Fatalf("no Deployment %s", want)
		}
		if _, ok := services[want]; !ok {
			t.Errorf("no Service %s", want)
		}
	}
	workloads := map[string]object{}
	for n, d := range deps {
		workloads[n] = d
	}
	for n, j := range jobs {
		workloads[n] = j
	}

	// Selectors match their own pods; probes hit the right paths on declared ports.
	for name, d := range deps {
		if !subset(d.labels("spec", "selector", "matchLabels"), d.labels("spec", "template", "metadata", "labels")) {
			t.Errorf("%s: the selector does not match its pod labels", name)
		}
		for _, c := range containers(d) {
			ps := ports(c)
			for probe, path := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz"} {
				if got := c.str(probe, "httpGet", "path"); got != path {
					t.Errorf("%s: %s path %q, want %s", name, probe, got, path)
				}
				if port := c.str(probe, "httpGet", "port"); ps[port] == 0 {
					t.Errorf("%s: %s port %q is not a container port", name, probe, port)
				}
			}
		}
	}
	// Prometheus scrapes each pod's operations listener: the annotated port is the
	// container port named ops, which OPS_ADDR listens on; probes and Services use the
	// public port only, so no Service exposes the metrics or the profiles.
	for name, d := range deps {
		ann := d.labels("spec", "template", "metadata", "annotations")
		c := containers(d)[0]
		ops := ports(c)["ops"]
		if ops == 0 || ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/path"] != "/metrics" || ann["prometheus.io/port"] != strconv.Itoa(ops) {
			t.Errorf("%s: scrape annotations %v, want the container port named ops (%d) and /metrics", name, ann, ops)
		}
		if got := envValue(c, "OPS_ADDR"); got != "0.0.0.0:"+strconv.Itoa(ops) {
			t.Errorf("%s: OPS_ADDR %q, want 0.0.0.0:%d", name, got, ops)
		}
		for _, probe := range []string{"readinessProbe", "livenessProbe"} {
			if c.str(probe, "httpGet", "port") == "ops" {
				t.Errorf("%s: %s on the operations port", name, probe)
			}
		}
	}
	for name, s := range services {
		for _, p := range s.list("spec", "ports") {
			if po, _ := asObject(p); po.str("targetPort") == "ops" || po.str("name") == "ops" {
				t.Errorf("Service %s exposes the operations listener", name)
			}
		}
	}
	// Services select a Deployment's pods and target one of its ports.
	for name, s := range services {
		sel := s.labels("spec", "selector")
		var target object
		for _, d := range deps {
			if subset(sel, d.labels("spec", "template", "metadata", "labels")) {
				target = d
			}
		}
		if target == nil {
			t.Errorf("Service %s selects no Deployment's pods", name)
			continue
		}
		for _, p := range s.list("spec", "ports") {
			po, _ := asObject(p)
			tp := po.str("targetPort")
			if ports(containers(target)[0])[tp] == 0 {
				t.Errorf("Service %s targets port %q, which its pods do not have", name, tp)
			}
		}
	}
	// The HPA and PDB cover the evaluator.
	hpa := byKind(objs, "HorizontalPodAutoscaler")["switchyard-evaluator"]
	if hpa == nil || hpa.str("spec", "scaleTargetRef", "kind") != "Deployment" || deps[hpa.str("spec", "scaleTargetRef", "name")] == nil {
		t.Error("the evaluator needs a HorizontalPodAutoscaler targeting its Deployment")
	}
	pdb := byKind(objs, "PodDisruptionBudget")["switchyard-evaluator"]
	if pdb == nil || !subset(pdb.labels("spec", "selector", "matchLabels"), deps["switchyard-evaluator"].labels("spec", "template", "metadata", "labels")) {
		t.Error("the evaluator needs a PodDisruptionBudget selecting its pods")
	}
	// The migration Job runs the admin binary's migrate up.
	job := jobs["switchyard-migrate"]
	if job == nil || !strings.Contains(containers(job)[0].str("image"), "switchyard/admin") ||
		!slices.Equal(toStrings(containers(job)[0].list("args")), []string{"migrate", "up"}) {
		t.Error("a Job must run 'admin migrate up'")
	}

	// Every secret and config map a workload names exists, with the keys it reads.
	secrets := byKind(objs, "Secret")
	configMaps := byKind(objs, "ConfigMap")
	for name, w := range workloads {
		if w.get("spec", "template", "spec", "securityContext", "runAsNonRoot") != true {
			t.Errorf("%s: pods must run as non-root", name)
		}
		for _, c := range containers(w) {
			if c.get("securityContext", "readOnlyRootFilesystem") != true {
				t.Errorf("%s: containers must have a read-only root filesystem", name)
			}
			for _, e := range c.list("env") {
				ref, _ := asObject(e)
				sref := ref.str("valueFrom", "secretKeyRef", "name")
				if sref == "" {
					continue
				}
				key := ref.str("valueFrom", "secretKeyRef", "key")
				optional := ref.get("valueFrom", "secretKeyRef", "optional") == true
				if !withSecret {
					if !strings.HasPrefix(sref, "switchyard-secrets") {
						t.Errorf("%s: unexpected secret %s", name, sref)
					}
					continue
				}
				s := secrets[sref]
				if s == nil {
					t.Errorf("%s: secret %s is not defined", name, sref)
					continue
				}
				data, _ := asObject(s.get("data"))
				if _, ok := data[key]; !ok && !optional {
					t.Errorf("%s: secret %s has no key %s", name, sref, key)
				}
			}
			for _, ef := range c.list("envFrom") {
				efo, _ := asObject(ef)
				if cm := efo.str("configMapRef", "name"); cm != "" && configMaps[cm] == nil {
					t.Errorf("%s: config map %s is not defined", name, cm)
				}
			}
		}
	}
}

// envValue returns the literal value of a container's environment variable.
func envValue(c object, name string) string {
	for _, e := range c.list("env") {
		if m, ok := asObject(e); ok && m.str("name") == name {
			return m.str("value")
		}
	}
	return ""
}

func toStrings(l []any) []string {
	out := make([]string, len(l))
	for i, v := range l {
		out[i], _ = v.(string)
	}
	return out
}
