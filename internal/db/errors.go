package db

import (
	"database/sql"
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Errors the queries return in place of driver errors, so callers never
// inspect SQL error text.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	ErrBusy     = errors.New("the database is locked by another process; try again")
	ErrTooNew   = errors.New("the database was written by a newer smartmfa")
	ErrStorage  = errors.New("the database could not complete the request")
	// ErrUnreachable: a PostgreSQL store did not answer (down, network, TLS).
	ErrUnreachable = errors.New("the store cannot be reached; try again")
)

// storageError hides a driver error's text (which may quote SQL) behind
// ErrStorage and SQLite's one-line description of its code.
type storageError struct {
	code  int
	cause error
}

func (e *storageError) Error() string {
	if s, ok := sqlite.ErrorCodeString[e.code]; ok {
		return fmt.Sprintf("%s (%s)", ErrStorage, s)
	}
	return ErrStorage.Error()
}

func (e *storageError) Is(target error) bool { return target == ErrStorage }

// Unwrap keeps the driver error for logs and tests.
func (e *storageError) Unwrap() error { return e.cause }

// Translate maps a driver error to one of the package's errors where one fits.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT:
			if se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
				return ErrConflict
			}
			if se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY {
				return ErrNotFound // the row it refers to does not exist
			}
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return ErrBusy
		}
		return &storageError{code: se.Code(), cause: err}
	}
	return translatePG(err)
}

// translateOpen turns a failure while opening into one sentence about the file.
func translateOpen(path string, err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("%s is not a smartmfa database", path)
		case sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY:
			return fmt.Errorf("the database %s cannot be opened for writing (check its permissions)", path)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("the database %s: %w", path, ErrBusy)
		}
	}
	return fmt.Errorf("opening database %s: %w", path, err)
}
