package db

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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
	msg   string // the sentence for a failure the operator must fix; "" for is's own
	cause error
}

func (e *pgError) Error() string {
	switch {
	case e.msg != "":
		return e.msg
	case e.is == ErrStorage:
		return fmt.Sprintf("%s (SQLSTATE %s)", ErrStorage, e.code)
	}
	return e.is.Error()
}

// Sentences for the failures an operator fixes rather than waits out: they
// say what to change, and never quote the address (it may hold a password)
// or the server's own text (it may quote SQL).
const (
	pgNoDatabase   = "the PostgreSQL database does not exist: create it, or name another in --db"
	pgLoginRefused = "PostgreSQL refused the login: check the user and password of --db (or PGUSER, PGPASSWORD, ~/.pgpass) and the server's pg_hba.conf"
	pgNoPermission = "PostgreSQL denied the smartmfa user permission: it must own the database, or the schema it works in"
	pgNoTLS        = "the store cannot be reached: the PostgreSQL server does not offer TLS, which the sslmode of --db requires"
	pgBadCert      = "the store cannot be reached: the PostgreSQL server's certificate does not verify (check sslrootcert, and that --db names the host the certificate is for)"
	pgTLSFailed    = "the store cannot be reached: the TLS handshake with the PostgreSQL server failed"
)

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
		case code == "3D000":
			return &pgError{is: ErrStorage, code: code, msg: pgNoDatabase, cause: err}
		case code == "28P01", code == "28000":
			return &pgError{is: ErrStorage, code: code, msg: pgLoginRefused, cause: err}
		case code == "42501":
			return &pgError{is: ErrStorage, code: code, msg: pgNoPermission, cause: err}
		default:
			return &pgError{is: ErrStorage, code: code, cause: err}
		}
	}
	if msg := tlsFailure(err); msg != "" {
		// Unreachable still: a server in the middle of a fail-over may
		// answer without TLS or with another certificate for a while.
		return &pgError{is: ErrUnreachable, msg: msg, cause: err}
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		// Before the context's errors: connect_timeout is a deadline inside
		// the connection attempt. A caller's own cancellation stays in the
		// chain for errors.Is.
		return &pgError{is: ErrUnreachable, cause: err}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	if unreachable(err) {
		return &pgError{is: ErrUnreachable, cause: err}
	}
	return err
}

// tlsFailure names what went wrong when a TLS connection the address asks
// for could not be made; "" when err is no such failure.
func tlsFailure(err error) string {
	var unknownCA x509.UnknownAuthorityError
	var wrongHost x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	var record tls.RecordHeaderError
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &wrongHost), errors.As(err, &invalid), errors.As(err, &verify):
		return pgBadCert
	case errors.As(err, &alert), errors.As(err, &record):
		return pgTLSFailed
	case strings.Contains(err.Error(), "server refused TLS connection"): // pgconn's startTLS, no type of its own
		return pgNoTLS
	}
	return ""
}

// unreachable says err is the connection failing rather than a statement.
func unreachable(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || pgconn.Timeout(err) ||
		errors.Is(err, pgconn.ErrConnClosed) // a transaction's next statement once its connection died
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
