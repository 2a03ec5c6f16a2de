package sshserve

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// maxWindow is the most columns and lines a client's window counts: the
// protocol lets it declare 2^32-1 of each, and whatever draws the console
// must never allocate in proportion to that. No real terminal comes near.
const maxWindow = 1000

// clampWindow keeps a declared size within 0..maxWindow.
func clampWindow(n int) int { return min(max(n, 0), maxWindow) }

// Before login nothing a client declares may grow the server, and the
// library keeps every "env" request and accepts every session channel:
// these bound what it is given.
const (
	// maxChannelsPerConn is how many session channels a connection may have
	// open at once: a console needs one; two lets ssh's connection sharing
	// (ControlMaster) open a second.
	maxChannelsPerConn = 2
	// maxEnvVars is how many variables a session keeps: the names below,
	// each once, with room to spare.
	maxEnvVars = 24
	// maxEnvName and maxEnvValue bound one variable; real ones are a few
	// dozen bytes ("LANG=en_US.UTF-8", "COLORFGBG=15;0").
	maxEnvName  = 32
	maxEnvValue = 1024
)

// keptEnv reports whether the console reads a variable: termenv picks the
// colours from TERM, COLORTERM, NO_COLOR, CLICOLOR, CLICOLOR_FORCE and
// COLORFGBG; LANG and LC_* are the locale OpenSSH sends by default.
func keptEnv(name string) bool {
	switch name {
	case "TERM", "COLORTERM", "NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "COLORFGBG", "LANG":
		return true
	}
	return strings.HasPrefix(name, "LC_")
}

// filterSessions wraps the library's handler of session channels: it
// refuses a connection's channels beyond maxChannelsPerConn, and the
// requests of each channel pass a filter before the library sees (and
// stores) them.
func (s *Server) filterSessions(next ssh.ChannelHandler) ssh.ChannelHandler {
	return func(srv *ssh.Server, conn *gossh.ServerConn, nc gossh.NewChannel, ctx ssh.Context) {
		if tc, ok := ctx.Value(connKey{}).(*trackedConn); ok {
			if !tc.openChannel(maxChannelsPerConn) {
				_ = nc.Reject(gossh.ResourceShortage, fmt.Sprintf(
					"smartmfa allows %d sessions per connection; open another connection", maxChannelsPerConn))
				return
			}
			defer tc.closeChannel()
		}
		next(srv, conn, filteredChannel{NewChannel: nc}, ctx)
	}
}

// filteredChannel is a session channel whose requests are filtered once
// accepted.
type filteredChannel struct {
	gossh.NewChannel
}

func (c filteredChannel) Accept() (gossh.Channel, <-chan *gossh.Request, error) {
	ch, in, err := c.NewChannel.Accept()
	if err != nil {
		return ch, in, err
	}
	out := make(chan *gossh.Request)
	go func() {
		defer close(out)
		var f requestFilter
		for req := range in {
			if f.pass(req) {
				out <- req
			} else if req.WantReply {
				_ = req.Reply(false, nil)
			}
		}
	}()
	return ch, out, nil
}

// requestFilter is the state of one session channel's filter.
type requestFilter struct {
	env int // variables passed on
}

// pass reports whether a session request goes on to the library, clamping
// the window sizes it declares on the way. What it refuses, the client is
// told (when it asks) and the library never sees.
func (f *requestFilter) pass(req *gossh.Request) bool {
	switch req.Type {
	case "env":
		// string name, string value. Read in place: copying a refused
		// value out would double the garbage of a flood.
		name, rest, ok := sshString(req.Payload)
		if !ok || f.env >= maxEnvVars || len(name) > maxEnvName || !keptEnv(string(name)) {
			return false
		}
		if value, rest, ok := sshString(rest); !ok || len(value) > maxEnvValue || len(rest) != 0 {
			return false
		}
		f.env++
	case "pty-req":
		// string TERM, uint32 columns, uint32 rows, then pixels and modes.
		if len(req.Payload) < 4 {
			return false
		}
		n := binary.BigEndian.Uint32(req.Payload)
		if n > maxTermLen || len(req.Payload) < 4+int(n)+8 {
			return false
		}
		clampSizes(req.Payload[4+n:])
	case "window-change":
		// uint32 columns, uint32 rows, then pixels.
		if len(req.Payload) < 8 {
			return false
		}
		clampSizes(req.Payload)
	}
	return true
}

// sshString splits an SSH string (a uint32 length, then the bytes) off b.
func sshString(b []byte) (s, rest []byte, ok bool) {
	if len(b) < 4 {
		return nil, nil, false
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, false
	}
	return b[4 : 4+n], b[4+n:], true
}

// maxTermLen bounds a pty-req's TERM: terminal names are short
// ("xterm-256color"), and the library keeps it for the session.
const maxTermLen = 64

// clampSizes clamps the columns and rows at the start of b in place.
func clampSizes(b []byte) {
	for i := 0; i < 8; i += 4 {
		if v := binary.BigEndian.Uint32(b[i:]); v > maxWindow {
			binary.BigEndian.PutUint32(b[i:], maxWindow)
		}
	}
}
