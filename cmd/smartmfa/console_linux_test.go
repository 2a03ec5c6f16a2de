//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startConsole runs `smartmfa --db` on a fresh pseudo-terminal of 80x24 as
// its controlling terminal, in the foreground, with TERM set: what a login
// shell gives it. Nothing answers the terminal's queries. It returns the
// terminal's master side, a channel that yields the exit, and the time the
// process started.
func startConsole(t testing.TB, e *env, term string, args ...string) (*os.File, <-chan error, time.Time) {
	t.Helper()
	master, slave := openPTY(t, 80, 24)
	cmd := exec.Command(smartmfaBinary(t), append([]string{"--db", e.db}, args...)...)
	cmd.Env = []string{"HOME=" + e.dir, "USER=tester", "TERM=" + term}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		master.Close()
	})
	return master, exited, start
}

// readScreen reads the terminal until want has been drawn or the deadline.
func readScreen(t testing.TB, master *os.File, want string, deadline time.Duration) (string, bool) {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		var seen bytes.Buffer
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			seen.Write(buf[:n])
			if strings.Contains(seen.String(), want) || err != nil {
				got <- seen.String()
				return
			}
		}
	}()
	select {
	case s := <-got:
		return s, strings.Contains(s, want)
	case <-time.After(deadline):
		return "", false
	}
}

// TestConsoleStartsWithoutWaitingForTheTerminal guards the trap of
// DESIGN.md 8: bubbletea's init asks the terminal for its background and,
// on a terminal that never answers, waits 5 s. The console must show the
// login screen at once under TERM values that termenv queries and those it
// does not, and the commands must not wait either.
func TestConsoleStartsWithoutWaitingForTheTerminal(t *testing.T) {
	for _, term := range []string{"xterm-256color", "screen"} {
		t.Run(term, func(t *testing.T) {
			e := newEnv(t)
			e.createAccount("acme", "alice") // an existing database, as on every start but the first
			master, exited, start := startConsole(t, e, term)
			screen, ok := readScreen(t, master, "Log in", 3*time.Second)
			if !ok {
				t.Fatalf("no login screen within 3 s; the terminal shows %q", screen)
			}
			elapsed := time.Since(start)
			t.Logf("TERM=%s: login screen drawn %v after start", term, elapsed.Round(100*time.Microsecond))
			if elapsed > time.Second {
				t.Errorf("the login screen took %v: something waited for the terminal", elapsed)
			}
			if strings.Contains(screen, "\x1b]11;?") {
				t.Errorf("the console queried the terminal's background: %q", screen)
			}
			master.Write([]byte{3}) // ctrl+c
			select {
			case err := <-exited:
				if err != nil {
					t.Errorf("ctrl+c: %v", err)
				}
			case <-time.After(3 * time.Second):
				t.Error("ctrl+c did not end the console")
			}

			// A command on that terminal must not wait either.
			master, exited, start = startConsole(t, e, term, "version")
			if _, ok := readScreen(t, master, "smartmfa "+testVersion, 3*time.Second); !ok {
				t.Fatal("smartmfa version printed nothing within 3 s")
			}
			if err := <-exited; err != nil || time.Since(start) > time.Second {
				t.Errorf("smartmfa version on a terminal: %v after %v", err, time.Since(start))
			}
		})
	}
}

// BenchmarkColdStart is process start to the login screen drawn on a
// terminal that never answers queries, on an existing database: what a user
// waits for after typing smartmfa. Target: 50 ms.
func BenchmarkColdStart(b *testing.B) {
	e := newEnv(b)
	e.createAccount("acme", "alice")
	smartmfaBinary(b) // built before the clock starts
	var d []time.Duration
	for b.Loop() {
		master, exited, start := startConsole(b, e, "xterm-256color")
		if screen, ok := readScreen(b, master, "Log in", 3*time.Second); !ok {
			b.Fatalf("no login screen within 3 s: %q", screen)
		}
		d = append(d, time.Since(start))
		b.StopTimer()
		master.Write([]byte{3}) // ctrl+c
		<-exited
		master.Close()
		b.StartTimer()
	}
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, "p99-ms")
}
