package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/jsonscan"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
)

// resultView is a result as /api/v1 shows it.
type resultView struct {
	Key       string         `json:"key,omitempty"`
	Value     any            `json:"value"`
	Variant   string         `json:"variant,omitempty"`
	Reason    eval.Reason    `json:"reason"`
	RuleID    string         `json:"rule_id,omitempty"`
	ErrorCode eval.ErrorCode `json:"error_code,omitempty"`
	// ErrorMessage says why, for GENERAL: a broken configuration, or the evaluation's
	// budget ran out.
	ErrorMessage string `json:"error_message,omitempty"`
}

func view(r eval.Result) resultView {
	return resultView{Value: r.Value, Variant: r.Variant, Reason: r.Reason, RuleID: r.RuleID, ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage}
}

type evaluateRequest struct {
	Context map[string]any `json:"context"`
	Flags   []string       `json:"flags"`
}

// evaluate answers POST /api/v1/evaluate: every flag of the environment, or the named
// ones, for one context.
func (a *API) evaluate(c echo.Context) error {
	st := getRequest()
	defer st.release()
	ctx, flags, err := readEvaluate(c, st)
	if err != nil {
		return err
	}
	snap, err := a.snapshot(c)
	if err != nil {
		return err
	}
	var results []eval.Result
	if flags == nil {
		results = snap.EvaluateAll(&ctx)
	} else {
		results = snap.EvaluateKeys(&ctx, flags)
	}
	a.counter.Add(environment(c), results...)
	st.answer = appendEvaluateAnswer(st.answer[:0], results)
	return writeJSON(c, http.StatusOK, st.answer)
}

// readEvaluate decodes a POST /api/v1/evaluate body into st. The usual body, a
// context object and a list of flag keys and nothing else, is scanned straight into
// the context's list; any other goes through httpapi.DecodeBytes, whose errors name
// every field at fault, so both read a body alike.
func readEvaluate(c echo.Context, st *request) (eval.Context, []string, error) {
	body, err := readBody(c.Request().Body, st.body[:0])
	st.body = body
	if err != nil {
		return eval.Context{}, nil, httpapi.ReadError(err)
	}
	if flags, ok := usualEvaluate(body); ok {
		ctx, err := eval.ContextFromJSON(body, "context", st.attrs[:0], "key", "targetingKey")
		// A number beyond float64 is left to the strict decoder, which names it.
		if !errors.Is(err, eval.ErrNotObject) {
			return ctx, flags, err
		}
	}
	var req evaluateRequest
	if err := httpapi.DecodeBytes(body, &req); err != nil {
		return eval.Context{}, nil, err
	}
	ctx, err := eval.ContextOf(req.Context, "key", "targetingKey")
	return ctx, req.Flags, err
}

// usualEvaluate reports whether body is valid JSON text of the usual shape: an object
// of at most "context" (an object or null) and "flags" (an array of strings or
// null), names spelled exactly; and returns the flags (nil when absent or null, every
// flag then).
func usualEvaluate(body []byte) (flags []string, ok bool) {
	if !json.Valid(body) || httpapi.CheckJSONText(body) != nil {
		return nil, false
	}
	sc := jsonscan.New(body)
	if sc.Peek() != '{' {
		return nil, false
	}
	ok = true
	sc.Members(func(name string) {
		c := sc.Peek()
		switch {
		case name == "context" && (c == '{' || c == 'n'):
			sc.Skip()
		case name == "flags" && c == 'n':
			sc.Skip()
			flags = nil
		case name == "flags" && c == '[':
			flags = []string{}
			sc.Elements(func() {
				if sc.Peek() != '"' {
					ok = false
					sc.Skip()
					return
				}
				flags = append(flags, sc.Str())
			})
		default:
			ok = false
			sc.Skip()
		}
	})
	return flags, ok
}

// appendEvaluateAnswer encodes {"flags": {key: result}} as the serializer encodes the
// map: keys sorted, one entry per key.
func appendEvaluateAnswer(b []byte, results []eval.Result) []byte {
	slices.SortStableFunc(results, func(x, y eval.Result) int { return strings.Compare(x.Key, y.Key) })
	b = append(b, `{"flags":{`...)
	for i, r := range results {
		if i+1 < len(results) && results[i+1].Key == r.Key {
			continue // a key asked for twice: the map keeps the last
		}
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = appendString(b, r.Key)
		b = append(b, ':')
		b = view(r).appendJSON(b)
		b = b[:len(b)-1] // the view's newline
	}
	return append(b, '}', '}', '\n')
}

// evaluateOne answers GET /api/v1/evaluate/{flag}: the context comes from the query
// (key is the targeting key; a repeated parameter is a list).
func (a *API) evaluateOne(c echo.Context) error {
	flag, err := url.PathUnescape(c.Param("*"))
	if err != nil || flag == "" {
		return domain.InvalidField("flag key", "flag", "is required in the path")
	}
	st := getRequest()
	defer st.release()
	ctx, err := queryContext(c.Request().URL.RawQuery, st.attrs[:0])
	if err != nil {
		return err
	}
	snap, err := a.snapshot(c)
	if err != nil {
		return err
	}
	r := snap.Evaluate(flag, &ctx)
	a.counter.Add(environment(c), r)
	v := view(r)
	v.Key = flag
	status := http.StatusOK
	if r.ErrorCode == eval.ErrFlagNotFound {
		status = http.StatusNotFound
	}
	st.answer = v.appendJSON(st.answer[:0])
	return writeJSON(c, status, st.answer)
}

// queryContext reads a context from a query string as url.ParseQuery and ContextOf
// would ("key" or "targetingKey" is the targeting key, a repeated parameter is a list,
// a pair that does not unescape is skipped), into a list while it fits in into's
// capacity, and through a map beyond.
func queryContext(query string, into []eval.Attribute) (eval.Context, error) {
	list := into[:0]
	for pair := range strings.SplitSeq(query, "&") {
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(name)
		if err != nil {
			continue
		}
		if value, err = url.QueryUnescape(value); err != nil {
			continue
		}
		i := slices.IndexFunc(list, func(a eval.Attribute) bool { return a.Name == name })
		switch {
		case i < 0 && len(list) == cap(list):
			return queryContextMap(query)
		case i < 0:
			list = append(list, eval.Attribute{Name: name, Text: value})
		case list[i].Value == nil:
			list[i].Value = []any{list[i].Text, value}
		default:
			list[i].Value = append(list[i].Value.([]any), value)
		}
	}
	ctx := eval.Context{List: list}
	for _, f := range [...]string{"key", "targetingKey"} {
		i := slices.IndexFunc(list, func(a eval.Attribute) bool { return a.Name == f })
		if i < 0 {
			continue
		}
		if list[i].Value != nil {
			return ctx, domain.InvalidField("context", "context."+f, "must be a string")
		}
		ctx.Key = list[i].Text
		ctx.List = slices.Delete(list, i, i+1)
		break
	}
	return ctx, nil
}

func queryContextMap(query string) (eval.Context, error) {
	values, _ := url.ParseQuery(query)
	raw := make(map[string]any, len(values))
	for k, vs := range values {
		if len(vs) == 1 {
			raw[k] = vs[0]
			continue
		}
		list := make([]any, len(vs))
		for i, v := range vs {
			list[i] = v
		}
		raw[k] = list
	}
	return eval.ContextOf(raw, "key", "targetingKey")
}
