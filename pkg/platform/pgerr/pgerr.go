// Package pgerr translates PostgreSQL driver errors (pgx, through gorm or database/sql)
// into the application's error codes, at the edge of each storage adapter: a missing
// row is not found, a unique or foreign-key violation and a serialization failure are
// conflicts, and a database that is down, restarting or cut off is unavailable (503),
// never an internal error.
package pgerr

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/switchyard/switchyard/pkg/domain"
)

// Translate turns driver errors into domain errors; domain errors pass unchanged.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return domain.Wrap(domain.CodeNotFound, err, "not found")
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505":
			return domain.Wrap(domain.CodeConflict, err, "already exists")
		case "23503":
			return domain.Wrap(domain.CodeConflict, err, "refers to something that does not exist")
		case "40001", "40P01":
			return domain.Wrap(domain.CodeConflict, err, "a concurrent change won; retry")
		case "57P01", "57P02", "57P03", "53300":
			return domain.Wrap(domain.CodeUnavailable, err, "database unavailable")
		}
		switch pg.Code { // connection exceptions; not 08P01, a protocol violation (a bug)
		case "08000", "08001", "08003", "08004", "08006":
			return domain.Wrap(domain.CodeUnavailable, err, "database unavailable")
		}
		return err
	}
	// A server that died mid-statement shows as a closed connection or a cut stream,
	// not as an error code: that is a 503 too, never a 500.
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return domain.Wrap(domain.CodeUnavailable, err, "database unavailable")
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return domain.Wrap(domain.CodeUnavailable, err, "database unavailable")
	}
	return err
}
