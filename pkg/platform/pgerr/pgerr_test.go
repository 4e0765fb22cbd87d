package pgerr

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
)

// TestTranslate: driver errors become the domain's codes at the edge; a database that
// dies mid-statement is a 503, never a 500.
func TestTranslate(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want domain.Code
	}{
		{"not found", gorm.ErrRecordNotFound, domain.CodeNotFound},
		{"unique", &pgconn.PgError{Code: "23505"}, domain.CodeConflict},
		{"serialization", fmt.Errorf("tx: %w", &pgconn.PgError{Code: "40001"}), domain.CodeConflict},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, domain.CodeUnavailable},
		{"connection failure", &pgconn.PgError{Code: "08006"}, domain.CodeUnavailable},
		{"conn closed", fmt.Errorf("query: %w", pgconn.ErrConnClosed), domain.CodeUnavailable},
		{"cut stream", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), domain.CodeUnavailable},
		{"eof", io.EOF, domain.CodeUnavailable},
		{"conn done", sql.ErrConnDone, domain.CodeUnavailable},
		{"syntax", &pgconn.PgError{Code: "42601"}, domain.CodeInternal},
		{"protocol violation, a bug", &pgconn.PgError{Code: "08P01"}, domain.CodeInternal},
		{"other", errors.New("boom"), domain.CodeInternal},
	} {
		if got := domain.ErrorCode(Translate(c.err)); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
	if err := Translate(context.Canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}
