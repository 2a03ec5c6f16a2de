package main

import (
	"context"
	"database/sql"
	"encoding/base32"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// BenchmarkPAMVerifyBesideLibPAM times one SSH login's code check as a whole
// process, from exec to verdict, three ways, interleaved so that they share
// the machine's load:
//   - pam-verify: the smartmfa process pam_exec would start, as root,
//     becoming the database's owner (the README's install);
//   - libpam: pamtester driving google-authenticator-libpam on the same code
//     of the same secret (a secret file per user, DISALLOW_REUSE, as its
//     README sets it up; user=root, so no passwd lookup);
//   - pam_exec: pamtester driving pam_exec, which runs pam-verify: the whole
//     PAM path of the set-up.
//
// "alone" is pam-verify as the only process on the database, so each run
// ends with SQLite's checkpoint on close; "beside-serve" holds a connection
// open as `smartmfa serve` would on a jump host, so no run checkpoints.
//
// Each code is accepted once (both guard against replays and write the used
// step durably), so a sample needs a fresh step per user: b.N users each give
// up to two steps of the window. Run it with a fixed count, as root:
//
//	go test ./cmd/smartmfa -run '^$' -bench PAMVerifyBesideLibPAM -benchtime 200x
func BenchmarkPAMVerifyBesideLibPAM(b *testing.B) {
	b.Run("alone", func(b *testing.B) { benchPAMVerify(b, false) })
	b.Run("beside-serve", func(b *testing.B) { benchPAMVerify(b, true) })
}

// benchDirs makes a temporary directory others may enter, as sshd's PAM
// modules run as other users, with a private "state" directory in it for
// the database; both go when the benchmark ends.
func benchDirs(b *testing.B, prefix string) (dir, state string) {
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	state = filepath.Join(dir, "state")
	os.Mkdir(state, 0o700)
	return dir, state
}

func benchPAMVerify(b *testing.B, holdOpen bool) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: it writes /etc/pam.d and runs pam-verify as sshd does")
	}
	_, err := exec.LookPath("pamtester")
	if mods, _ := filepath.Glob("/lib/*/security/pam_google_authenticator.so"); err != nil || len(mods) == 0 {
		b.Skip("pamtester and google-authenticator-libpam are not installed (apt-get install pamtester libpam-google-authenticator)")
	}
	bin := binaryForAll(b)
	dir, state := benchDirs(b, "smartmfa-bench-")
	gaDir := filepath.Join(dir, "ga")
	os.Mkdir(gaDir, 0o700)
	dbPath := filepath.Join(state, "smartmfa.db")

	// Users: uaN checked by pam-verify and libpam alike, with one secret;
	// ucN checked through pam_exec.
	users := b.N/2 + 2
	secrets, used := enrolBenchUsers(b, dbPath, users)
	for name, key := range secrets {
		if strings.HasPrefix(name, "ua") {
			enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key)
			file := fmt.Sprintf("%s\n\" TOTP_AUTH\n\" DISALLOW_REUSE\n\" WINDOW_SIZE 3\n", enc)
			if err := os.WriteFile(filepath.Join(gaDir, name), []byte(file), 0o400); err != nil {
				b.Fatal(err)
			}
		}
	}
	chownTree(b, state, serviceUID, serviceUID)
	if holdOpen {
		serve, err := sql.Open("sqlite", "file:"+dbPath)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { serve.Close() })
		if _, err := serve.Exec("SELECT count(*) FROM users"); err != nil {
			b.Fatal(err)
		}
	}

	svcGA := fmt.Sprintf("smartmfa-bench-ga-%d", os.Getpid())
	svcExec := fmt.Sprintf("smartmfa-bench-exec-%d", os.Getpid())
	pamFiles := map[string]string{
		svcGA:   fmt.Sprintf("auth required pam_google_authenticator.so user=root secret=%s/${USER}\naccount required pam_permit.so\n", gaDir),
		svcExec: fmt.Sprintf("auth required pam_exec.so quiet expose_authtok %s --db %s pam-verify\naccount required pam_permit.so\n", bin, dbPath),
	}
	for name, text := range pamFiles {
		path := filepath.Join("/etc/pam.d", name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.Remove(path) })
	}

	run := func(name string, args []string, env []string, stdin string) time.Duration {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			b.Fatalf("%s %q: %v\n%s", name, args, err, out)
		}
		return d
	}
	pamVerify := func(user, code string) time.Duration {
		return run(bin, []string{"--db", dbPath, "pam-verify"},
			[]string{"PAM_TYPE=auth", "PAM_USER=" + user, "PAM_RHOST=127.0.0.1", "PAM_SERVICE=sshd"}, code)
	}
	pamtester := func(service, user, code string) time.Duration {
		return run("pamtester", []string{service, user, "authenticate"}, []string{"PATH=/usr/bin:/bin"}, code+"\n")
	}

	load0 := loadAverage()
	var tVerify, tLibPAM, tExec []time.Duration
	b.ResetTimer()
	for i := 0; len(tVerify) < b.N; i++ {
		u := i % users
		a, c := fmt.Sprintf("ua%d", u), fmt.Sprintf("uc%d", u)
		now := time.Now().Unix() / 30
		step := max(used[a]+1, now-1)
		if step > now+1 || step != max(used[c]+1, now-1) {
			if u == users-1 {
				time.Sleep(time.Until(time.Unix((now+1)*30, 0))) // every user has spent this window
			}
			continue
		}
		used[a], used[c] = step, step
		at := time.Unix(step*30, 0)
		ca, cc := totpCode(secrets[a], at), totpCode(secrets[c], at)
		if i%2 == 0 {
			tVerify = append(tVerify, pamVerify(a, ca))
			tLibPAM = append(tLibPAM, pamtester(svcGA, a, ca))
		} else {
			tLibPAM = append(tLibPAM, pamtester(svcGA, a, ca))
			tVerify = append(tVerify, pamVerify(a, ca))
		}
		tExec = append(tExec, pamtester(svcExec, c, cc))
	}
	b.StopTimer()
	mv, ml, me := median(tVerify), median(tLibPAM), median(tExec)
	b.ReportMetric(float64(mv.Microseconds())/1000, "pam-verify-ms")
	b.ReportMetric(float64(ml.Microseconds())/1000, "libpam-ms")
	b.ReportMetric(float64(me.Microseconds())/1000, "pam_exec-ms")
	b.ReportMetric(float64(mv)/float64(ml), "verify/libpam")
	b.ReportMetric(float64(me)/float64(ml), "pam_exec/libpam")
	b.Logf("n=%d each; medians: pam-verify %v, libpam %v (ratio %.2f), pamtester+pam_exec+pam-verify %v (ratio %.2f); load %s -> %s",
		len(tVerify), mv, ml, float64(mv)/float64(ml), me, float64(me)/float64(ml), load0, loadAverage())
}

// enrolBenchUsers makes an account of users ua0.. and uc0.., each with MFA,
// and returns their secrets and the step each has spent.
func enrolBenchUsers(b *testing.B, dbPath string, n int) (map[string][]byte, map[string]int64) {
	ctx := context.Background()
	keyPath := filepath.Join(filepath.Dir(dbPath), keyFileName)
	svc, err := core.Open(ctx, dbPath, keyPath, core.Config{Password: core.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	op := core.LocalOperator("local:bench")
	const pw = "bench-password-1"
	acct, err := svc.CreateAccount(ctx, op, core.NewAccount{Name: "Bench", Admin: core.NewUser{Username: "benchadmin", Password: pw}})
	if err != nil {
		b.Fatal(err)
	}
	secrets, used := map[string][]byte{}, map[string]int64{}
	for i := range n {
		for _, name := range []string{fmt.Sprintf("ua%d", i), fmt.Sprintf("uc%d", i)} {
			if _, err := svc.CreateUser(ctx, op, acct.ID, core.NewUser{Username: name, Role: core.RoleUser, Password: pw}, ""); err != nil {
				b.Fatal(err)
			}
			sess, err := svc.Login(ctx, name, pw, "bench")
			if err == nil && sess.Stage() == core.StageNewPassword {
				sess, err = svc.ChooseNewPassword(ctx, sess, pw+"x")
			}
			if err != nil {
				b.Fatal(err)
			}
			en, err := svc.BeginEnrollment(ctx, sess)
			if err != nil {
				b.Fatal(err)
			}
			key, _ := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(en.SetupKey, " ", ""))
			// Confirmed with an old step, so that the window's steps are left.
			at := time.Now().Add(-30 * time.Second)
			if _, _, err := svc.ConfirmEnrollment(ctx, sess, totpCode(key, at)); err != nil {
				b.Fatal(err)
			}
			secrets[name], used[name] = key, at.Unix()/30
		}
	}
	return secrets, used
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// loadAverage is the 1-minute load, as uptime shows it.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
