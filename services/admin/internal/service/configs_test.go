package service

import (
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

func TestExpectedVersion(t *testing.T) {
	v := func(n int64) *int64 { return &n }
	tests := []struct {
		name    string
		body    *int64
		ifMatch string
		want    int64
		check   bool
		code    domain.Code
	}{
		{"body", v(3), "", 3, true, ""},
		{"quoted header", nil, `"4"`, 4, true, ""},
		{"weak header", nil, `W/"5"`, 5, true, ""},
		{"bare header", nil, `6`, 6, true, ""},
		{"both agree", v(7), `"7"`, 7, true, ""},
		{"both disagree", v(7), `"8"`, 0, false, domain.CodeInvalid},
		{"any version", nil, `*`, 0, false, ""},
		{"garbage header", nil, `soon`, 0, false, domain.CodeInvalid},
		{"nothing", nil, "", 0, false, domain.CodePrecondition},
	}
	for _, tt := range tests {
		got, check, err := expectedVersion(tt.body, tt.ifMatch)
		if domain.ErrorCode(err) != tt.code || got != tt.want || check != tt.check {
			t.Errorf("%s: %d %v %v", tt.name, got, check, err)
		}
	}
}

func TestFillRuleIDs(t *testing.T) {
	rules := []domain.Rule{{ID: ""}, {ID: "rule-2"}, {ID: ""}, {ID: "staff"}, {ID: ""}}
	fillRuleIDs(rules)
	want := []string{"rule-1", "rule-2", "rule-3", "staff", "rule-4"}
	for i, r := range rules {
		if r.ID != want[i] {
			t.Errorf("rule %d: %q, want %q", i, r.ID, want[i])
		}
	}
}
