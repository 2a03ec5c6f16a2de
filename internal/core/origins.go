package core

import (
	"sync"
	"time"
)

// failingOrigins remembers, in this process only, which origins had a
// password refused lately. It decides nothing but the order in which the
// hash gate serves waiting attempts: a place that has been guessing waits
// behind one that has not.
type failingOrigins struct {
	mu   sync.Mutex
	last map[string]time.Time
}

const (
	guessingFor   = 15 * time.Minute // how long a failure marks its origin
	originsKept   = 4096             // bounds the memory a flood of addresses takes
	originsPruned = originsKept / 2
)

func (f *failingOrigins) failed(origin string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last == nil {
		f.last = map[string]time.Time{}
	}
	if _, ok := f.last[origin]; !ok && len(f.last) >= originsKept {
		for o, t := range f.last { // forget the stale first, then any
			if now.Sub(t) > guessingFor || len(f.last) > originsPruned {
				delete(f.last, o)
			}
		}
	}
	f.last[origin] = now
}

func (f *failingOrigins) guessing(origin string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.last[origin]
	return ok && now.Sub(t) <= guessingFor
}

// priority is the hash gate's priority for a password attempt from origin.
func (s *Service) priority(a attempt, origin string) int {
	switch {
	case a.trusted():
		return prioTrusted
	case s.failing.guessing(origin, s.now()):
		return prioGuessing
	}
	return prioNewPlace
}
