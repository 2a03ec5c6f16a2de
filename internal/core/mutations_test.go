package core

// Tests that catch the small changes of the security rules a mutation pass
// found going unnoticed.

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMatchTOTPRefusesTheLastStep: the Go check refuses the step last
// accepted, and earlier ones, before any SQL guard sees them.
func TestMatchTOTPRefusesTheLastStep(t *testing.T) {
	secret := []byte("12345678901234567890")
	p := totpParams{Digits: 6, Period: 30, Alg: SHA1}
	step := timeStep(testStart, 30)
	code := codeAt(secret, step)
	for last, wantOK := range map[int64]bool{step - 1: true, step: false, step + 1: false} {
		got, ok, err := matchTOTP(secret, code, testStart, p, last)
		if err != nil || ok != wantOK || got != step {
			t.Errorf("lastStep %d: step %d ok %t (%v), want step %d ok %t", last-step, got-step, ok, err, 0, wantOK)
		}
	}
}

// TestRecoveryHashIsBoundToItsUser: bob's hashed codes copied to carol's rows
// do not let bob's codes sign carol in.
func TestRecoveryHashIsBoundToItsUser(t *testing.T) {
	w := newWorld(t)
	_, bobCodes := w.enrollUser("bob")
	w.enrollUser("carol")
	if _, err := w.db.ExecContext(w.ctx, `UPDATE recovery_codes SET user_id = ? WHERE user_id = ?`, w.carol.ID, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	for _, c := range bobCodes[:3] {
		if _, err := w.VerifyLoginCode(w.ctx, w.login("carol", StageCode), c); !errors.Is(err, ErrInvalidCode) {
			t.Fatalf("bob's code %s on carol: %v, want ErrInvalidCode", c, err)
		}
	}
}

// TestRecoveryCodesUseTheWholeAlphabet: every one of the 32 symbols turns up,
// and nothing else, so each code carries its 50 bits.
func TestRecoveryCodesUseTheWholeAlphabet(t *testing.T) {
	seen := map[rune]int{}
	for i := range 40 {
		codes, err := newRecoveryCodes(newDetRand(byte(i)))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range codes {
			for _, r := range strings.ReplaceAll(c, "-", "") {
				seen[r]++
			}
		}
	}
	for _, r := range recoveryAlphabet {
		if seen[r] == 0 {
			t.Errorf("symbol %q never drawn in 4,000", r)
		}
	}
	if len(seen) != len(recoveryAlphabet) {
		t.Errorf("%d distinct symbols, want %d", len(seen), len(recoveryAlphabet))
	}
}

// TestCodeStageEndsWithAPasswordReset: a login waiting for its code when an
// administrator sets a new password cannot finish, even with a valid code.
func TestCodeStageEndsWithAPasswordReset(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	sess := w.login("bob", StageCode)
	if err := w.ResetPassword(w.ctx, LocalOperator("local:test"), w.bob.ID, "set by the operator", ""); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(totpPeriod * time.Second)
	if _, err := w.VerifyLoginCode(w.ctx, sess, w.code(secret, 0)); !errors.Is(err, ErrSessionEnded) {
		t.Fatalf("valid code after the reset: %v, want ErrSessionEnded", err)
	}
	if m := w.mfaRow(w.bob.ID); m.LastStep >= timeStep(w.clock.Now(), totpPeriod) {
		t.Error("the refused code's step was spent")
	}
}

// secretName matches the names core gives to codes, hashes, secrets and keys.
var secretName = regexp.MustCompile(`(?i)(code|hash|secret|mac|digest|sum|want|got|key|sealed|plain)$`)

// TestSecretsComparedInConstantTime: in core, no code, hash, secret or key is
// compared with == or !=, or with bytes.Equal and the like; crypto/subtle
// does it, in a time that tells nothing.
func TestSecretsComparedInConstantTime(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				if n.Op != token.EQL && n.Op != token.NEQ || isConstant(n.X) || isConstant(n.Y) {
					return true
				}
				if secretName.MatchString(lastName(n.X)) || secretName.MatchString(lastName(n.Y)) {
					t.Errorf("%s: %s compared with %s; use crypto/subtle", fset.Position(n.Pos()), lastName(n.X), n.Op)
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
					switch lastName(sel.X) + "." + sel.Sel.Name {
					case "bytes.Equal", "bytes.Compare", "strings.EqualFold", "strings.Compare", "reflect.DeepEqual", "slices.Equal":
						t.Errorf("%s: %s.%s on core data; use crypto/subtle", fset.Position(n.Pos()), lastName(sel.X), sel.Sel.Name)
					}
				}
			}
			return true
		})
	}
	if checked < 10 {
		t.Fatalf("only %d files checked: run from internal/core", checked)
	}
}

// isConstant reports a literal, nil, an exported constant or len(x):
// comparing a secret with those tells nothing of its value.
func isConstant(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		return e.Name == "nil" || e.Name == "true" || e.Name == "false" || e.Obj == nil && strings.ToUpper(e.Name[:1]) == e.Name[:1]
	case *ast.CallExpr:
		fn, ok := e.Fun.(*ast.Ident)
		return ok && (fn.Name == "len" || fn.Name == "cap")
	}
	return false
}

func lastName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.IndexExpr:
		return lastName(e.X)
	case *ast.SliceExpr:
		return lastName(e.X)
	case *ast.StarExpr:
		return lastName(e.X)
	case *ast.ParenExpr:
		return lastName(e.X)
	case *ast.CallExpr: // a conversion, string(b) or []byte(s), or a call named for what it returns
		if _, slice := e.Fun.(*ast.ArrayType); len(e.Args) == 1 && (slice || lastName(e.Fun) == "string") {
			return lastName(e.Args[0])
		}
		return lastName(e.Fun)
	}
	return ""
}
