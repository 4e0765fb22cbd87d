package ui

import (
	"embed"
	"fmt"
	"github.com/switchyard/switchyard/pkg/eval"
	"html/template"
	"io"
	"io/fs"
	"math"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/services/admin/internal/ui/form"
)

//go:embed templates/*.html
var templateFS embed.FS

// views are the dashboard's pages: each page file (templates/<page>.html) defines
// "content", parsed with the shared layout and partials into a template of its own.
type views struct {
	pages map[string]*template.Template
}

func mustViews() *views {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	v := &views{pages: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
		v.pages[name] = t
	}
	return v
}

func (v *views) render(w io.Writer, page string, data any) error {
	t, ok := v.pages[page]
	if !ok {
		return fmt.Errorf("no page %q", page)
	}
	return t.ExecuteTemplate(w, "layout", data)
}

// funcs are the templates' helpers. None returns template.HTML: whatever they build
// is escaped like any other value.
var funcs = template.FuncMap{
	"esc":     url.PathEscape,
	"query":   url.QueryEscape,
	"flagURL": flagURL,
	"ago":     ago,
	"when":    when,
	"iso":     func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"add":     func(a, b int) int { return a + b },
	"sub":     func(a, b int) int { return a - b },
	"seq": func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = i
		}
		return s
	},
	"reason": func(r eval.Reason) string { return reasonText[r] },
	"pct":    pct,
	"num":    func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) },
	"count":  count,
	"dict":   dict,
	"list":   func(v ...any) []any { return v },
	"contains": func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	},
	"join":       strings.Join,
	"printf":     fmt.Sprintf,
	"idOf":       idOf,
	"bar":        bar,
	"sentenceOf": ruleSentence,
	"mod":        func(a, b int) int { return a % b },
	"weight":     func(s form.Serve, k string) string { return s.Weights[k] },
	"sumOf":      func(s form.Serve) float64 { return math.Round(s.Sum()*1000) / 1000 },
	"valueText":  form.VariantText,
	"jsonText":   compact,
	"derefU": func(u *uint32) uint32 {
		if u == nil {
			return 0
		}
		return *u
	},
	"px": func(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) },
	"derefT": func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	},
}

// flagURL is the address of a flag's page (or below it): keys may hold "/", sent as
// %2F.
func flagURL(project, flag string, rest ...string) string {
	u := "/projects/" + url.PathEscape(project) + "/flags/" + url.PathEscape(flag)
	for _, r := range rest {
		u += "/" + r
	}
	return u
}

// ago writes a relative time ("3 h ago"); when writes the absolute one for its title.
func ago(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + " min ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + " h ago"
	}
	return strconv.Itoa(int(d.Hours()/24)) + " days ago"
}

func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func pct(f float64) string {
	return strconv.FormatFloat(math.Round(f*1000)/1000, 'f', -1, 64) + "%"
}

// count writes a number with thousands separators.
func count(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// dict builds a map for a partial: dict "key" value "key2" value2.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}

// parseWeight reads a weight as typed; what does not parse counts as 0 (the form
// names it).
func parseWeight(s string) float64 {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0
	}
	return f
}
