package main

import (
	"context"
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// BenchmarkPAMEnrolBesideNotice times what the pam-enrol line adds to an SSH
// login, as a whole process run as root (becoming the database's owner), with
// a connection held open as `smartmfa serve` holds one on a jump host. Four
// processes run interleaved, in a rotating order, so that they share the load.
//
//   - start: `smartmfa version`, the floor of any smartmfa process.
//   - notice: `pam-verify --notice` for a user with MFA, the read-only line
//     the set-up already has: the reference.
//   - enrol-none: pam-enrol for the same user, who needs no set-up: what
//     every login of a user with MFA pays for the line.
//   - enrol-shown: pam-enrol for a user in the middle of the set-up: the
//     secret decrypted, ten recovery codes drawn and stored, the showing
//     audited, the QR code drawn.
//
// Run it as root:
//
//	go test ./cmd/smartmfa -run '^$' -bench PAMEnrolBesideNotice -benchtime 200x
func BenchmarkPAMEnrolBesideNotice(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: pam-enrol runs as sshd runs it, becoming the database's owner")
	}
	bin := binaryForAll(b)
	_, state := benchDirs(b, "smartmfa-bench-enrol-")
	dbPath := filepath.Join(state, "smartmfa.db")
	enrolBenchUsers(b, dbPath, 1) // ua0 and uc0 with MFA, benchadmin without
	ctx := context.Background()
	svc, err := core.Open(ctx, dbPath, filepath.Join(state, keyFileName), core.Config{})
	if err != nil {
		b.Fatal(err)
	}
	acct, err := svc.FindAccount(ctx, core.LocalOperator("local:bench"), "Bench")
	if err == nil {
		_, err = svc.SetRequireMFA(ctx, core.LocalOperator("local:bench"), acct.ID, true)
	}
	if err == nil {
		_, err = svc.BeginExternalEnrollment(ctx, "benchadmin", "bench")
	}
	svc.Close()
	if err != nil {
		b.Fatal(err)
	}
	chownTree(b, state, serviceUID, serviceUID)
	serve, err := sql.Open("sqlite", "file:"+dbPath)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { serve.Close() })
	if _, err := serve.Exec("SELECT count(*) FROM users"); err != nil {
		b.Fatal(err)
	}

	run := func(user string, args ...string) func() (time.Duration, string) {
		return func() (time.Duration, string) {
			cmd := exec.Command(bin, append([]string{"--db", dbPath}, args...)...)
			cmd.Env = []string{"PAM_TYPE=auth", "PAM_USER=" + user, "PAM_RHOST=127.0.0.1", "PAM_SERVICE=sshd"}
			start := time.Now()
			out, err := cmd.Output()
			d := time.Since(start)
			if err != nil {
				b.Fatalf("%q: %v", args, err)
			}
			return d, string(out)
		}
	}
	series := []struct {
		name  string
		run   func() (time.Duration, string)
		shows bool // prints the set-up
		times []time.Duration
	}{
		{name: "start", run: run("ua0", "version")},
		{name: "notice", run: run("ua0", "pam-verify", "--notice")},
		{name: "enrol-none", run: run("ua0", "pam-enrol")},
		{name: "enrol-shown", run: run("benchadmin", "pam-enrol"), shows: true},
	}
	load0 := loadAverage()
	b.ResetTimer()
	for i := range b.N {
		for j := range series {
			s := &series[(i+j)%len(series)]
			d, out := s.run()
			if s.shows != strings.Contains(out, "Setup key") {
				b.Fatalf("%s printed %q", s.name, out)
			}
			s.times = append(s.times, d)
		}
	}
	b.StopTimer()
	m := map[string]time.Duration{}
	for _, s := range series {
		m[s.name] = median(s.times)
		b.ReportMetric(float64(m[s.name].Microseconds())/1000, s.name+"-ms")
	}
	ref := float64(m["notice"])
	b.ReportMetric(float64(m["enrol-none"])/ref, "enrol-none/notice")
	b.ReportMetric(float64(m["enrol-shown"])/ref, "enrol-shown/notice")
	b.Logf("n=%d each; medians: start %v, notice %v, enrol-none %v (%.2fx notice), enrol-shown %v (%.2fx notice); load %s -> %s",
		b.N, m["start"], m["notice"], m["enrol-none"], float64(m["enrol-none"])/ref, m["enrol-shown"], float64(m["enrol-shown"])/ref,
		load0, loadAverage())
}
