package domain

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestErrorHelpers(t *testing.T) {
	invalid := &Error{Code: CodeInvalid, Message: "invalid flag", Fields: []FieldError{{Field: "key", Message: "is required"}}}
	tests := []struct {
		name    string
		err     error
		code    Code
		message string
		fields  int
	}{
		{"nil", nil, "", "internal error", 0},
		{"plain error is internal", errors.New("pq: connection refused"), CodeInternal, "internal error", 0},
		{"context error is internal", context.DeadlineExceeded, CodeInternal, "internal error", 0},
		{"domain error", Errorf(CodeNotFound, "flag %q not found", "x"), CodeNotFound, `flag "x" not found`, 0},
		{"wrapped domain error", fmt.Errorf("update flag: %w", invalid), CodeInvalid, "invalid flag", 1},
		{"cause stays out of the message", Wrap(CodeUnavailable, errors.New("dial tcp: refused"), "database unavailable"), CodeUnavailable, "database unavailable", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ErrorCode(tt.err); got != tt.code {
				t.Errorf("code %q, want %q", got, tt.code)
			}
			if got := ErrorMessage(tt.err); got != tt.message {
				t.Errorf("message %q, want %q", got, tt.message)
			}
			if got := len(ErrorFields(tt.err)); got != tt.fields {
				t.Errorf("%d fields, want %d", got, tt.fields)
			}
		})
	}
	cause := errors.New("root")
	if !errors.Is(Wrap(CodeInternal, cause, "x"), cause) {
		t.Error("Wrap must keep the cause for errors.Is")
	}
}
