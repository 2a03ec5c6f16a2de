package core

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// Password attempts are counted before the password is checked, on one of
// two counters:
//   - the origin's own, when the user signed in fully from there within
//     trustFor: strangers' failures elsewhere never lock a user out of the
//     places they use (OWASP's device cookie, with the source for a cookie);
//   - otherwise the bucket of the typed name: every name, known or not, falls
//     in one of nameBuckets, so a known name behaves exactly as an unknown one
//     and a flood of names adds at most nameBuckets rows.
const (
	nameBuckets = 1 << 16
	trustFor    = 30 * 24 * time.Hour
	forgetAfter = 24 * time.Hour // a counter idle this long starts again from zero
)

// throttleKey is the bounded, case-folded form of a typed username.
func throttleKey(typed string) string {
	return strings.ToLower(typed[:min(len(typed), MaxUsernameLen)])
}

// bucketOf is the name bucket of a typed username.
func bucketOf(typed string) int {
	sum := sha256.Sum256([]byte("smartmfa/name-bucket/v1\x00" + throttleKey(typed)))
	return int(binary.BigEndian.Uint32(sum[:4]) % nameBuckets)
}

// originOf is where a source's attempts come from whatever the connection:
// an SSH source without its port, and with the local user a jump host adds
// ("ssh:127.0.0.1:5000 (alice)" -> "ssh:127.0.0.1 (alice)").
func originOf(source string) string {
	rest, ok := strings.CutPrefix(source, "ssh:")
	if !ok {
		return source
	}
	addr, who, _ := strings.Cut(rest, " ")
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return source
	}
	if who != "" {
		return "ssh:" + host + " " + who
	}
	return "ssh:" + host
}

// attempt is a password attempt reserved on its counter.
type attempt struct {
	userID int64 // the user whose trusted origin counts it; 0 for a name bucket
	origin string
	bucket int
	n      int   // the counter's failures with this attempt counted
	locked int64 // the lock this attempt's reservation set, if it was the one that reached it
}

func (a attempt) trusted() bool { return a.userID != 0 }

// lockout is the lock schedule in the form the store's guards read.
var lockout = db.Lockout{After: lockAfter, First: firstLock, Max: maxLock}

// reserve counts an attempt as failed before its password is checked, in
// the one statement that also checks the lock: however many sessions,
// processes or hosts race, no more than lockAfter attempts pass before the
// lock. u is the user of the typed name, zero when there is none. An attempt
// that cannot be recorded is refused (ErrUnavailable) and never checked. A
// counter quiet for forgetAfter starts again from zero, for known and
// unknown names alike.
func (s *Service) reserve(ctx context.Context, typed string, u db.User, origin string) (attempt, error) {
	now := s.now()
	at, forget := now.UnixNano(), now.Add(-forgetAfter).UnixNano()
	a := attempt{bucket: bucketOf(typed)}
	err := s.db.WriteTx(ctx, func(q db.Querier) error {
		a.userID, a.origin = 0, ""
		if u.ID != 0 {
			c, trusted, ok, err := db.ReserveOrigin(ctx, q, u.ID, origin, now.Add(-trustFor).UnixNano(), at, forget, lockout)
			switch {
			case err != nil:
				return err
			case trusted && !ok:
				return lockedNow(c.LockedUntil, now)
			case trusted:
				a.userID, a.origin, a.n, a.locked = u.ID, origin, c.Failures, c.LockedUntil
				return nil
			}
		}
		c, ok, err := db.ReserveBucket(ctx, q, a.bucket, at, forget, lockout)
		switch {
		case err != nil:
			return err
		case !ok:
			return lockedNow(c.LockedUntil, now)
		}
		a.n, a.locked = c.Failures, c.LockedUntil
		return nil
	})
	if errors.Is(err, ErrLocked) {
		return a, err
	}
	if err != nil {
		return a, unavailable(err)
	}
	return a, nil
}

// lockedNow is the refusal of an attempt the store found locked.
func lockedNow(until int64, now time.Time) error {
	if err := lockedErr(until, now); err != nil {
		return err
	}
	return &LockedError{Until: now} // the guard refused it; never admit on a stale read
}

// settle ends a reserved attempt inside the caller's transaction. When other
// attempts locked the counter while this one's password was checked, it is
// refused (LockedError) whether the password was right or wrong, so that the
// answer tells nothing; its reservation then stays counted. Otherwise a right
// password resets its origin's counter, or gives a name bucket back its own
// reservation and the lock that reservation set: a bucket is never reset, as
// the other names in it may be under attack. Each is one guarded statement.
func (a attempt) settle(ctx context.Context, q db.Querier, now time.Time, ok bool) error {
	at := now.UnixNano()
	var until int64
	var err error
	switch {
	case a.trusted() && ok:
		until, err = db.ResetOriginCounter(ctx, q, a.userID, a.origin, a.n, at)
	case a.trusted():
		until, err = db.OriginLockedBeyond(ctx, q, a.userID, a.origin, a.n, at)
	case ok:
		until, err = db.GiveBackBucketAttempt(ctx, q, a.bucket, a.n, at, a.locked, lockAfter)
	default:
		until, err = db.BucketLockedBeyond(ctx, q, a.bucket, a.n, at)
	}
	if err != nil {
		return err
	}
	return lockedErr(until, now)
}

// trustOrigin records a full sign-in, in its transaction: from now on the
// origin keeps its own counter for the user.
func (s *Service) trustOrigin(ctx context.Context, q db.Querier, sess Session) error {
	now := s.now()
	return db.TrustOrigin(ctx, q, sess.userID, originOf(sess.source), now.UnixNano(), now.Add(-trustFor).UnixNano())
}
