package sshserve

import (
	"bytes"
	"errors"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// BenchmarkConnect100 opens 100 sessions at once, each from dialling to its
// login screen, as a crowd of users would at nine in the morning. It
// reports the 50th and 99th percentile of that time, and the memory each
// open session holds: heap and stacks after a GC with all 100 open, less
// before, divided by 100. The clients run in the same process, so their
// side of each connection is counted too: the server alone holds less.
func BenchmarkConnect100(b *testing.B) {
	const sessions = 100
	ts := startServer(b, Config{MaxSessions: 2 * sessions, MaxPerAddress: 2 * sessions})
	var times []time.Duration
	var perSession []float64
	for b.Loop() {
		before := inUse()
		clients := make([]*benchClient, sessions)
		errs := make([]error, sessions)
		var wg sync.WaitGroup
		for i := range clients {
			wg.Go(func() { clients[i], errs[i] = connectToLogin(ts.addr) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				b.Fatalf("session %d: %v", i, err)
			}
			times = append(times, clients[i].took)
		}
		perSession = append(perSession, float64(inUse()-before)/sessions)
		for _, c := range clients {
			c.conn.Close()
		}
		deadline := time.Now().Add(wait)
		for ts.srv.Sessions() > 0 {
			if time.Now().After(deadline) {
				b.Fatalf("%d sessions still open after their clients left", ts.srv.Sessions())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	slices.Sort(times)
	slices.Sort(perSession)
	pct := func(p float64) float64 {
		return float64(times[int(p*float64(len(times)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(perSession[len(perSession)/2], "B/session")
	b.ReportMetric(0, "ns/op")
}

// inUse is the heap and stack memory in use after a collection.
func inUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse + m.StackInuse)
}

type benchClient struct {
	conn *gossh.Client
	took time.Duration
}

// connectToLogin dials, opens an 80x24 terminal session and returns when
// the login screen has arrived.
func connectToLogin(addr string) (*benchClient, error) {
	start := time.Now()
	conn, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "bench",
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: wait})
	if err != nil {
		return nil, err
	}
	sess, err := conn.NewSession()
	if err == nil {
		err = sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{})
	}
	seen := &watchWriter{want: []byte("Log in"), seen: make(chan struct{})}
	if err == nil {
		sess.Stdout = seen
		err = sess.Shell()
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	select {
	case <-seen.seen:
	case <-time.After(wait):
		conn.Close()
		return nil, errTimeout
	}
	return &benchClient{conn: conn, took: time.Since(start)}, nil
}

var errTimeout = errors.New("no login screen within the wait")

// watchWriter closes seen once the output holds want.
type watchWriter struct {
	mu   sync.Mutex
	buf  []byte
	want []byte
	seen chan struct{}
	done bool
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.buf = append(w.buf, p...)
		if bytes.Contains(w.buf, w.want) {
			w.done = true
			w.buf = nil
			close(w.seen)
		}
	}
	return len(p), nil
}
