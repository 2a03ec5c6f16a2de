package db_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// TestKeyRotationQueries counts secrets by key, walks the secrets not under a
// key in batches, and re-encrypts only rows that still hold what was read.
func TestKeyRotationQueries(t *testing.T) {
	ctx := context.Background()
	d := openTest(t)
	var users []db.User
	for i, key := range []string{"old", "new", "old", "older", "old"} {
		u := seedUser(t, d, fmt.Sprintf("r%d", i))
		users = append(users, u)
		if err := db.PutPendingMFA(ctx, d, db.MFA{UserID: u.ID, Secret: []byte{byte(i), 0xff}, KeyID: key,
			Algorithm: "SHA1", Digits: 6, Period: 30}); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := db.CountSecretsByKey(ctx, d)
	want := []db.KeyCount{{"new", 1}, {"old", 3}, {"older", 1}}
	if err != nil || !slices.Equal(counts, want) {
		t.Fatalf("CountSecretsByKey = %v, %v; want %v", counts, err, want)
	}

	var walked []int64
	after := int64(0)
	for {
		batch, err := db.SecretsNotUnder(ctx, d, "new", after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range batch {
			walked = append(walked, s.UserID)
			if s.KeyID == "new" || s.AccountID == 0 || len(s.Secret) != 2 {
				t.Errorf("walked row %+v", s)
			}
		}
		if len(batch) < 2 {
			break
		}
		after = batch[len(batch)-1].UserID
	}
	wantWalk := []int64{users[0].ID, users[2].ID, users[3].ID, users[4].ID}
	if !slices.Equal(walked, wantWalk) {
		t.Fatalf("walked users %v, want %v", walked, wantWalk)
	}

	first, _ := db.SecretsNotUnder(ctx, d, "new", 0, 1)
	changed, err := db.ReencryptSecret(ctx, d, first[0], []byte("sealed-anew"), "new")
	if err != nil || !changed {
		t.Fatalf("ReencryptSecret = %v, %v; want the row changed", changed, err)
	}
	if again, err := db.ReencryptSecret(ctx, d, first[0], []byte("twice"), "new"); err != nil || again {
		t.Errorf("re-encrypting a row already moved = %v, %v; want untouched", again, err)
	}
	m, _ := db.MFAByUser(ctx, d, users[0].ID)
	if m.KeyID != "new" || string(m.Secret) != "sealed-anew" {
		t.Errorf("row after re-encryption: key %s secret %q", m.KeyID, m.Secret)
	}

	// A secret enrolled again under the old key after it was read is not
	// overwritten by the re-encryption of what was read.
	read, _ := db.SecretsNotUnder(ctx, d, "new", users[1].ID, 1)
	if err := db.PutPendingMFA(ctx, d, db.MFA{UserID: read[0].UserID, Secret: []byte("enrolled again"), KeyID: read[0].KeyID,
		Algorithm: "SHA1", Digits: 6, Period: 30}); err != nil {
		t.Fatal(err)
	}
	if changed, err := db.ReencryptSecret(ctx, d, read[0], []byte("stale"), "new"); err != nil || changed {
		t.Errorf("re-encryption over a secret changed meanwhile = %v, %v; want untouched", changed, err)
	}
	m, _ = db.MFAByUser(ctx, d, read[0].UserID)
	if string(m.Secret) != "enrolled again" {
		t.Errorf("the new enrolment was overwritten: %q", m.Secret)
	}
}
