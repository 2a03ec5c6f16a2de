package db_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// The child of TestPostgresPartition is this test binary run again inside
// a network namespace: partitionModeVar says what it does, partitionLocVar
// where the store is. Its lines starting with partitionSays talk to the parent.
const (
	partitionModeVar = "SMARTMFA_TEST_PARTITION_CHILD"
	partitionLocVar  = "SMARTMFA_TEST_PARTITION_DB"
	partitionSays    = "partition-child: "
	// Past this, after the link went down, the child is taken to hang as it
	// did with pgx's default dialer (~15 min of retransmissions).
	partitionDeadline = 20 * time.Second
)

// TestPostgresPartition: a network that silently drops packets between a
// host and PostgreSQL (a veth whose peer is down: no RST, no ICMP) fails a
// statement as "the store cannot be reached" in seconds, whether the
// statement is sent into the partition or its result is awaited across it.
func TestPostgresPartition(t *testing.T) {
	switch {
	case runtime.GOOS != "linux":
		t.Skip("network namespaces and veth pairs are Linux's")
	case os.Geteuid() != 0:
		t.Skip("creating a network namespace needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) is missing")
	}
	schema := dbtest.RequirePostgres(t)
	const quick = "&tcp_user_timeout=2000&keepalives_idle=1&keepalives_interval=1&keepalives_count=2"
	for i, c := range []struct {
		name, mode, params string
		within             time.Duration
	}{
		{"statement sent into it", "send", quick, 8 * time.Second},
		{"result awaited across it", "await", quick, 8 * time.Second},
		{"statement sent into it, smartmfa's defaults", "send", "", 15 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			// A network of its own: reusing one, the next child at times
			// could not connect just after the link came back up.
			n := newPartitionNet(t, i)
			proxy := dbtest.NewProxyOn(t, n.hostIP+":0")
			took := runPartitionChild(t, n, c.mode, proxy.Location(schema)+c.params)
			if took > c.within {
				t.Errorf("the store was found unreachable after %v, want within %v", took, c.within)
			}
			t.Logf("unreachable %v after the partition", took.Round(10*time.Millisecond))
		})
	}
}

// partitionNet is a network namespace joined to the host by a veth pair
// on a /30 of its own.
type partitionNet struct {
	ns, hostDev, nsDev, hostIP, nsIP string
}

// newPartitionNet makes the i-th network of the test process, removed when
// the test ends.
func newPartitionNet(t *testing.T, i int) *partitionNet {
	pid := os.Getpid()
	a, b := (pid>>6)&255, (pid&63)*4 // a /30 in 10.(200+i)/16 per process
	n := &partitionNet{ns: fmt.Sprintf("smartmfa-part-%d-%d", pid, i),
		hostDev: fmt.Sprintf("smfa%dh%d", pid, i), nsDev: fmt.Sprintf("smfa%dn%d", pid, i),
		hostIP: fmt.Sprintf("10.%d.%d.%d", 200+i, a, b+1), nsIP: fmt.Sprintf("10.%d.%d.%d", 200+i, a, b+2)}
	if out, err := exec.Command("ip", "netns", "add", n.ns).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", n.ns).Run() // takes its end of the veth pair, and so both
		exec.Command("ip", "link", "del", n.hostDev).Run()
	})
	n.ip(t, "link", "add", n.hostDev, "type", "veth", "peer", "name", n.nsDev, "netns", n.ns)
	n.ip(t, "addr", "add", n.hostIP+"/30", "dev", n.hostDev)
	n.ip(t, "link", "set", n.hostDev, "up")
	n.ip(t, "-n", n.ns, "addr", "add", n.nsIP+"/30", "dev", n.nsDev)
	n.ip(t, "-n", n.ns, "link", "set", n.nsDev, "up")
	n.ip(t, "-n", n.ns, "link", "set", "lo", "up")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		state, _ := os.ReadFile("/sys/class/net/" + n.hostDev + "/operstate")
		if strings.TrimSpace(string(state)) == "up" { // both ends up: it carries packets
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is still %s", n.hostDev, state)
		}
	}
	return n
}

func (n *partitionNet) ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// runPartitionChild runs the child in the namespace, takes the link down
// once it has a working connection, and returns how long the child's
// statement took to fail after that.
func runPartitionChild(t *testing.T, n *partitionNet, mode, location string) time.Duration {
	exe, err := os.Executable() // not /proc/self/exe: ip would see its own
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second+partitionDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", n.ns, exe, "-test.run=^TestPartitionChild$", "-test.v")
	cmd.Env = append(os.Environ(), partitionModeVar+"="+mode, partitionLocVar+"="+location,
		dbtest.EngineVar+"=postgres") // one pass: dbtest.Main reruns nothing
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	cmd.WaitDelay = time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var hung atomic.Bool
	var took time.Duration
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		line := lines.Text()
		t.Logf("child: %s", line)
		said, ok := strings.CutPrefix(line, partitionSays)
		switch {
		case !ok:
		case said == "ready":
			n.ip(t, "link", "set", n.hostDev, "down")
			time.AfterFunc(partitionDeadline, func() { hung.Store(true); cmd.Process.Kill() })
			io.WriteString(stdin, "go\n")
		case strings.HasPrefix(said, "unreachable after "):
			took, _ = time.ParseDuration(strings.TrimPrefix(said, "unreachable after "))
		}
	}
	err = cmd.Wait()
	switch {
	case hung.Load():
		t.Fatalf("the child's statement still waited %v after the partition", partitionDeadline)
	case err != nil:
		t.Fatalf("the child failed: %v", err)
	case took == 0:
		t.Fatal("the child did not say when its statement failed")
	}
	return took
}

// TestPartitionChild is TestPostgresPartition's child, in the namespace: it
// proves the store works, says ready, and once told the link is down runs
// a statement (mode "send") or is already awaiting one's result ("await").
func TestPartitionChild(t *testing.T) {
	mode := os.Getenv(partitionModeVar)
	if mode == "" {
		t.Skip("run by TestPostgresPartition inside a network namespace")
	}
	ctx := context.Background()
	d, err := db.Open(ctx, os.Getenv(partitionLocVar))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var one int
	if err := d.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		t.Fatalf("before the partition: %v", err)
	}
	linkDown := bufio.NewReader(os.Stdin)
	var start time.Time
	switch mode {
	case "send":
		fmt.Println(partitionSays + "ready")
		linkDown.ReadString('\n')
		start = time.Now()
		err = d.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
	case "await":
		done := make(chan error, 1)
		go func() { done <- d.QueryRowContext(ctx, `SELECT 1 FROM pg_sleep(5)`).Scan(&one) }()
		time.Sleep(500 * time.Millisecond) // sent and acknowledged: only the result is left
		fmt.Println(partitionSays + "ready")
		linkDown.ReadString('\n')
		start = time.Now()
		err = <-done
	default:
		t.Fatalf("mode %q", mode)
	}
	took := time.Since(start)
	if err = db.Translate(err); !errors.Is(err, db.ErrUnreachable) {
		t.Fatalf("after %v: %v, want %v", took, err, db.ErrUnreachable)
	}
	fmt.Printf("%sunreachable after %v\n", partitionSays, took)
	t.Logf("%v", errors.Unwrap(err))
}
