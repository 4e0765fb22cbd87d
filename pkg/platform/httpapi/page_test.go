package httpapi

import (
	"slices"
	"testing"

	"github.com/switchyard/switchyard/pkg/domain"
)

func TestCursor(t *testing.T) {
	for _, pos := range []string{"new-checkout", "checkout/v2", "12345"} {
		got, err := DecodeCursor(EncodeCursor(pos))
		if err != nil || got != pos {
			t.Errorf("round trip %q: %q %v", pos, got, err)
		}
	}
	if _, err := DecodeCursor("!!!"); !slices.Contains([]string{"cursor"}, domain.ErrorFields(err)[0].Field) {
		t.Errorf("bad cursor: %v", err)
	}
}
