package api

import (
	"net/http"
	"net/url"

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
	raw := map[string]any{}
	for k, vs := range c.QueryParams() {
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
	ctx, err := eval.ContextOf(raw, "key", "targetingKey")
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
	return c.JSONBlob(status, v.appendJSON(make([]byte, 0, 160)))
}
