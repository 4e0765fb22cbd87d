package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/pkg/domain"
	"github.com/switchyard/switchyard/pkg/eval"
	"github.com/switchyard/switchyard/pkg/platform/httpapi"
	"github.com/switchyard/switchyard/services/evaluator/internal/analytics"
)

// Limits of an evaluation report.
const (
	maxReportEntries = 1000
	maxReportCount   = 1_000_000
	maxVariantLength = 200
)

type reportEntry struct {
	Flag    string `json:"flag"`
	Variant string `json:"variant"`
	Reason  string `json:"reason"`
	Count   int64  `json:"count"`
}

type report struct {
	Evaluations []reportEntry `json:"evaluations"`
}

// reasonNames lists the engine's reasons, for the message that names them.
func reasonNames() string {
	names := make([]string, len(eval.Reasons))
	for i, r := range eval.Reasons {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// events answers POST /api/v1/events: evaluation counts SDKs made in process, so
// analytics and stale-flag detection see their traffic. Flags the environment does
// not have are ignored, and counted as such.
func (a *API) events(c echo.Context) error {
	var req report
	if err := httpapi.Decode(c, &req); err != nil {
		return err
	}
	if req.Evaluations == nil {
		return domain.InvalidField("evaluation report", "evaluations", "is required")
	}
	if len(req.Evaluations) > maxReportEntries {
		return domain.InvalidField("evaluation report", "evaluations", fmt.Sprintf("must have at most %d entries; send several reports", maxReportEntries))
	}
	var fields []domain.FieldError
	for i, e := range req.Evaluations {
		at := fmt.Sprintf("evaluations[%d].", i)
		switch {
		case e.Flag == "":
			fields = append(fields, domain.FieldError{Field: at + "flag", Message: "is required"})
		case len(e.Flag) > 200:
			fields = append(fields, domain.FieldError{Field: at + "flag", Message: "must be at most 200 characters"})
		}
		if len(e.Variant) > maxVariantLength {
			fields = append(fields, domain.FieldError{Field: at + "variant", Message: fmt.Sprintf("must be at most %d characters", maxVariantLength)})
		}
		if !slices.Contains(eval.Reasons[:], eval.Reason(e.Reason)) {
			fields = append(fields, domain.FieldError{Field: at + "reason", Message: "must be one of " + reasonNames()})
		}
		if e.Count < 1 || e.Count > maxReportCount {
			fields = append(fields, domain.FieldError{Field: at + "count", Message: fmt.Sprintf("must be from 1 to %d", maxReportCount)})
		}
		if len(fields) >= 20 { // enough to fix the client; the rest are likely alike
			break
		}
	}
	if len(fields) > 0 {
		return domain.Invalid("evaluation report", fields...)
	}
	snap, err := a.snapshot(c)
	if err != nil {
		return err
	}
	counts := make([]analytics.Count, 0, len(req.Evaluations))
	for _, e := range req.Evaluations {
		if snap.Has(e.Flag) {
			counts = append(counts, analytics.Count{Flag: e.Flag, Variant: e.Variant, Reason: e.Reason, N: e.Count})
		}
	}
	a.counter.AddCounts(environment(c), counts)
	return c.JSON(http.StatusAccepted, map[string]int{"accepted": len(counts), "ignored": len(req.Evaluations) - len(counts)})
}
