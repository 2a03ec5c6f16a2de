package core

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// RetireKey removes a key from the key file once no stored secret uses it
// (operator only). It refuses the key that encrypts new secrets, and a key
// that still encrypts any secret: that would lose them.
func (s *Service) RetireKey(ctx context.Context, sess Session, id string) error {
	if !sess.operator {
		return ErrForbidden
	}
	path, unlock, err := s.lockKeys()
	if err != nil {
		return err
	}
	defer unlock()
	entries, fi, i, err := s.retirable(ctx, path, id)
	if err != nil {
		return err
	}
	if err := writeKeyFile(path, slices.Delete(slices.Clone(entries), i, i+1), fi); err != nil {
		return err
	}
	// A process that read the file before the rotation may have stored a
	// secret with the key since the count: put the key back rather than lose it.
	if n, err := s.keyUse(ctx, id); err != nil || n > 0 {
		if werr := writeKeyFile(path, entries, fi); werr != nil {
			return fmt.Errorf("key %s was used again while it was retired, and putting it back failed: %w; restore the key file from its backup", id, werr)
		}
		return cmpErr(err, fmt.Errorf("%w: key %s was used again while it was retired; it stays; run smartmfa key rotate and retire it again", ErrKeyInUse, id))
	}
	if fresh, err := LoadKeyring(path); err == nil {
		s.keys.take(fresh)
	}
	return s.tx(ctx, func(q db.Querier) error {
		return s.audit(ctx, q, sess, event{action: ActionKeyRetired, detail: "retired key " + id})
	})
}

// CheckRetireKey returns the error RetireKey would give for key id now, or
// nil when it would retire it, so that a command asks for confirmation only
// about a key it can retire. RetireKey checks again under the key file's lock.
func (s *Service) CheckRetireKey(ctx context.Context, sess Session, id string) error {
	if !sess.operator {
		return ErrForbidden
	}
	if s.keys.path == "" {
		return ErrNoKeyFile
	}
	_, _, _, err := s.retirable(ctx, s.keys.path, id)
	return err
}

// retirable reads the key file at path and finds key id in it, refusing the
// current key and one that still encrypts a secret.
func (s *Service) retirable(ctx context.Context, path, id string) ([]keyEntry, os.FileInfo, int, error) {
	entries, fi, err := readKeyFile(path)
	if err != nil {
		return nil, nil, 0, err
	}
	i := slices.IndexFunc(entries, func(e keyEntry) bool { return e.id == id })
	switch {
	case i < 0:
		return nil, nil, 0, fmt.Errorf("%w: the key file %s holds no key %s", ErrNotFound, path, id)
	case i == 0:
		return nil, nil, 0, fmt.Errorf("%w: key %s is the current key; rotate to a new key first (smartmfa key rotate)", ErrKeyCurrent, id)
	}
	if n, err := s.keyUse(ctx, id); err != nil || n > 0 {
		return nil, nil, 0, cmpErr(err, fmt.Errorf("%w: key %s still encrypts %d secrets; run smartmfa key rotate to move them first", ErrKeyInUse, id, n))
	}
	return entries, fi, i, nil
}

// keyUse counts the stored secrets that key id encrypts.
func (s *Service) keyUse(ctx context.Context, id string) (int, error) {
	counts, err := db.CountSecretsByKey(ctx, s.db)
	for _, c := range counts {
		if c.KeyID == id {
			return c.Secrets, err
		}
	}
	return 0, translate(err)
}

// writeKeyFile replaces the key file with entries, atomically: a new file
// with the old one's mode, owner and group, synced, renamed over the old one
// (over the file a symbolic link names, so the link stays), then the
// directory synced. A reader sees the old file or the new one, never half.
func writeKeyFile(path string, entries []keyEntry, like os.FileInfo) error {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrKeyMissing, path)
	}
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, keyTempPattern)
	if err != nil {
		return fmt.Errorf("the key file %s cannot be written (check that its directory is writable)", path)
	}
	defer os.Remove(tmp.Name()) // gone already once renamed
	var b strings.Builder
	for _, e := range entries {
		if !e.added.IsZero() {
			fmt.Fprintf(&b, keyAddedTag+"\n", e.id, e.added.UTC().Format(time.RFC3339))
		}
		fmt.Fprintf(&b, "%s %s %s\n", keyFileTag, e.id, base64.StdEncoding.EncodeToString(e.key))
	}
	_, err = tmp.WriteString(b.String())
	if err == nil {
		err = tmp.Chmod(like.Mode().Perm())
	}
	if err == nil {
		err = keepOwner(tmp, like)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), target)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("writing the key file %s: %w", path, err)
	}
	return nil
}
