// Package openapi serves a service's OpenAPI 3 document (/openapi.json) and a rendered
// reference (/docs), and checks that the document and the registered routes match.
// Package openapitest validates real responses against the document.
package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
)

// Doc is a loaded, valid OpenAPI document.
type Doc struct {
	T    *openapi3.T
	JSON []byte
}

// Load parses and validates a YAML (or JSON) OpenAPI document.
func Load(raw []byte) (*Doc, error) {
	loader := openapi3.NewLoader()
	t, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	if err := t.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi: invalid document: %w", err)
	}
	j, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return &Doc{T: t, JSON: j}, nil
}

// Register serves /openapi.json and /docs.
func (d *Doc) Register(e *echo.Echo) {
	page := d.render()
	e.GET("/openapi.json", func(c echo.Context) error { return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, d.JSON) })
	e.GET("/docs", func(c echo.Context) error { return c.HTMLBlob(http.StatusOK, page) })
}

// Operation is one documented method and path.
type Operation struct {
	Method, Path string
}

// Operations lists the document's operations.
func (d *Doc) Operations() []Operation {
	var out []Operation
	for path, item := range d.T.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, Operation{Method: method, Path: path})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Path+out[i].Method < out[j].Path+out[j].Method
	})
	return out
}

var param = regexp.MustCompile(`\{[^}]+\}|:[^/]+|\*`)

// normal writes path parameters alike, whichever syntax ({key}, :key or *).
func normal(path string) string { return param.ReplaceAllString(path, "{}") }

// CheckRoutes compares the document with an echo's routes: every route is documented,
// and every documented operation is served. It returns the differences.
func (d *Doc) CheckRoutes(routes []*echo.Route) []string {
	documented := map[string]bool{}
	for _, op := range d.Operations() {
		documented[op.Method+" "+normal(op.Path)] = true
	}
	served := map[string]bool{}
	var out []string
	for _, r := range routes {
		if r.Method == echo.RouteNotFound || strings.HasSuffix(r.Path, "/*") && r.Method == "echo_route_any" {
			continue
		}
		k := r.Method + " " + normal(r.Path)
		served[k] = true
		if !documented[k] {
			out = append(out, "not documented: "+r.Method+" "+r.Path)
		}
	}
	for k := range documented {
		if !served[k] {
			out = append(out, "documented but not served: "+k)
		}
	}
	slices.Sort(out)
	return out
}

var page = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:2rem auto;padding:0 1rem;color:#1d2330}
h1{margin-bottom:.2rem} h2{margin-top:2rem;border-bottom:1px solid #dde} code{font:13px ui-monospace,monospace}
.op{margin:.6rem 0;padding:.5rem .8rem;border:1px solid #e3e6ee;border-radius:6px}
.m{display:inline-block;min-width:4.5rem;font-weight:700} .GET{color:#1a7f37}.POST{color:#0550ae}.PUT{color:#8250df}.PATCH{color:#9a6700}.DELETE{color:#cf222e}
.params,.resp{font-size:13px;color:#57606a;margin-top:.3rem}
</style></head><body>
<h1>{{.Title}}</h1><p>Version {{.Version}} · <a href="/openapi.json">openapi.json</a></p>
<div>{{.Description}}</div>
{{range .Groups}}<h2>{{.Tag}}</h2>{{range .Ops}}
<div class="op"><span class="m {{.Method}}">{{.Method}}</span> <code>{{.Path}}</code> — {{.Summary}}
{{if .Params}}<div class="params">parameters: {{range $i, $p := .Params}}{{if $i}}, {{end}}<code>{{$p}}</code>{{end}}</div>{{end}}
{{if .Body}}<div class="params">body: <code>{{.Body}}</code></div>{{end}}
<div class="resp">answers: {{range $i, $r := .Responses}}{{if $i}}, {{end}}<code>{{$r}}</code>{{end}}</div></div>{{end}}{{end}}
</body></html>`))

type opView struct {
	Method, Path, Summary, Body string
	Params, Responses           []string
}

func schemaName(ref string) string { return ref[strings.LastIndex(ref, "/")+1:] }

func (d *Doc) render() []byte {
	groups := map[string][]opView{}
	for _, op := range d.Operations() {
		o := d.T.Paths.Find(op.Path).GetOperation(op.Method)
		v := opView{Method: op.Method, Path: op.Path, Summary: o.Summary}
		for _, p := range append(d.T.Paths.Find(op.Path).Parameters, o.Parameters...) {
			if p.Value != nil {
				v.Params = append(v.Params, p.Value.In+" "+p.Value.Name)
			}
		}
		if o.RequestBody != nil && o.RequestBody.Value != nil {
			for _, mt := range o.RequestBody.Value.Content {
				if mt.Schema != nil && mt.Schema.Ref != "" {
					v.Body = schemaName(mt.Schema.Ref)
				} else {
					v.Body = "object"
				}
			}
		}
		for code := range o.Responses.Map() {
			v.Responses = append(v.Responses, code)
		}
		sort.Strings(v.Responses)
		tag := "other"
		if len(o.Tags) > 0 {
			tag = o.Tags[0]
		}
		groups[tag] = append(groups[tag], v)
	}
	type group struct {
		Tag string
		Ops []opView
	}
	var gs []group
	for _, t := range d.T.Tags {
		if ops, ok := groups[t.Name]; ok {
			gs = append(gs, group{Tag: t.Name, Ops: ops})
			delete(groups, t.Name)
		}
	}
	rest := slices.Sorted(maps.Keys(groups)) // tags the document does not declare
	for _, t := range rest {
		gs = append(gs, group{Tag: t, Ops: groups[t]})
	}
	var b bytes.Buffer
	_ = page.Execute(&b, map[string]any{"Title": d.T.Info.Title, "Version": d.T.Info.Version,
		"Description": d.T.Info.Description, "Groups": gs})
	return b.Bytes()
}
