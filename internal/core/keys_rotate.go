package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// The key commands' audit events: one per command, naming keys by id only.
const (
	ActionKeyRotated Action = "key.rotated"
	ActionKeyRetired Action = "key.retired"
)

// Key errors.
var (
	ErrKeyBusy    = errors.New("another key rotation or retirement is running on this key file; wait for it to finish")
	ErrKeyInUse   = errors.New("the key still encrypts stored secrets")
	ErrKeyCurrent = errors.New("the key encrypts new secrets")
	ErrNoKeyFile  = errors.New("the keys were not read from a key file")
)

// RotateBatch is how many secrets a rotation re-encrypts per transaction: a
// few milliseconds of the write lock, so logins in other processes go on.
const RotateBatch = 500

// KeyInfo is one key of the key file, or a key stored secrets name that the
// file lacks.
type KeyInfo struct {
	ID      string
	Added   time.Time // zero when the key file does not say (the first key)
	Current bool      // it encrypts new secrets
	InFile  bool
	Secrets int // stored secrets it encrypts
}

// ListKeys lists the key file's keys, the current one first, and how many
// stored secrets each encrypts (operator only).
func (s *Service) ListKeys(ctx context.Context, sess Session) ([]KeyInfo, error) {
	if !sess.operator {
		return nil, ErrForbidden
	}
	s.keys.refresh()
	counts, err := db.CountSecretsByKey(ctx, s.db)
	if err != nil {
		return nil, translate(err)
	}
	return s.keyInfos(counts), nil
}

func (s *Service) keyInfos(counts []db.KeyCount) []KeyInfo {
	k := s.keys
	k.mu.RLock()
	defer k.mu.RUnlock()
	var out []KeyInfo
	for i, id := range k.ids {
		out = append(out, KeyInfo{ID: id, Added: k.created[id], Current: i == 0, InFile: true})
	}
	for _, c := range counts {
		i := slices.IndexFunc(out, func(ki KeyInfo) bool { return ki.ID == c.KeyID })
		if i < 0 {
			out = append(out, KeyInfo{ID: c.KeyID})
			i = len(out) - 1
		}
		out[i].Secrets = c.Secrets
	}
	return out
}

// RotateOptions say how RotateKey runs.
type RotateOptions struct {
	// AddOnly adds the new key and stops before re-encrypting: with several
	// hosts, copy the new key file to each, then run the rotation again.
	AddOnly bool
	// Batch is how many secrets one transaction re-encrypts; RotateBatch
	// when zero.
	Batch int
	// Progress, when set, is called after each batch with the secrets done
	// and the total to do.
	Progress func(done, total int)
}

// RotateResult says what RotateKey did.
type RotateResult struct {
	KeyID       string   // the key that now encrypts
	Added       bool     // this run added it; else it finished an earlier rotation to it
	Reencrypted int      // secrets moved to Key by this run
	Unreadable  []string // usernames whose secret decrypts with no key: they stay as they are
}

// RotateKey moves every stored secret to a new key (operator only). Unless an
// earlier rotation is unfinished, it adds a new random key to the front of
// the key file, where it encrypts every new secret, before any secret uses
// it; it then re-encrypts the secrets under other keys, RotateBatch per
// transaction, each only if its row still holds what was read. Every key
// stays in the file, so other processes decrypt old and new secrets
// throughout. Stopped at any point, running it again finishes the job: the
// secrets left under other keys show that a rotation is unfinished.
func (s *Service) RotateKey(ctx context.Context, sess Session, opts RotateOptions) (RotateResult, error) {
	var res RotateResult
	if !sess.operator {
		return res, ErrForbidden
	}
	path, unlock, err := s.lockKeys()
	if err != nil {
		return res, err
	}
	defer unlock()
	entries, fi, err := readKeyFile(path)
	if err != nil {
		return res, err
	}
	counts, err := db.CountSecretsByKey(ctx, s.db)
	if err != nil {
		return res, translate(err)
	}
	res.KeyID = entries[0].id
	pending := 0
	for _, c := range counts {
		if c.KeyID != res.KeyID {
			pending += c.Secrets
		}
	}
	if pending > 0 && opts.AddOnly {
		return res, fmt.Errorf("%w: %d secrets are still to move to key %s; run smartmfa key rotate to finish that rotation first",
			ErrKeyInUse, pending, res.KeyID)
	}
	if pending == 0 {
		if res.KeyID, err = s.addKey(path, entries, fi); err != nil {
			return res, err
		}
		res.Added = true
		for _, c := range counts {
			pending += c.Secrets
		}
	}
	if !opts.AddOnly {
		batch := opts.Batch
		if batch <= 0 {
			batch = RotateBatch
		}
		err = s.reencrypt(ctx, res.KeyID, pending, batch, &res, opts.Progress)
	}
	// The trail says what was done even when the run was stopped, with a
	// context of its own: an interrupted command's context is cancelled.
	actx := context.WithoutCancel(ctx)
	aerr := s.tx(actx, func(q db.Querier) error {
		return s.audit(actx, q, sess, event{action: ActionKeyRotated, detail: rotateDetail(res, opts.AddOnly, err)})
	})
	return res, errors.Join(err, aerr)
}

func rotateDetail(res RotateResult, addOnly bool, err error) string {
	var b strings.Builder
	if res.Added {
		fmt.Fprintf(&b, "added key %s", res.KeyID)
	} else {
		fmt.Fprintf(&b, "resumed the rotation to key %s", res.KeyID)
	}
	if addOnly {
		b.WriteString("; secrets not re-encrypted yet")
	} else {
		fmt.Fprintf(&b, "; %d secrets re-encrypted", res.Reencrypted)
	}
	if n := len(res.Unreadable); n > 0 {
		fmt.Fprintf(&b, "; %d unreadable, left as they were", n)
	}
	if err != nil {
		b.WriteString("; stopped before the end")
	}
	return b.String()
}

// lockKeys is the key file's path, locked against another key command.
func (s *Service) lockKeys() (path string, unlock func(), err error) {
	path = s.keys.path
	if path == "" {
		return "", nil, ErrNoKeyFile
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %s", ErrKeyMissing, path)
	}
	dir := filepath.Dir(target)
	if unlock, err = lockKeyDir(dir); err != nil {
		return "", nil, err
	}
	removeStaleKeyTemps(dir)
	return path, unlock, nil
}

// keyTempPattern names the temporary files a key file is written to.
const keyTempPattern = ".smartmfa-key-*"

// removeStaleKeyTemps deletes the temporary key files that a write killed
// before its rename left in dir: each is a copy of keys, which a rotation
// after a leak must not leave lying about. A file younger than a minute may
// be another process's first run creating its key file (file times are the
// system's, so the system clock judges them).
func removeStaleKeyTemps(dir string) {
	matches, _ := filepath.Glob(filepath.Join(dir, keyTempPattern))
	for _, m := range matches {
		if fi, err := os.Lstat(m); err == nil && fi.Mode().IsRegular() && time.Since(fi.ModTime()) > time.Minute {
			_ = os.Remove(m)
		}
	}
}

// addKey writes the key file again with a new random key in front, and
// reads it back into the ring.
func (s *Service) addKey(path string, entries []keyEntry, fi os.FileInfo) (string, error) {
	key := make([]byte, 32)
	if _, err := io.ReadFull(s.cfg.Rand, key); err != nil {
		return "", fmt.Errorf("generating a key: %w", err)
	}
	added := keyEntry{id: keyID(key), key: key, added: s.now().Truncate(time.Second)}
	if err := writeKeyFile(path, append([]keyEntry{added}, entries...), fi); err != nil {
		return "", err
	}
	fresh, err := LoadKeyring(path)
	if err != nil {
		return "", err
	}
	if fresh.CurrentID() != added.id {
		return "", fmt.Errorf("the key file %s changed while the new key was written; run the rotation again", path)
	}
	s.keys.take(fresh)
	return added.id, nil
}

// reencrypt moves every secret not under key toID to it, batch by batch. A pass
// walks the secrets in user order; one more pass catches a secret that a
// process still holding the old ring stored behind the walk.
func (s *Service) reencrypt(ctx context.Context, toID string, total, size int, res *RotateResult, progress func(done, total int)) error {
	unreadable := map[int64]bool{}
	for pass := 0; pass < 3; pass++ {
		moved := 0
		for after := int64(0); ; {
			var batch []db.SealedSecret
			var n int
			var bad []int64
			err := s.tx(ctx, func(q db.Querier) error {
				var err error
				n, bad = 0, nil
				if batch, err = db.SecretsNotUnder(ctx, q, toID, after, size); err != nil {
					return err
				}
				for _, old := range batch {
					if unreadable[old.UserID] {
						continue
					}
					secret, err := s.keys.open(old.Secret, old.KeyID, old.AccountID, old.UserID)
					if err != nil {
						bad = append(bad, old.UserID)
						continue
					}
					sealed, id, err := s.keys.seal(s.cfg.Rand, secret, old.AccountID, old.UserID)
					clear(secret)
					if err != nil {
						return err
					}
					if id != toID {
						return fmt.Errorf("the key file changed during the rotation: key %s encrypts now, not %s; run the rotation again", id, toID)
					}
					ok, err := db.ReencryptSecret(ctx, q, old, sealed, toID)
					if err != nil {
						return err
					}
					if ok {
						n++
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, id := range bad {
				unreadable[id] = true
			}
			moved += n
			res.Reencrypted += n
			if progress != nil {
				progress(min(res.Reencrypted+len(unreadable), total), max(total, res.Reencrypted+len(unreadable)))
			}
			if len(batch) < size {
				break
			}
			after = batch[len(batch)-1].UserID
		}
		if pass > 0 && moved == 0 {
			break
		}
	}
	for id := range unreadable {
		u, err := db.UserByID(ctx, s.db, id)
		if err == nil {
			res.Unreadable = append(res.Unreadable, u.Username)
		}
	}
	slices.Sort(res.Unreadable)
	return nil
}
