package core

import (
	"context"
	"sync"
)

// hashGate bounds the argon2 work running at once (each hash takes about
// 30 ms of a core and 19 MiB) and serves the waiting attempts by priority,
// each priority in arrival order, so that a flood of guesses queues behind
// the users who sign in.
type hashGate struct {
	mu      sync.Mutex
	free    int
	waiting [numPriorities][]chan struct{}
}

// The priorities of the gate, first served first.
const (
	prioTrusted  = iota // from where the user signed in within trustFor, or a signed-in user
	prioNewPlace        // from a place with no recent failure
	prioGuessing        // from a place whose passwords failed lately
	numPriorities
)

func newHashGate(n int) *hashGate { return &hashGate{free: max(1, n)} }

func (g *hashGate) queued() int {
	n := 0
	for _, w := range g.waiting {
		n += len(w)
	}
	return n
}

// acquire waits for a slot, behind the waiters of its priority and above.
func (g *hashGate) acquire(ctx context.Context, prio int) error {
	g.mu.Lock()
	if g.free > 0 && g.queued() == 0 {
		g.free--
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	c := prio
	g.waiting[c] = append(g.waiting[c], ch)
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	for i, w := range g.waiting[c] {
		if w == ch {
			g.waiting[c] = append(g.waiting[c][:i], g.waiting[c][i+1:]...)
			g.mu.Unlock()
			return ctx.Err()
		}
	}
	g.mu.Unlock()
	g.release() // granted while giving up: pass the slot on
	return ctx.Err()
}

// release hands the slot to the first waiter of the first priority.
func (g *hashGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for c := range g.waiting {
		if len(g.waiting[c]) > 0 {
			ch := g.waiting[c][0]
			g.waiting[c] = g.waiting[c][1:]
			close(ch)
			return
		}
	}
	g.free++
}
