package core

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const envGuesser = "SMARTMFA_TEST_GUESSER" // the child's number

// TestHelperGuesser is not a test: TestBurstAcrossProcesses runs the test
// binary again with envGuesser set. Each child opens the database itself and,
// at the start file, sends a dozen passwords for bob at once from addresses
// of its own; child 0's first one is right. It prints each answer.
func TestHelperGuesser(t *testing.T) {
	child := os.Getenv(envGuesser)
	if child == "" {
		return
	}
	ctx := context.Background()
	nanos, _ := strconv.ParseInt(os.Getenv(envTime), 10, 64)
	now := time.Unix(0, nanos).UTC()
	s, err := Open(ctx, os.Getenv(envDB), os.Getenv(envKey), Config{Now: func() time.Time { return now }, Password: cheapParams})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(0)
	}
	fmt.Println("ready")
	for {
		if _, err := os.Stat(os.Getenv(envStart)); err == nil {
			break
		}
		time.Sleep(200 * time.Microsecond)
	}
	var wg sync.WaitGroup
	out := make([]string, 12)
	for i := range out {
		wg.Go(func() {
			pw := "wrong guess " + strconv.Itoa(i)
			if child == "0" && i == 0 {
				pw = testPassword
			}
			_, err := s.Login(ctx, "bob", pw, fmt.Sprintf("ssh:10.9.%s.%d:4000", child, i+1))
			out[i] = fmt.Sprint(err)
		})
	}
	wg.Wait()
	for _, l := range out {
		fmt.Println("result:", l)
	}
	s.Close()
	os.Exit(0)
}

// TestBurstAcrossProcesses: four processes send 48 passwords for one user at
// once; however they interleave on the file, at most five wrong ones are
// checked before the lock.
func TestBurstAcrossProcesses(t *testing.T) {
	w := newWorld(t)
	start := filepath.Join(t.TempDir(), "start")
	var outs []*bufio.Scanner
	var cmds []*exec.Cmd
	for i := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperGuesser$", "-test.count=1")
		cmd.Env = append(os.Environ(), envGuesser+"="+strconv.Itoa(i), envDB+"="+w.dbPath, envKey+"="+w.keyPath,
			envTime+"="+strconv.FormatInt(w.clock.Now().UnixNano(), 10), envStart+"="+start)
		cmd.Stderr = os.Stderr
		pipe, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, bufio.NewScanner(pipe))
	}
	for i, o := range outs {
		if !o.Scan() || o.Text() != "ready" {
			t.Fatalf("child %d: %q before ready", i, o.Text())
		}
	}
	if err := os.WriteFile(start, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	answers := map[string]int{}
	for i, o := range outs {
		for o.Scan() {
			answers[strings.TrimPrefix(o.Text(), "result: ")]++
		}
		if err := cmds[i].Wait(); err != nil {
			t.Errorf("child %d: %v", i, err)
		}
	}
	total := 0
	for msg, n := range answers {
		total += n
		if msg != "<nil>" && msg != ErrInvalidCredentials.Error() && !strings.HasPrefix(msg, "too many failed attempts") {
			t.Errorf("unexpected answer %q", msg)
		}
	}
	if total != 48 {
		t.Fatalf("%d answers, want 48: %v", total, answers)
	}
	if n := w.failuresChecked(w.bob.ID); n > lockAfter {
		t.Errorf("%d wrong passwords checked across processes, want at most %d (answers %v)", n, lockAfter, answers)
	}
}
