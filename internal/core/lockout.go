package core

import "time"

// Lockout policy, shared by passwords and codes and stored in the database so
// that it holds across processes and SSH sessions.
const (
	lockAfter       = 5                // consecutive failures before the first lock
	firstLock       = 30 * time.Second // doubled for each further failure
	maxLock         = 15 * time.Minute
	disableMFAAfter = 100 // consecutive wrong codes that disable MFA login
)

// lockUntil is when a user with `failures` consecutive failures at now may try
// again; zero when they are not locked.
func lockUntil(now time.Time, failures int) int64 {
	if failures < lockAfter {
		return 0
	}
	d := firstLock
	for i := lockAfter; i < failures && d < maxLock; i++ {
		d *= 2
	}
	return now.Add(min(d, maxLock)).UnixNano()
}

func lockedErr(until int64, now time.Time) error {
	if until > now.UnixNano() {
		return &LockedError{Until: time.Unix(0, until).UTC()}
	}
	return nil
}
