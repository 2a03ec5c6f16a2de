package core

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// keyFileTag starts every line of a key file, so a wrong file is told apart
// from a damaged one.
const keyFileTag = "smartmfa-key-v1"

// Keyring holds the AES-256 keys that encrypt TOTP secrets. The first key
// encrypts; every key decrypts, so keys can rotate. A ring read from a key
// file follows the file: a key another process added (smartmfa key rotate)
// is read when a secret names it, and encrypts this process's new secrets
// from the next one on.
type Keyring struct {
	mu      sync.RWMutex
	ids     []string
	keys    map[string]cipher.AEAD
	created map[string]time.Time // when each key was added, where the file says
	path    string               // the key file; "" for a ring built in memory
	read    os.FileInfo          // the key file as last read
}

func keyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:4])
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// NewKeyring builds a key ring from raw 32-byte keys, the first one current.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("a key ring needs at least one key")
	}
	kr := &Keyring{keys: map[string]cipher.AEAD{}, created: map[string]time.Time{}}
	for _, k := range keys {
		if len(k) != 32 {
			return nil, fmt.Errorf("a key is 32 bytes, not %d", len(k))
		}
		aead, err := newAEAD(k)
		if err != nil {
			return nil, err
		}
		id := keyID(k)
		kr.ids = append(kr.ids, id)
		kr.keys[id] = aead
	}
	return kr, nil
}

// CurrentID is the id of the key that encrypts new secrets.
func (k *Keyring) CurrentID() string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.ids[0]
}

// LoadKeyring reads a key file: one `smartmfa-key-v1 ID BASE64` line per key,
// the first the one that encrypts, each perhaps after a `# key ID added TIME`
// comment. The file must be a regular file that belongs to the running user
// or root and that no other user can read or write; its group may read it (a
// shared host install with a dedicated group), not write it.
func LoadKeyring(path string) (*Keyring, error) {
	entries, fi, err := readKeyFile(path)
	if err != nil {
		return nil, err
	}
	return ringOf(path, entries, fi)
}

// keyEntry is one key of a key file.
type keyEntry struct {
	id    string
	key   []byte
	added time.Time // zero when the file does not say
}

// keyAddedTag starts the comment that says when the next key was added.
// Older versions skip it as any comment, so a rotated file still reads there.
const keyAddedTag = "# key %s added %s"

// readKeyFile reads and checks a key file's keys, in order, and what the
// file was when read.
func readKeyFile(path string) ([]keyEntry, os.FileInfo, error) {
	f, err := openKeyFile(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("the key file %s cannot be read (check its permissions)", path)
	}
	var entries []keyEntry
	added := map[string]time.Time{}
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			var id, at string
			if n, _ := fmt.Sscanf(line, keyAddedTag, &id, &at); n == 2 {
				if t, err := time.Parse(time.RFC3339, at); err == nil {
					added[id] = t.UTC()
				}
			}
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 || fields[0] != keyFileTag {
			return nil, nil, fmt.Errorf("the key file %s is not a smartmfa key file", path)
		}
		key, err := base64.StdEncoding.DecodeString(fields[2])
		if err != nil || len(key) != 32 || keyID(key) != fields[1] {
			return nil, nil, fmt.Errorf("the key file %s is damaged", path)
		}
		entries = append(entries, keyEntry{id: fields[1], key: key, added: added[fields[1]]})
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("the key file %s cannot be read: %w", path, err)
	}
	if len(entries) == 0 {
		return nil, nil, fmt.Errorf("the key file %s holds no key", path)
	}
	return entries, fi, nil
}

// ringOf builds the ring of a key file's entries.
func ringOf(path string, entries []keyEntry, fi os.FileInfo) (*Keyring, error) {
	raw := make([][]byte, len(entries))
	for i, e := range entries {
		raw[i] = e.key
	}
	kr, err := NewKeyring(raw...)
	if err != nil {
		return nil, err
	}
	kr.path, kr.read = path, fi
	for _, e := range entries {
		if !e.added.IsZero() {
			kr.created[e.id] = e.added
		}
	}
	return kr, nil
}

// refresh reads the key file again when it changed since it was last read,
// and takes its keys. A file that cannot be read now leaves the ring as it
// was: the keys it holds still decrypt, and the next call tries again.
func (k *Keyring) refresh() {
	if k.path == "" {
		return
	}
	fi, err := os.Stat(k.path)
	k.mu.RLock()
	same := err == nil && k.read != nil && os.SameFile(fi, k.read) && fi.ModTime().Equal(k.read.ModTime()) && fi.Size() == k.read.Size()
	k.mu.RUnlock()
	if same {
		return
	}
	fresh, err := LoadKeyring(k.path)
	if err != nil {
		return
	}
	k.take(fresh)
}

// take replaces the ring's keys with fresh's.
func (k *Keyring) take(fresh *Keyring) {
	fresh.mu.RLock()
	defer fresh.mu.RUnlock()
	k.mu.Lock()
	defer k.mu.Unlock()
	k.ids, k.keys, k.created, k.read = fresh.ids, fresh.keys, fresh.created, fresh.read
}

// CreateKeyring writes a new key file 0600 with one random key. It never
// overwrites: losing a key loses every secret it encrypted.
func CreateKeyring(path string, rnd io.Reader) (*Keyring, error) {
	key := make([]byte, 32)
	if _, err := io.ReadFull(rnd, key); err != nil {
		return nil, fmt.Errorf("generating a key: %w", err)
	}
	// Write a temporary file and link it into place: the link never
	// overwrites, and a process that loses the race never reads a half-written key.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".smartmfa-key-*")
	if err != nil {
		return nil, fmt.Errorf("the key file %s cannot be created (check that its directory exists and is writable)", path)
	}
	defer os.Remove(tmp.Name())
	line := fmt.Sprintf("%s %s %s\n", keyFileTag, keyID(key), base64.StdEncoding.EncodeToString(key))
	_, err = tmp.WriteString(line)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("writing the key file %s: %w", path, err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return LoadKeyring(path) // another process created it first
		}
		return nil, fmt.Errorf("the key file %s cannot be created: %w", path, errors.Unwrap(err))
	}
	kr, err := NewKeyring(key)
	if err != nil {
		return nil, err
	}
	kr.path = path
	if fi, err := os.Stat(path); err == nil {
		kr.read = fi
	}
	return kr, nil
}

// secretAD binds a ciphertext to its row: copied to another user it fails.
func secretAD(accountID, userID int64) []byte {
	return fmt.Appendf(nil, "smartmfa/totp-secret/v1/account=%d/user=%d", accountID, userID)
}

// seal encrypts a secret for one user's row with the current key, the first
// of the key file as it is now.
func (k *Keyring) seal(rnd io.Reader, secret []byte, accountID, userID int64) (ciphertext []byte, id string, err error) {
	k.refresh()
	k.mu.RLock()
	id = k.ids[0]
	aead := k.keys[id]
	k.mu.RUnlock()
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return nil, "", fmt.Errorf("generating a nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, secret, secretAD(accountID, userID)), id, nil
}

// aead returns the cipher of key id; a key this ring lacks is looked for in the key
// file again, where another process may have added it.
func (k *Keyring) aead(id string) (cipher.AEAD, bool) {
	k.mu.RLock()
	aead, ok := k.keys[id]
	k.mu.RUnlock()
	if ok {
		return aead, true
	}
	k.refresh()
	k.mu.RLock()
	defer k.mu.RUnlock()
	aead, ok = k.keys[id]
	return aead, ok
}

// open decrypts a secret; a missing key or a failed check fails closed.
func (k *Keyring) open(ciphertext []byte, id string, accountID, userID int64) ([]byte, error) {
	aead, ok := k.aead(id)
	if !ok {
		return nil, fmt.Errorf("%w: the secret was encrypted with key %s, which the key file does not hold", ErrWrongKey, id)
	}
	if len(ciphertext) < aead.NonceSize() {
		return nil, fmt.Errorf("%w: the stored secret is damaged", ErrWrongKey)
	}
	n := aead.NonceSize()
	secret, err := aead.Open(nil, ciphertext[:n], ciphertext[n:], secretAD(accountID, userID))
	if err != nil {
		return nil, fmt.Errorf("%w: the secret does not decrypt with key %s for this user", ErrWrongKey, id)
	}
	return secret, nil
}
