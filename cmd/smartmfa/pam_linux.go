//go:build linux

package main

import (
	"fmt"
	"log/syslog"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// becomeOwnerOf makes this process the user who owns the database, before
// anything is opened: sshd runs pam-verify as root, `serve` runs as its
// service user on the same file, and a -wal or -shm file (or any other) that
// root created would lock the service out. SQLite itself gives the files a
// root process creates to the database's owner, but only where it notices
// euid 0 and only for its own files; becoming the owner covers every file
// and runs the rest, input and SQL, without root. A process that is neither
// root nor the owner is refused: what it created would be its own.
// what names the file in messages: "database", or "key file" for a
// PostgreSQL store, which has no file of its own.
func becomeOwnerOf(what, dbPath string) error {
	fi, err := os.Stat(dbPath)
	if err != nil {
		return fmt.Errorf("the %s %s cannot be found: %w", what, dbPath, unwrapPath(err))
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("the owner of the %s %s cannot be read", what, dbPath)
	}
	uid, gid, euid := int(st.Uid), int(st.Gid), os.Geteuid()
	switch {
	case uid == euid:
		return nil
	case euid != 0:
		return fmt.Errorf("pam-verify runs as root or as the owner of the %s %s (%s), not as uid %d",
			what, dbPath, ownerName(uid), euid)
	}
	groups := []int{gid}
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		if ids, err := u.GroupIds(); err == nil {
			for _, id := range ids {
				if g, err := strconv.Atoi(id); err == nil && g != gid {
					groups = append(groups, g)
				}
			}
		}
	}
	// Groups first, then the group, then the user: once the uid is dropped
	// the others cannot be changed. Go applies each to every thread.
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("becoming the owner of %s: setgroups: %w", dbPath, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("becoming the owner of %s: setgid %d: %w", dbPath, gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("becoming the owner of %s: setuid %d: %w", dbPath, uid, err)
	}
	if os.Getuid() != uid || os.Geteuid() != uid || os.Getegid() != gid {
		return fmt.Errorf("becoming the owner of %s: still uid %d/%d gid %d", dbPath, os.Getuid(), os.Geteuid(), os.Getegid())
	}
	return nil
}

// ownerName names a uid for a message.
func ownerName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return fmt.Sprintf("%s, uid %d", u.Username, uid)
	}
	return fmt.Sprintf("uid %d", uid)
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// checkRootOwned accepts a regular file that root owns and only root may write.
func checkRootOwned(path string, fi os.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("the map file %s is not a regular file", path)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Uid != 0 {
		return fmt.Errorf("the map file %s must belong to root, who alone decides whose codes answer for whom; run: chown root %s", path, path)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("the map file %s can be written by others (mode %04o); run: chmod go-w %s", path, fi.Mode().Perm(), path)
	}
	return nil
}

// pamLog writes the outcome's one line to standard error (which pam_exec
// discards unless given log=) and to syslog's authpriv facility, where sshd's
// own lines go.
func (a *app) pamLog(o pamOptions, out pamOutcome) {
	line := "smartmfa " + o.command + ": " + out.msg
	if !o.quiet {
		fmt.Fprintln(a.stderr, line)
	}
	network := ""
	if o.syslogSocket != "" {
		network = "unixgram"
	}
	w, err := syslog.Dial(network, o.syslogSocket, syslog.LOG_AUTHPRIV|syslog.LOG_INFO, "smartmfa")
	if err != nil {
		return // no syslog here (a container): standard error is all there is
	}
	defer w.Close()
	switch out.status {
	case pamAccepted:
		_ = w.Info(line)
	case pamRefused:
		_ = w.Notice(line)
	default:
		_ = w.Err(line)
	}
}

// ownedByRoot tells a file that root owns.
func ownedByRoot(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == 0
}
