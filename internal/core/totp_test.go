package core

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math/rand/v2"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestRFC6238Vectors runs Appendix B of RFC 6238 through hotp and matchTOTP.
func TestRFC6238Vectors(t *testing.T) {
	keys := map[Algorithm][]byte{
		SHA1:   []byte("12345678901234567890"),
		SHA256: []byte("12345678901234567890123456789012"),
		SHA512: []byte("1234567890123456789012345678901234567890123456789012345678901234"),
	}
	vectors := []struct {
		unix int64
		want map[Algorithm]string
	}{
		{59, map[Algorithm]string{SHA1: "94287082", SHA256: "46119246", SHA512: "90693936"}},
		{1111111109, map[Algorithm]string{SHA1: "07081804", SHA256: "68084774", SHA512: "25091201"}},
		{1111111111, map[Algorithm]string{SHA1: "14050471", SHA256: "67062674", SHA512: "99943326"}},
		{1234567890, map[Algorithm]string{SHA1: "89005924", SHA256: "91819424", SHA512: "93441116"}},
		{2000000000, map[Algorithm]string{SHA1: "69279037", SHA256: "90698825", SHA512: "38618901"}},
		{20000000000, map[Algorithm]string{SHA1: "65353130", SHA256: "77737706", SHA512: "47863826"}},
	}
	for _, v := range vectors {
		for _, alg := range []Algorithm{SHA1, SHA256, SHA512} {
			t.Run(fmt.Sprintf("%s/%d", alg, v.unix), func(t *testing.T) {
				key, want := keys[alg], v.want[alg]
				step := v.unix / 30
				got, err := hotp(key, uint64(step), 8, alg)
				if err != nil || got != want {
					t.Fatalf("hotp = %q, %v; want %q", got, err, want)
				}
				p := totpParams{Digits: 8, Period: 30, Alg: alg}
				s, ok, err := matchTOTP(key, want, time.Unix(v.unix, 0), p, -1)
				if err != nil || !ok || s != step {
					t.Errorf("matchTOTP = step %d, %t, %v; want step %d accepted", s, ok, err, step)
				}
			})
		}
	}
}

// TestRFC4226Vectors runs Appendix D of RFC 4226 (counters 0-9).
func TestRFC4226Vectors(t *testing.T) {
	key := []byte("12345678901234567890")
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for counter, w := range want {
		t.Run(fmt.Sprint(counter), func(t *testing.T) {
			got, err := hotp(key, uint64(counter), 6, SHA1)
			if err != nil || got != w {
				t.Fatalf("hotp(%d) = %q, %v; want %q", counter, got, err, w)
			}
			// A TOTP whose step is the counter: the middle of that 30 s window.
			now := time.Unix(int64(counter)*30+15, 0)
			s, ok, err := matchTOTP(key, w, now, totpParams{Digits: 6, Period: 30, Alg: SHA1}, -1)
			if err != nil || !ok || s != int64(counter) {
				t.Errorf("matchTOTP = %d, %t, %v", s, ok, err)
			}
		})
	}
}

// refHOTP is RFC 4226 section 5 written out by hand, the reference that
// hotp, now pquerna/otp's, is checked against.
func refHOTP(key []byte, counter uint64, digits int, alg Algorithm) string {
	h := map[Algorithm]func() hash.Hash{SHA1: sha1.New, SHA256: sha256.New, SHA512: sha512.New}[alg]
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
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// TestHOTPMatchesReference cross-checks hotp against refHOTP for random keys.
func TestHOTPMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(6238, 4226))
	for i := range 300 {
		key := make([]byte, 10+r.IntN(55))
		for j := range key {
			key[j] = byte(r.UintN(256))
		}
		counter := r.Uint64() >> r.UintN(64)
		alg := []Algorithm{SHA1, SHA256, SHA512}[i%3]
		d := []int{6, 8}[i%2]
		want := refHOTP(key, counter, d, alg)
		got, err := hotp(key, counter, d, alg)
		if err != nil || got != want {
			t.Fatalf("key %x counter %d %s/%d: hotp = %q, %v; reference %q", key, counter, alg, d, got, err, want)
		}
	}
	if _, err := hotp([]byte("k"), 0, 6, Algorithm("MD5")); err == nil {
		t.Error("hotp accepted an unknown algorithm")
	}
	if _, err := hotp([]byte("k"), 0, 0, SHA1); err == nil {
		t.Error("hotp accepted 0 digits")
	}
}

// TestNewSecretFromInjectedRand checks that the secret is the injected
// reader's first 20 bytes, so tests stay deterministic.
func TestNewSecretFromInjectedRand(t *testing.T) {
	src := make([]byte, 40)
	for i := range src {
		src[i] = byte(i * 7)
	}
	got, err := newSecret(bytes.NewReader(src), "smartnumbers", "bob")
	if err != nil || !bytes.Equal(got, src[:secretBytes]) {
		t.Fatalf("newSecret = %x, %v; want %x", got, err, src[:secretBytes])
	}
	if _, err := newSecret(bytes.NewReader(src[:5]), "smartnumbers", "bob"); err == nil {
		t.Error("newSecret succeeded on a short reader")
	}
}

// TestSkewWindow checks the accepted window: the current step and one either
// side, decided by the step of now, exactly at and around period boundaries.
func TestSkewWindow(t *testing.T) {
	key := []byte("12345678901234567890")
	p := totpParams{Digits: 6, Period: 30, Alg: SHA1}
	k := timeStep(testStart, 30)
	cases := []struct {
		name     string
		now      time.Time
		codeStep int64
		want     bool
	}{
		{"boundary, same step", testStart, k, true},
		{"boundary, previous step", testStart, k - 1, true},
		{"boundary, next step", testStart, k + 1, true},
		{"boundary, two back", testStart, k - 2, false},
		{"boundary, two ahead", testStart, k + 2, false},
		{"last instant of step, +1", testStart.Add(30*time.Second - time.Nanosecond), k + 1, true},
		{"last instant of step, +2", testStart.Add(30*time.Second - time.Nanosecond), k + 2, false},
		{"last instant of step, -1", testStart.Add(30*time.Second - time.Nanosecond), k - 1, true},
		{"instant before boundary, -1 of k", testStart.Add(-time.Nanosecond), k - 2, true},
		{"instant before boundary, k+1", testStart.Add(-time.Nanosecond), k + 1, false},
		{"next boundary, k-1 is now two back", testStart.Add(30 * time.Second), k - 1, false},
		{"next boundary, k+2 is now one ahead", testStart.Add(30 * time.Second), k + 2, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, ok, err := matchTOTP(key, codeAt(key, c.codeStep), c.now, p, -1)
			if err != nil || ok != c.want || ok && s != c.codeStep {
				t.Errorf("matchTOTP = step %d, %t, %v; want %t at step %d", s, ok, err, c.want, c.codeStep)
			}
		})
	}
}

// TestSkewThroughLogin checks the same edges through the Service, each with a
// fresh user so the replay guard does not interfere. Just outside the window
// the code is refused as a clock drift (see drift_test.go).
func TestSkewThroughLogin(t *testing.T) {
	for _, off := range []int64{-2, -1, 0, 1, 2} {
		t.Run(fmt.Sprintf("offset %+d", off), func(t *testing.T) {
			w := newWorld(t)
			secret, _ := w.enrollUser("bob")
			w.clock.Set(testStart.Add(10 * time.Minute)) // a boundary, past the enrolment step
			sess := w.login("bob", StageCode)
			out, err := w.VerifyLoginCode(w.ctx, sess, w.code(secret, off))
			accept := off >= -1 && off <= 1
			if accept && (err != nil || out.Stage() != StageSignedIn) {
				t.Fatalf("code of step %+d refused: %v", off, err)
			}
			var drift *ClockDriftError
			if !accept && (!errors.As(err, &drift) || !errors.Is(err, ErrInvalidCode) || out.Stage() != StageCode) {
				t.Fatalf("code of step %+d: %v, stage %d; want a ClockDriftError", off, err, out.Stage())
			}
		})
	}
}

func TestOtpauthURIAndSetupKey(t *testing.T) {
	w := newWorld(t)
	en, err := w.BeginEnrollment(w.ctx, w.login("bob", StageSignedIn))
	if err != nil {
		t.Fatal(err)
	}
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(en.secret)
	want := "otpauth://totp/smartnumbers:bob?secret=" + b32 + "&issuer=smartnumbers"
	if en.URI != want {
		t.Errorf("URI\n got %s\nwant %s", en.URI, want)
	}
	for _, bad := range []string{"algorithm", "digits", "period"} {
		if strings.Contains(strings.ToLower(en.URI), bad) {
			t.Errorf("URI %s carries %s", en.URI, bad)
		}
	}
	if len(en.secret) != 20 || len(b32) != 32 {
		t.Errorf("secret is %d bytes (%d base32 characters), want 20 (32)", len(en.secret), len(b32))
	}
	if en.Account != "smartnumbers:bob" || en.Issuer != "smartnumbers" {
		t.Errorf("Account %q Issuer %q", en.Account, en.Issuer)
	}
	if !regexp.MustCompile(`^[A-Z2-7]{4}( [A-Z2-7]{4}){7}$`).MatchString(en.SetupKey) {
		t.Errorf("setup key %q is not 8 groups of 4", en.SetupKey)
	}
	if strings.ReplaceAll(en.SetupKey, " ", "") != b32 {
		t.Errorf("setup key %q is not the secret %s", en.SetupKey, b32)
	}
	u, err := url.Parse(en.URI)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/smartnumbers:bob" ||
		u.Query().Get("secret") != b32 || u.Query().Get("issuer") != "smartnumbers" {
		t.Errorf("URI %s does not parse back: %v", en.URI, err)
	}
	if got := groupKey([]byte("abcde")); got != "MFRG GZDF" {
		t.Errorf("groupKey(abcde) = %q", got)
	}
	if got := otpauthURI("Smart Numbers", "a+b@x.org", []byte("abcde")); got !=
		"otpauth://totp/Smart%20Numbers:a%2Bb@x.org?secret=MFRGGZDF&issuer=Smart+Numbers" {
		t.Errorf("otpauthURI escaping: %s", got)
	}
}
