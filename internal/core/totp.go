package core

import (
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	pqhotp "github.com/pquerna/otp/hotp"
	pqtotp "github.com/pquerna/otp/totp"
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

// otp is the algorithm as pquerna/otp names it. Its own Algorithm falls back
// to SHA1 for a value it does not know; an unknown one here is an error.
func (a Algorithm) otp() (otp.Algorithm, error) {
	switch a {
	case SHA1:
		return otp.AlgorithmSHA1, nil
	case SHA256:
		return otp.AlgorithmSHA256, nil
	case SHA512:
		return otp.AlgorithmSHA512, nil
	}
	return 0, fmt.Errorf("unknown TOTP algorithm %q", string(a))
}

// TOTP parameters of every enrolment: what Google Authenticator reads.
const (
	secretBytes = 20
	totpDigits  = 6
	totpPeriod  = 30
	// totpSkew is how many steps either side of now a code is accepted for.
	totpSkew = 1
)

// hotp is RFC 4226's HOTP value of key at counter, as a zero-padded string,
// computed by pquerna/otp. Digits is always passed: its ValidateOpts without
// Digits compares against no code at all (see DESIGN.md, Traps).
func hotp(key []byte, counter uint64, digits int, alg Algorithm) (string, error) {
	a, err := alg.otp()
	if err != nil {
		return "", err
	}
	if digits < 1 || digits > 10 {
		return "", fmt.Errorf("TOTP digits %d out of range", digits)
	}
	code, err := pqhotp.GenerateCodeCustom(b32.EncodeToString(key), counter,
		pqhotp.ValidateOpts{Digits: otp.Digits(digits), Algorithm: a})
	if err != nil {
		return "", fmt.Errorf("computing the code of step %d: %w", counter, err)
	}
	return code, nil
}

// newSecret draws a TOTP secret of secretBytes from r with pquerna/otp's
// generator, so that tests, which inject r, get the same secret every run.
// Only the secret is kept: the key's own URI carries algorithm, digits and
// period, and otpauthURI builds the shorter one the QR code needs.
func newSecret(r io.Reader, issuer, username string) ([]byte, error) {
	key, err := pqtotp.Generate(pqtotp.GenerateOpts{Issuer: issuer, AccountName: username,
		SecretSize: secretBytes, Rand: r})
	if err != nil {
		return nil, fmt.Errorf("generating a TOTP secret: %w", err)
	}
	secret, err := b32.DecodeString(key.Secret())
	if err != nil || len(secret) != secretBytes {
		return nil, fmt.Errorf("generating a TOTP secret: unexpected key %d bytes: %v", len(secret), err)
	}
	return secret, nil
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
		match, err := stepMatches(key, code, s, p)
		if err != nil {
			return 0, false, err
		}
		if match {
			if s <= lastStep {
				return s, false, nil // replay: this step, or a later one, was used
			}
			return s, true, nil
		}
	}
	return 0, false, nil
}

// stepMatches says whether code is the code of step s (none before step 0),
// compared in constant time.
func stepMatches(key []byte, code string, s int64, p totpParams) (bool, error) {
	if s < 0 {
		return false, nil
	}
	want, err := hotp(key, uint64(s), p.Digits, p.Alg)
	return err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1, err
}

// driftSearch is how many steps either side of now a code that failed is
// looked up to explain it by the phone's clock: 10 steps of 30 s, 5 minutes.
const driftSearch = 10

// driftTOTP finds the step nearest to now, outside the accepted window and at
// most driftSearch steps away, whose code equals code, and returns its
// distance from now in steps: positive when the code is of a later step (the
// phone's clock is ahead), negative when of an earlier one. ok=false when no
// step in the search matches. It never accepts anything: callers use it only
// to explain a refusal (see Service.checkTOTP).
func driftTOTP(key []byte, code string, now time.Time, p totpParams) (steps int64, ok bool, err error) {
	cur := timeStep(now, p.Period)
	for d := int64(totpSkew + 1); d <= driftSearch; d++ {
		for _, s := range []int64{cur + d, cur - d} {
			match, err := stepMatches(key, code, s, p)
			if err != nil {
				return 0, false, err
			}
			if match {
				return s - cur, true, nil
			}
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
