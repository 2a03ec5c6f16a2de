package db_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// seedUser adds an account and one user to d and returns the user.
func seedUser(t *testing.T, d *db.DB, username string) db.User {
	t.Helper()
	ctx := context.Background()
	acct, err := db.InsertAccount(ctx, d, "acct-"+username, "acct-"+username, 1)
	if err != nil {
		t.Fatal(err)
	}
	u := db.User{AccountID: acct, Username: username, Role: "user", PasswordHash: "x", CreatedAt: 1, UpdatedAt: 1}
	if err := db.InsertUser(ctx, d, &u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestUniqueNamesCaseInsensitive(t *testing.T) {
	ctx := context.Background()
	d := openTest(t)
	u := seedUser(t, d, "Alice")
	dup := db.User{AccountID: u.AccountID, Username: "aLICE", Role: "user", PasswordHash: "x"}
	if err := db.InsertUser(ctx, d, &dup); !errors.Is(err, db.ErrConflict) {
		t.Errorf("insert of aLICE beside Alice: %v, want ErrConflict", err)
	}
	got, err := db.UserByUsername(ctx, d, "ALICE")
	if err != nil || got.ID != u.ID {
		t.Errorf("UserByUsername(ALICE) = %d, %v; want %d", got.ID, err, u.ID)
	}
	if _, err := db.InsertAccount(ctx, d, "other", "acct-Alice", 1); !errors.Is(err, db.ErrConflict) {
		t.Errorf("duplicate account name key: %v, want ErrConflict", err)
	}
	if _, err := db.UserByID(ctx, d, 999); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("UserByID(999): %v, want ErrNotFound", err)
	}
	bad := db.User{AccountID: 999, Username: "orphan", Role: "user", PasswordHash: "x"}
	if err := db.InsertUser(ctx, d, &bad); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("user in a missing account: %v, want ErrNotFound (foreign keys on, driver text translated)", err)
	}
}

// TestAcceptStepOnlyIncreases is the replay guard at the SQL level.
func TestAcceptStepOnlyIncreases(t *testing.T) {
	ctx := context.Background()
	d := openTest(t)
	u := seedUser(t, d, "bob")
	if err := db.PutPendingMFA(ctx, d, db.MFA{UserID: u.ID, Secret: []byte{1}, KeyID: "k", Algorithm: "SHA1", Digits: 6, Period: 30}); err != nil {
		t.Fatal(err)
	}
	// Three attempts at time 10 lock until 10+50; a fourth is refused until
	// then, and none once failures reach disableAfter.
	l := db.Lockout{After: 3, First: 50, Max: 400}
	const disable = 100
	for i := range 3 {
		if n, ok, err := db.ReserveMFAAttempt(ctx, d, u.ID, 10, l, disable); err != nil || !ok || n != i+1 {
			t.Fatalf("ReserveMFAAttempt #%d = %d, %t, %v", i+1, n, ok, err)
		}
	}
	if n, ok, err := db.ReserveMFAAttempt(ctx, d, u.ID, 59, l, disable); ok || err != nil {
		t.Fatalf("an attempt reserved while locked: %d, %v", n, err)
	}
	if _, ok, err := db.ReserveMFAAttempt(ctx, d, u.ID, 60, l, 3); ok || err != nil {
		t.Fatalf("an attempt reserved after the MFA login was disabled: %v", err)
	}
	if n, ok, err := db.ReserveMFAAttempt(ctx, d, u.ID, 60, l, disable); !ok || err != nil || n != 4 {
		t.Fatalf("the lock over, ReserveMFAAttempt = %d, %t, %v; want 4", n, ok, err)
	}
	steps := []struct {
		step int64
		want bool
	}{{100, true}, {100, false}, {99, false}, {101, true}, {0, false}, {102, true}}
	for _, s := range steps {
		got, err := db.AcceptStep(ctx, d, u.ID, s.step)
		if err != nil || got != s.want {
			t.Errorf("AcceptStep(%d) = %t, %v; want %t", s.step, got, err, s.want)
		}
	}
	m, err := db.MFAByUser(ctx, d, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.LastStep != 102 || m.Failures != 0 || m.LockedUntil != 0 {
		t.Errorf("after accepts: last_step %d failures %d locked %d; want 102, 0, 0", m.LastStep, m.Failures, m.LockedUntil)
	}
}

func TestRecoveryCodeSingleUse(t *testing.T) {
	ctx := context.Background()
	d := openTest(t)
	u := seedUser(t, d, "bob")
	if err := db.PutPendingMFA(ctx, d, db.MFA{UserID: u.ID, Secret: []byte{1}, KeyID: "k"}); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaceRecoveryCodes(ctx, d, u.ID, [][]byte{{1}, {2}, {3}}); err != nil {
		t.Fatal(err)
	}
	codes, err := db.UnusedRecoveryCodes(ctx, d, u.ID)
	if err != nil || len(codes) != 3 {
		t.Fatalf("unused codes: %d, %v", len(codes), err)
	}
	for i, want := range []bool{true, false} {
		got, err := db.UseRecoveryCode(ctx, d, codes[1].ID, 5)
		if err != nil || got != want {
			t.Errorf("use #%d = %t, %v; want %t", i+1, got, err, want)
		}
	}
	if left, _ := db.UnusedRecoveryCodes(ctx, d, u.ID); len(left) != 2 {
		t.Errorf("%d codes left, want 2", len(left))
	}
	if err := db.DeleteMFA(ctx, d, u.ID); err != nil {
		t.Fatal(err)
	}
	if left, _ := db.UnusedRecoveryCodes(ctx, d, u.ID); len(left) != 0 {
		t.Errorf("DeleteMFA left %d recovery codes", len(left))
	}
	if err := db.DeleteMFA(ctx, d, u.ID); !errors.Is(err, db.ErrNotFound) {
		t.Errorf("second DeleteMFA: %v, want ErrNotFound", err)
	}
}

// TestPendingRecoveryCodesAreNoUse: codes shown with a pending set-up are
// neither listed, counted nor spent until they are activated, and then
// replace the user's other codes.
func TestPendingRecoveryCodesAreNoUse(t *testing.T) {
	ctx := context.Background()
	d := openTest(t)
	u := seedUser(t, d, "bob")
	if err := db.PutPendingMFA(ctx, d, db.MFA{UserID: u.ID, Secret: []byte{1}, KeyID: "k"}); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaceRecoveryCodes(ctx, d, u.ID, [][]byte{{9}}); err != nil { // an earlier set
		t.Fatal(err)
	}
	old, _ := db.UnusedRecoveryCodes(ctx, d, u.ID)
	for _, set := range [][][]byte{{{1}, {2}}, {{3}, {4}, {5}}} { // each try replaces the last
		if err := db.PutPendingRecoveryCodes(ctx, d, u.ID, set); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := db.PendingRecoveryCodes(ctx, d, u.ID); n != 3 || err != nil {
		t.Fatalf("pending codes: %d, %v; want 3", n, err)
	}
	if codes, _ := db.UnusedRecoveryCodes(ctx, d, u.ID); len(codes) != 1 || codes[0].ID != old[0].ID {
		t.Fatalf("unused codes while pending: %+v, want only the earlier one", codes)
	}
	var pendingID int64
	if err := d.QueryRowContext(ctx, `SELECT min(id) FROM recovery_codes WHERE pending = 1`).Scan(&pendingID); err != nil {
		t.Fatal(err)
	}
	if used, err := db.UseRecoveryCode(ctx, d, pendingID, 5); used || err != nil {
		t.Fatalf("spending a pending code: %v, %v", used, err)
	}
	if n, err := db.ActivatePendingRecoveryCodes(ctx, d, u.ID); n != 3 || err != nil {
		t.Fatalf("activated %d, %v; want 3", n, err)
	}
	codes, _ := db.UnusedRecoveryCodes(ctx, d, u.ID)
	if len(codes) != 3 || codes[0].ID != pendingID {
		t.Fatalf("after activation: %+v, want the three pending codes alone", codes)
	}
	if n, _ := db.PendingRecoveryCodes(ctx, d, u.ID); n != 0 {
		t.Errorf("%d codes still pending", n)
	}
	if err := db.PutPendingRecoveryCodes(ctx, d, u.ID, [][]byte{{7}}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeletePendingRecoveryCodes(ctx, d, u.ID); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.PendingRecoveryCodes(ctx, d, u.ID); n != 0 {
		t.Errorf("DeletePendingRecoveryCodes left %d", n)
	}
	if codes, _ := db.UnusedRecoveryCodes(ctx, d, u.ID); len(codes) != 3 {
		t.Errorf("DeletePendingRecoveryCodes touched the active codes: %d left", len(codes))
	}
}

// TestMFAKeyIDs lists each key once, in order, and nothing without secrets.
func TestMFAKeyIDs(t *testing.T) {
	d := openTest(t)
	ctx := context.Background()
	if ids, err := db.MFAKeyIDs(ctx, d); err != nil || len(ids) != 0 {
		t.Fatalf("no secrets: %v, %v", ids, err)
	}
	for i, key := range []string{"k2", "k1", "k2", "k3", "k1"} {
		u := seedUser(t, d, fmt.Sprintf("u%d", i))
		if err := db.PutPendingMFA(ctx, d, db.MFA{UserID: u.ID, Secret: []byte{1}, KeyID: key, Algorithm: "SHA1", Digits: 6, Period: 30}); err != nil {
			t.Fatal(err)
		}
	}
	if ids, err := db.MFAKeyIDs(ctx, d); err != nil || !slices.Equal(ids, []string{"k1", "k2", "k3"}) {
		t.Fatalf("key ids %v, %v; want k1 k2 k3", ids, err)
	}
}
