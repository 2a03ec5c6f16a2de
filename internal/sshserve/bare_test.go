package sshserve

import (
	"bytes"
	"net"
	"sync/atomic"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// loginScreen is every byte our server sends a new 80x24 session until it
// has been quiet for a while after its login screen: what the bare server
// sends in one write.
func loginScreen(b testing.TB, addr string) []byte {
	conn, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{User: "bench",
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: wait})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	sess, err := conn.NewSession()
	if err != nil {
		b.Fatal(err)
	}
	out := &syncBuffer{}
	sess.Stdout = out
	if err := sess.RequestPty("xterm-256color", 24, 80, gossh.TerminalModes{}); err != nil {
		b.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(wait)
	for last := -1; ; time.Sleep(200 * time.Millisecond) {
		n := len(out.String())
		if n == last && bytes.Contains([]byte(out.String()), []byte("Log in")) {
			return []byte(out.String())
		}
		if time.Now().After(deadline) {
			b.Fatalf("no quiet login screen after %s", wait)
		}
		last = n
	}
}

// bareServer is the reference: x/crypto/ssh alone, with the same host key
// and the same "none" authentication as ours, answering a session's pty-req
// and shell and writing screen at once.
type bareServer struct {
	addr string
	open atomic.Int64 // connections not yet closed
}

func startBareServer(b *testing.B, screen []byte) *bareServer {
	cfg := &gossh.ServerConfig{NoClientAuth: true}
	cfg.AddHostKey(testHostKey(b))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	bs := &bareServer{addr: ln.Addr().String()}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			bs.open.Add(1)
			go func() {
				defer bs.open.Add(-1)
				defer c.Close()
				bareConn(c, cfg, screen)
			}()
		}
	}()
	return bs
}

// bareConn serves one connection: session channels only, whose pty-req and
// shell it accepts, writing screen once the shell is asked for.
func bareConn(c net.Conn, cfg *gossh.ServerConfig, screen []byte) {
	_, chans, reqs, err := gossh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go gossh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(gossh.UnknownChannelType, "session channels only")
			continue
		}
		ch, in, err := nc.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer ch.Close()
			for req := range in {
				ok := req.Type == "pty-req" || req.Type == "shell"
				_ = req.Reply(ok, nil)
				if req.Type == "shell" {
					_, _ = ch.Write(screen)
				}
			}
		}()
	}
}
