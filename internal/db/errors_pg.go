package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// pgError is a PostgreSQL error behind one of the package's sentinels. The
// driver error stays in the chain for WriteTx's retry, never in the text.
type pgError struct {
	is    error
	code  string
	cause error
}

func (e *pgError) Error() string {
	if e.is == ErrStorage {
		return fmt.Sprintf("%s (SQLSTATE %s)", ErrStorage, e.code)
	}
	return e.is.Error()
}

func (e *pgError) Is(target error) bool { return target == e.is }
func (e *pgError) Unwrap() error        { return e.cause }

// translatePG maps the driver's errors as Translate does SQLite's.
func translatePG(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch code := pe.Code; {
		case code == "23505":
			return ErrConflict
		case code == "23503":
			return ErrNotFound // the row it refers to does not exist
		case code == "40001", code == "40P01", code == "55P03", code == "57014":
			// serialization failure, deadlock, lock or statement timeout
			return &pgError{is: ErrBusy, code: code, cause: err}
		case strings.HasPrefix(code, "08"), code == "57P01", code == "57P02", code == "57P03", code == "53300":
			return &pgError{is: ErrUnreachable, code: code, cause: err}
		default:
			return &pgError{is: ErrStorage, code: code, cause: err}
		}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	if unreachable(err) {
		return &pgError{is: ErrUnreachable, cause: err}
	}
	return err
}

// unreachable says err is the connection failing rather than a statement.
func unreachable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || pgconn.Timeout(err)
}

// retryable says a transaction failed only because another ran beside it.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

func isUndefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01"
}
