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
)

// keyFileTag starts every line of a key file, so a wrong file is told apart
// from a damaged one.
const keyFileTag = "smartmfa-key-v1"

// Keyring holds the AES-256 keys that encrypt TOTP secrets. The first key
// encrypts; every key decrypts, so keys can rotate.
type Keyring struct {
	ids  []string
	keys map[string]cipher.AEAD
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
	kr := &Keyring{keys: map[string]cipher.AEAD{}}
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
func (k *Keyring) CurrentID() string { return k.ids[0] }

// LoadKeyring reads a key file: one `smartmfa-key-v1 ID BASE64` line per key.
func LoadKeyring(path string) (*Keyring, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s (the MFA secrets cannot be read without it; restore it or pass --key-file)", ErrKeyMissing, path)
	}
	if err != nil {
		return nil, fmt.Errorf("the key file %s cannot be read (check its permissions)", path)
	}
	defer f.Close()
	var keys [][]byte
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 || fields[0] != keyFileTag {
			return nil, fmt.Errorf("the key file %s is not a smartmfa key file", path)
		}
		key, err := base64.StdEncoding.DecodeString(fields[2])
		if err != nil || len(key) != 32 || keyID(key) != fields[1] {
			return nil, fmt.Errorf("the key file %s is damaged", path)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("the key file %s holds no key", path)
	}
	return NewKeyring(keys...)
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
	return NewKeyring(key)
}

// secretAD binds a ciphertext to its row: copied to another user it fails.
func secretAD(accountID, userID int64) []byte {
	return fmt.Appendf(nil, "smartmfa/totp-secret/v1/account=%d/user=%d", accountID, userID)
}

// seal encrypts a secret for one user's row with the current key.
func (k *Keyring) seal(rnd io.Reader, secret []byte, accountID, userID int64) (ciphertext []byte, id string, err error) {
	id = k.CurrentID()
	aead := k.keys[id]
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return nil, "", fmt.Errorf("generating a nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, secret, secretAD(accountID, userID)), id, nil
}

// open decrypts a secret; a missing key or a failed check fails closed.
func (k *Keyring) open(ciphertext []byte, id string, accountID, userID int64) ([]byte, error) {
	aead, ok := k.keys[id]
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
