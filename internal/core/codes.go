package core

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
)

// codeKind tells a TOTP code from a recovery code.
type codeKind int

const (
	codeTOTP codeKind = iota + 1
	codeRecovery
)

// ErrMalformedCode is returned, before anything is looked up or counted, for
// input that is neither a 6-digit code nor a recovery code.
var ErrMalformedCode = &InputError{Field: "code", Msg: "enter the 6 digits your app shows, or a recovery code like abcde-12345"}

// parseCode accepts six ASCII digits, as the app shows them ("123 456") or
// with spaces around them from a paste, or a recovery code of ten characters
// of its alphabet with an optional dash in the middle, spaces around it
// ignored. Anything else (5 or 7 digits, full-width digits, other
// separators) is malformed.
func parseCode(in string) (string, codeKind, error) {
	in = strings.Trim(in, " \t")
	if digits := strings.ReplaceAll(in, " ", ""); len(digits) == totpDigits && isDigits(digits) {
		return digits, codeTOTP, nil
	}
	if rc, ok := normalizeRecovery(in); ok {
		return rc, codeRecovery, nil
	}
	return "", 0, ErrMalformedCode
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// recoveryAlphabet is Crockford's base32 in lower case: no i, l, o, u to misread.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

const (
	recoveryCodes   = 10
	recoveryHalfLen = 5 // a code is two halves: 50 random bits
)

// normalizeRecovery lower-cases a recovery code and drops its dash.
func normalizeRecovery(in string) (string, bool) {
	if len(in) == 2*recoveryHalfLen+1 && in[recoveryHalfLen] == '-' {
		in = in[:recoveryHalfLen] + in[recoveryHalfLen+1:]
	}
	if len(in) != 2*recoveryHalfLen {
		return "", false
	}
	in = strings.ToLower(in)
	for i := 0; i < len(in); i++ {
		if !strings.ContainsRune(recoveryAlphabet, rune(in[i])) {
			return "", false
		}
	}
	return in, true
}

// newRecoveryCodes draws codes shown to the user as abcde-12345.
func newRecoveryCodes(rnd io.Reader) ([]string, error) {
	out := make([]string, recoveryCodes)
	buf := make([]byte, 2*recoveryHalfLen)
	for i := range out {
		if _, err := io.ReadFull(rnd, buf); err != nil {
			return nil, fmt.Errorf("generating recovery codes: %w", err)
		}
		var b strings.Builder
		for j, c := range buf {
			if j == recoveryHalfLen {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[c&31]) // 32 symbols: no modulo bias
		}
		out[i] = b.String()
	}
	return out, nil
}

// recoveryHashes are the stored forms of codes drawn by newRecoveryCodes.
func recoveryHashes(userID int64, codes []string) [][]byte {
	out := make([][]byte, len(codes))
	for i, c := range codes {
		n, _ := normalizeRecovery(c)
		out[i] = hashRecovery(userID, n)
	}
	return out
}

// hashRecovery binds a normalized code to its user. The codes carry 50 random
// bits, so a fast hash suffices; argon2 per code would make login slow.
func hashRecovery(userID int64, normalized string) []byte {
	h := sha256.New()
	h.Write([]byte("smartmfa/recovery/v1\x00"))
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(userID))
	h.Write(id[:])
	h.Write([]byte(normalized))
	return h.Sum(nil)
}
