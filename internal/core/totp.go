package core

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash"
	"net/url"
	"strings"
	"time"
)

// Algorithm is the HMAC hash of a TOTP authenticator.
type Algorithm string

// The algorithms of RFC 6238. Google Authenticator reads only SHA1 reliably,
// so enrolment always uses it; the others exist for the RFC's test vectors.
const (
	SHA1   Algorithm = "SHA1"
	SHA256 Algorithm = "SHA256"
	SHA512 Algorithm = "SHA512"
)

func (a Algorithm) hash() (func() hash.Hash, error) {
	switch a {
	case SHA1:
		return sha1.New, nil
	case SHA256:
		return sha256.New, nil
	case SHA512:
		return sha512.New, nil
	}
	return nil, fmt.Errorf("unknown TOTP algorithm %q", string(a))
}

// TOTP parameters of every enrolment: what Google Authenticator reads.
const (
	secretBytes = 20
	totpDigits  = 6
	totpPeriod  = 30
	// totpSkew is how many steps either side of now a code is accepted for.
	totpSkew = 1
)

// hotp is RFC 4226's HOTP value of key at counter, as a zero-padded string.
func hotp(key []byte, counter uint64, digits int, alg Algorithm) (string, error) {
	h, err := alg.hash()
	if err != nil {
		return "", err
	}
	mac := hmac.New(h, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod), nil
}

// timeStep is the RFC 6238 counter of t.
func timeStep(t time.Time, period int) int64 { return t.Unix() / int64(period) }

// totpParams describe one authenticator.
type totpParams struct {
	Digits int
	Period int
	Alg    Algorithm
}

// matchTOTP finds the step within the skew window whose code equals code and
// is later than lastStep. It returns ok=false for a wrong or replayed code.
func matchTOTP(key []byte, code string, now time.Time, p totpParams, lastStep int64) (step int64, ok bool, err error) {
	cur := timeStep(now, p.Period)
	// Newest first: of two matching steps the later one is recorded.
	for s := cur + totpSkew; s >= cur-totpSkew; s-- {
		if s < 0 {
			continue
		}
		want, err := hotp(key, uint64(s), p.Digits, p.Alg)
		if err != nil {
			return 0, false, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			if s <= lastStep {
				return s, false, nil // replay: this step, or a later one, was used
			}
			return s, true, nil
		}
	}
	return 0, false, nil
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// otpauthURI is the shortest key URI Google Authenticator reads: its defaults
// are SHA1, 6 digits and 30 s, so those are left out, which keeps the QR small.
func otpauthURI(issuer, username string, secret []byte) string {
	// '+' is escaped too: some decoders read it as a space.
	esc := func(s string) string { return strings.ReplaceAll(url.PathEscape(s), "+", "%2B") }
	label := esc(issuer) + ":" + esc(username)
	return "otpauth://totp/" + label + "?secret=" + b32.EncodeToString(secret) + "&issuer=" + url.QueryEscape(issuer)
}

// groupKey writes a base32 secret in groups of four for typing into an app.
func groupKey(secret []byte) string {
	s := b32.EncodeToString(secret)
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}
