package api

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
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
	var req evaluateRequest
	if err := httpapi.Decode(c, &req); err != nil {
		return err
	}
	ctx, err := eval.ContextOf(req.Context, "key", "targetingKey")
	if err != nil {
		return err
	}
	snap, err := a.snapshot(c)
	if err != nil {
		return err
	}
	var results []eval.Result
	if req.Flags == nil {
		results = snap.EvaluateAll(&ctx)
	} else {
		results = snap.EvaluateKeys(&ctx, req.Flags)
	}
	a.counter.Add(environment(c), results...)
	out := make(map[string]resultView, len(results))
	for _, r := range results {
		out[r.Key] = view(r)
	}
	return c.JSON(http.StatusOK, map[string]any{"flags": out})
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
