package sshserve

import (
	"net"
	"testing"
	"time"
)

// deadlineConn records the deadlines set on it.
type deadlineConn struct {
	net.Conn
	set []time.Time
}

func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.set = append(c.set, t)
	return nil
}

// TestDeadlineMovesOnlyWhenItMatters: the SSH library asks for a deadline a
// little later before every read and write; the connection's moves only
// when it is a second later, earlier, or none, and never past the pending
// deadline.
func TestDeadlineMovesOnlyWhenItMatters(t *testing.T) {
	raw := &deadlineConn{}
	c := &trackedConn{Conn: raw}
	now := time.Now()
	steps := []struct {
		ask  time.Time
		want time.Time // what the connection gets; zero: nothing
	}{
		{now.Add(time.Minute), now.Add(time.Minute)},
		{now.Add(time.Minute + 100*time.Millisecond), time.Time{}}, // a near repeat
		{now.Add(time.Minute + 2*time.Second), now.Add(time.Minute + 2*time.Second)},
		{now.Add(30 * time.Second), now.Add(30 * time.Second)}, // earlier
	}
	for i, st := range steps {
		before := len(raw.set)
		_ = c.SetDeadline(st.ask)
		switch {
		case st.want.IsZero() && len(raw.set) != before:
			t.Errorf("step %d: deadline moved to %v, want it kept", i, raw.set[len(raw.set)-1].Sub(now))
		case !st.want.IsZero() && (len(raw.set) == before || !raw.set[len(raw.set)-1].Equal(st.want)):
			t.Errorf("step %d: deadline not moved to %v", i, st.want.Sub(now))
		}
	}
	if _ = c.SetDeadline(time.Time{}); !raw.set[len(raw.set)-1].IsZero() {
		t.Error("no deadline was asked for and one stays")
	}
	c.preSession = now.Add(20 * time.Second)
	if _ = c.SetDeadline(now.Add(time.Hour)); !raw.set[len(raw.set)-1].Equal(c.preSession) {
		t.Errorf("while pending, the deadline is %v, want the pending one", raw.set[len(raw.set)-1].Sub(now))
	}
}
