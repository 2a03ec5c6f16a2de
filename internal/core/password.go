package core

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id's cost parameters; they are stored in each hash.
type PasswordParams struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// OWASPParams is OWASP's argon2id recommendation: 19 MiB, 2 passes, 1 lane.
var OWASPParams = PasswordParams{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

// Password length limits, counted in characters. The upper one bounds the
// work an attacker can ask for; nothing is truncated.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 1024
)

// commonPasswords are refused outright: the first guesses of every attack.
var commonPasswords = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`password password1 password12 password123 passw0rd p@ssw0rd p@ssword
		12345678 123456789 1234567890 12341234 11111111 00000000 87654321 12121212 123123123 11223344
		qwertyui qwertyuiop qwerty12 qwerty123 1q2w3e4r 1qaz2wsx zaq12wsx asdfghjk asdfasdf zxcvbnm1
		iloveyou iloveyou1 sunshine princess football baseball superman starwars trustno1 whatever
		letmein1 letmeinnow welcome1 welcome123 admin123 administrator changeme changeme1 computer
		internet michael1 jennifer dragon12 master12 monkey12 shadow12 abc12345 abcd1234 aa123456
		secret12 default1 login123 access14 mustang1 charlie1 freedom1 killer12 hello123 test1234
		testtest smartnumbers smartmfa`) {
		commonPasswords[p] = true
	}
}

// checkPassword enforces the password rules; it never looks at a stored hash.
func checkPassword(pw string) error {
	if !utf8.ValidString(pw) {
		return inputErr("password", "must be valid text")
	}
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen {
		return inputErr("password", "must have at least %d characters", MinPasswordLen)
	}
	if n > MaxPasswordLen {
		return inputErr("password", "must have at most %d characters", MaxPasswordLen)
	}
	for _, r := range pw {
		if unicode.IsControl(r) {
			return inputErr("password", "may not contain control characters (tab, newline, escape)")
		}
	}
	if commonPasswords[strings.ToLower(pw)] {
		return inputErr("password", "is one of the most common passwords; choose another")
	}
	return nil
}

// hashPassword returns an argon2id PHC string of pw with a fresh salt.
func (s *Service) hashPassword(ctx context.Context, pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(s.cfg.Rand, salt); err != nil {
		return "", fmt.Errorf("generating a salt: %w", err)
	}
	// New passwords are set by signed-in users and operators: they go first.
	if err := s.hashes.acquire(ctx, prioTrusted); err != nil {
		return "", err
	}
	defer s.hashes.release()
	return phc(s.cfg.Password, salt, pw), nil
}

func phc(p PasswordParams, salt []byte, pw string) string {
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// verifyPassword checks pw against a PHC string with the parameters it holds,
// once the hash gate lets it in at its priority (see hashGate).
func (s *Service) verifyPassword(ctx context.Context, hash, pw string, prio int) (bool, error) {
	p, salt, want, err := parsePHC(hash)
	if err != nil {
		return false, err
	}
	if err := s.hashes.acquire(ctx, prio); err != nil {
		return false, err
	}
	defer s.hashes.release()
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func parsePHC(hash string) (p PasswordParams, salt, key []byte, err error) {
	parts := strings.Split(hash, "$")
	bad := fmt.Errorf("stored password hash is not argon2id")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, bad
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, bad
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, bad
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, bad
	}
	return p, salt, key, nil
}

// dummyVerify spends the same work as a real check, so an unknown username
// answers in the same time as a wrong password.
func (s *Service) dummyVerify(ctx context.Context, pw string, prio int) {
	s.dummyOnce.Do(func() {
		s.dummyHash = phc(s.cfg.Password, make([]byte, 16), "smartmfa dummy password")
	})
	_, _ = s.verifyPassword(ctx, s.dummyHash, pw, prio)
}
