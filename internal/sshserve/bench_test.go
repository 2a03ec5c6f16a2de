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
// login screen, as a crowd of users would at nine in the morning, and in
// the same run as many on a bare x/crypto/ssh server that writes a screen
// of the same bytes at once (bareServer): the ratios are what the console
// and the server's limits cost over SSH itself. Rounds alternate, bare then
// ours, so that a change of load on the machine hits both.
//
// It reports the 50th and 99th percentile of each, their ratios (ours over
// bare), and the memory each of our open sessions holds: heap and stacks
// after a GC with all 100 open, less before, divided by 100. The clients run
// in the same process, so their side of each connection is counted too:
// the server alone holds less.
func BenchmarkConnect100(b *testing.B) {
	const sessions = 100
	ts := startServer(b, Config{MaxSessions: 2 * sessions, MaxPerAddress: 2 * sessions,
		MaxPending: 2 * sessions, MaxPendingPerAddress: 2 * sessions})
	bare := startBareServer(b, loginScreen(b, ts.addr))
	connectRound(b, bare.addr, 1, bare.open.Load) // warmed as loginScreen warmed ours
	var ours, ref []time.Duration
	var perSession []float64
	for b.Loop() {
		runtime.GC() // as inUse does before our round
		ref = append(ref, connectRound(b, bare.addr, sessions, bare.open.Load)...)
		before := inUse()
		times, clients := connectAll(b, ts.addr, sessions)
		perSession = append(perSession, float64(inUse()-before)/sessions)
		ours = append(ours, times...)
		closeAll(b, clients, func() int64 { return int64(ts.srv.Sessions()) })
	}
	slices.Sort(perSession)
	p50, p99 := percentile(ours, 0.50), percentile(ours, 0.99)
	b50, b99 := percentile(ref, 0.50), percentile(ref, 0.99)
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(b50, "bare-p50-ms")
	b.ReportMetric(b99, "bare-p99-ms")
	b.ReportMetric(p50/b50, "p50-ratio")
	b.ReportMetric(p99/b99, "p99-ratio")
	b.ReportMetric(perSession[len(perSession)/2], "B/session")
	b.ReportMetric(0, "ns/op")
}

// connectRound opens n sessions at once, closes them, and returns how long
// each took to show the login screen.
func connectRound(b *testing.B, addr string, n int, open func() int64) []time.Duration {
	times, clients := connectAll(b, addr, n)
	closeAll(b, clients, open)
	return times
}

// connectAll opens n sessions at once on addr and returns how long each took
// to show the login screen.
func connectAll(b *testing.B, addr string, n int) ([]time.Duration, []*benchClient) {
	clients := make([]*benchClient, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() { clients[i], errs[i] = connectToLogin(addr) })
	}
	wg.Wait()
	times := make([]time.Duration, n)
	for i, err := range errs {
		if err != nil {
			b.Fatalf("session %d on %s: %v", i, addr, err)
		}
		times[i] = clients[i].took
	}
	return times, clients
}

// closeAll closes the clients and waits until the server counts none open.
func closeAll(b *testing.B, clients []*benchClient, open func() int64) {
	for _, c := range clients {
		c.conn.Close()
	}
	deadline := time.Now().Add(wait)
	for open() > 0 {
		if time.Now().After(deadline) {
			b.Fatalf("%d sessions still open after their clients left", open())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// percentile is the p-th percentile of times, in milliseconds.
func percentile(times []time.Duration, p float64) float64 {
	s := slices.Sorted(slices.Values(times))
	return float64(s[int(p*float64(len(s)-1))]) / float64(time.Millisecond)
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
