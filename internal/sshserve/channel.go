package sshserve

import (
	"encoding/binary"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// maxWindow is the most columns and lines a client's window counts: the
// protocol lets it declare 2^32-1 of each, and whatever draws the console
// must never allocate in proportion to that. No real terminal comes near.
const maxWindow = 1000

// clampWindow keeps a declared size within 0..maxWindow.
func clampWindow(n int) int { return min(max(n, 0), maxWindow) }

// filterSessions wraps the library's handler of session channels: the
// requests of each channel pass a filter before the library sees (and
// stores) them.
func (s *Server) filterSessions(next ssh.ChannelHandler) ssh.ChannelHandler {
	return func(srv *ssh.Server, conn *gossh.ServerConn, nc gossh.NewChannel, ctx ssh.Context) {
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
		for req := range in {
			if filterRequest(req) {
				out <- req
			} else if req.WantReply {
				_ = req.Reply(false, nil)
			}
		}
	}()
	return ch, out, nil
}

// filterRequest reports whether a session request goes on to the library,
// clamping the window sizes it declares on the way.
func filterRequest(req *gossh.Request) bool {
	switch req.Type {
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
