package sshserve

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// The tests in this file drive the server as a hostile client would, before
// any login: with a real x/crypto/ssh client, declaring what the protocol
// lets it declare.

// TestEnvFloodGrowsNothing: charmbracelet/ssh keeps every "env" request of
// a session; 200 MB of them before the shell once grew the server by as
// much. Only the variables the console reads are kept, bounded, so the
// flood leaves the process (server and client here) within 20 MB of where
// it started once collected (the peak, garbage and the client's side
// included, is logged). Not parallel: it reads the whole process's memory.
func TestEnvFloodGrowsNothing(t *testing.T) {
	rss0, ok := residentBytes()
	if !ok {
		t.Skip("no /proc/self/status to read the resident memory from")
	}
	ts := startServer(t, Config{Console: sizeConsole})
	conn, err := dial(t, ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	sess, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	debug.FreeOSMemory()
	rss0, _ = residentBytes()

	peak := rss0
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // the highest resident memory while the flood runs
		defer close(sampled)
		for {
			if r, ok := residentBytes(); ok && r > peak {
				peak = r
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	const total, each = 200 << 20, 100 << 10
	value := strings.Repeat("x", each)
	names := []string{"LANG", "LC_ALL", "TERM", "XAUTHORITY"}
	start := time.Now()
	for i := range total / each {
		name := names[i%len(names)]
		if i%3 == 0 {
			name = fmt.Sprintf("JUNK_%d", i)
		}
		if _, err := sess.SendRequest("env", false, gossh.Marshal(struct{ Name, Value string }{name, value})); err != nil {
			t.Fatalf("env request %d: %v", i, err)
		}
	}
	// Requests are answered in order: once this one is, the flood is read.
	if _, err := sess.SendRequest("env", true, gossh.Marshal(struct{ Name, Value string }{"LANG", "C.UTF-8"})); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	close(stop)
	<-sampled
	runtime.GC()
	debug.FreeOSMemory()
	rss1, _ := residentBytes()
	const mb = 1 << 20
	t.Logf("200 MB of env requests in %s: resident %.1f MB before, %.1f MB after (%+.1f MB, x%.2f), peak %+.1f MB",
		took.Round(time.Millisecond), float64(rss0)/mb, float64(rss1)/mb, float64(rss1-rss0)/mb,
		float64(rss1)/float64(rss0), float64(peak-rss0)/mb)
	// The bound is the server's; client and server share this process, and
	// under -race the detector's shadow memory stays resident (up to 41 MB
	// was seen there, against 210 MB before env requests were bounded).
	limit := int64(20 * mb)
	if raceDetector {
		limit = 80 * mb
	}
	if grew := rss1 - rss0; grew > limit {
		t.Errorf("the flood grew the process by %.1f MB, more than %d MB", float64(grew)/mb, limit/mb)
	}

	// The session itself goes on.
	c := &client{t: t, conn: conn, sess: sess, out: &syncBuffer{}, exited: make(chan error, 1)}
	sess.Stdout, sess.Stderr = c.out, c.out
	if err := sess.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	c.waitFor("size 80x24")
}

// residentBytes is the process's resident memory (VmRSS), where Linux says.
func residentBytes() (int64, bool) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// TestSessionChannelsPerConnection: the library accepts every session
// channel a connection opens (50,000 once cost 310 MB). Two may be open at
// once; the third is refused with a reason, and a closed one makes room.
func TestSessionChannelsPerConnection(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Console: sizeConsole})
	conn, err := dial(t, ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	first, err := conn.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.NewSession(); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		_, err := conn.NewSession()
		var open *gossh.OpenChannelError
		if !errors.As(err, &open) || open.Reason != gossh.ResourceShortage ||
			!strings.Contains(open.Message, "2 sessions per connection; open another connection") {
			t.Fatalf("a third session channel: %v, want a refusal that says why", err)
		}
	}
	first.Close()
	deadline := time.Now().Add(wait)
	for {
		s, err := conn.NewSession()
		if err == nil {
			s.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no room after a session closed: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOnlyTheEnvironmentTheConsoleReadsIsKept checks the filter itself.
func TestOnlyTheEnvironmentTheConsoleReadsIsKept(t *testing.T) {
	env := func(name, value string) *gossh.Request {
		return &gossh.Request{Type: "env", Payload: gossh.Marshal(struct{ Name, Value string }{name, value})}
	}
	var f requestFilter
	for _, tc := range []struct {
		req  *gossh.Request
		kept bool
	}{
		{env("TERM", "xterm-256color"), true},
		{env("NO_COLOR", "1"), true},
		{env("COLORFGBG", "15;0"), true},
		{env("COLORTERM", "truecolor"), true},
		{env("LANG", "en_US.UTF-8"), true},
		{env("LC_TIME", "en_GB.UTF-8"), true},
		{env("LANG", strings.Repeat("x", maxEnvValue+1)), false},
		{env("LC_"+strings.Repeat("X", maxEnvName), "C"), false},
		{env("LD_PRELOAD", "/tmp/x.so"), false},
		{env("PATH", "/bin"), false},
		{&gossh.Request{Type: "env", Payload: []byte{0, 0, 0, 9}}, false},
	} {
		var kv struct{ Name, Value string }
		_ = gossh.Unmarshal(tc.req.Payload, &kv)
		if got := f.pass(tc.req); got != tc.kept {
			t.Errorf("%.20s=%.20s: kept %v, want %v", kv.Name, kv.Value, got, tc.kept)
		}
	}
	for range 2 * maxEnvVars {
		f.pass(env("LC_ALL", "C"))
	}
	if f.env != maxEnvVars {
		t.Errorf("%d variables kept, want at most %d", f.env, maxEnvVars)
	}
}
