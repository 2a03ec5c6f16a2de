//go:build !linux

package db

import (
	"syscall"
	"time"
)

// setUserTimeout does nothing where TCP_USER_TIMEOUT does not exist: the
// keepalives alone find a silent network there, and only while idle.
func setUserTimeout(syscall.RawConn, time.Duration) error { return nil }
