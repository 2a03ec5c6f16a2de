// Package core owns smartmfa's domain and every rule of it: accounts, users,
// passwords, TOTP enrolment and verification, lockouts, authorization and the
// audit trail. It runs each change in one transaction of internal/db; the
// console and the commands only call it.
package core

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// DefaultIssuer names the service in authenticator apps.
const DefaultIssuer = "smartnumbers"

// Config holds what a Service may be given instead of the defaults; tests
// inject the clock and the random source to make results exact.
type Config struct {
	Issuer   string           // shown in authenticator apps; DefaultIssuer when empty
	Now      func() time.Time // time.Now when nil
	Rand     io.Reader        // crypto/rand when nil
	Password PasswordParams   // OWASPParams when zero
	// OpenRegistration lets anyone register a new account from the login
	// screen; without it only the first account can be registered there.
	OpenRegistration bool
	// NoRegistration closes registration from the console entirely, even on
	// an empty database: `serve` lets anyone reach the login screen, and an
	// anonymous client must not claim the operator's account name first.
	NoRegistration bool
}

// Service is the domain API. It is safe for concurrent use by many sessions.
type Service struct {
	db     *db.DB
	keys   *Keyring
	cfg    Config
	hashes *hashGate // caps concurrent argon2 hashes at the CPU count

	failing failingOrigins // places whose passwords failed lately: they wait last

	dummyOnce sync.Once
	dummyHash string
}

// New builds a Service on an open database and a key ring.
func New(store *db.DB, keys *Keyring, cfg Config) *Service {
	if cfg.Issuer == "" {
		cfg.Issuer = DefaultIssuer
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Password == (PasswordParams{}) {
		cfg.Password = OWASPParams
	}
	return &Service{db: store, keys: keys, cfg: cfg, hashes: newHashGate(runtime.NumCPU())}
}

// Open opens the database at dbPath and the key file at keyPath and builds a
// Service. A key file is created only while no secret depends on one: a
// missing key with enrolled users fails closed.
func Open(ctx context.Context, dbPath, keyPath string, cfg Config) (*Service, error) {
	// A store that cannot be reached is ErrUnreachable from here on, so
	// that serve can wait for it; every other failure keeps its sentence.
	store, err := db.Open(ctx, dbPath)
	if err != nil {
		return nil, reachable(err)
	}
	ids, err := db.MFAKeyIDs(ctx, store)
	if err != nil {
		store.Close()
		return nil, reachable(fmt.Errorf("reading %s: %w", store.Path, err))
	}
	s := New(store, nil, cfg)
	keys, err := LoadKeyring(keyPath)
	if errors.Is(err, ErrKeyMissing) && len(ids) == 0 {
		keys, err = CreateKeyring(keyPath, s.cfg.Rand)
	}
	if err == nil {
		err = keys.holdsAll(ids, keyPath)
	}
	if err != nil {
		store.Close()
		return nil, err
	}
	s.keys = keys
	return s, nil
}

// holdsAll fails closed at start-up when a stored secret was encrypted with a
// key the key file lacks: a wrong --key-file must not go unnoticed until a
// login, nor encrypt new secrets with a key the others do not share.
//
// A key missing from the ring is looked for in the key file again first
// (aead): a rotation in another process adds its key to the file before any
// secret uses it, so a file read before that and a store read after it meet.
func (k *Keyring) holdsAll(ids []string, keyPath string) error {
	for _, id := range ids {
		if _, ok := k.aead(id); !ok {
			return fmt.Errorf("%w: %s does not hold key %s, which encrypts stored MFA secrets (pass the right --key-file)", ErrWrongKey, keyPath, id)
		}
	}
	return nil
}

// Close closes the database.
func (s *Service) Close() error { return s.db.Close() }

// WarmSearch brings the search index up to date in the background, as the
// console and serve start: the first search after an upgrade would otherwise
// wait for a rebuild of the index from the users.
func (s *Service) WarmSearch(ctx context.Context) { s.db.WarmIndex(ctx) }

// Issuer is the name authenticator apps show for this service.
func (s *Service) Issuer() string { return s.cfg.Issuer }

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// commitThen carries an error out of a transaction that must still commit: a
// failure counter and its audit event are changes too.
type commitThen struct{ err error }

func (c commitThen) Error() string { return c.err.Error() }

// tx runs fn in one write transaction: immediate on SQLite, serializable on
// PostgreSQL, where fn runs again after a serialization failure (its
// variables must be set, not accumulated).
func (s *Service) tx(ctx context.Context, fn func(q db.Querier) error) error {
	var after error
	err := s.db.WriteTx(ctx, func(q db.Querier) error {
		after = nil // PostgreSQL may run fn again after a serialization failure
		err := fn(q)
		var ct commitThen
		if errors.As(err, &ct) {
			after = ct.err
			return nil
		}
		return err
	})
	if err != nil {
		return translate(err)
	}
	return after
}

// reachable marks an error of a store that cannot be reached as
// ErrUnreachable and leaves every other error as it is.
func reachable(err error) error {
	if errors.Is(err, db.ErrUnreachable) {
		return translate(err)
	}
	return err
}

// translate turns storage errors into domain errors.
func translate(err error) error {
	switch {
	case errors.Is(err, ErrUnreachable):
		return err // translated already
	case errors.Is(err, db.ErrUnreachable):
		return &unreachableError{cause: err}
	case errors.Is(err, db.ErrBusy):
		return ErrBusy
	case errors.Is(err, db.ErrNotFound):
		return ErrNotFound
	}
	return err
}
