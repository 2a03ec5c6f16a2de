package sshserve

import (
	"net"
	"os"
	"os/user"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestClientKeyNamesLocalUser: a loopback connection counts under its
// local user, so that the users of a jump host are told apart.
func TestClientKeyNamesLocalUser(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the owner of a loopback connection is read from /proc/net/tcp on Linux only")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	want := "uid " + strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil {
		want = u.Username
	}
	if got := clientKey(conn.RemoteAddr(), conn.LocalAddr()); got != "127.0.0.1 ("+want+")" {
		t.Errorf("clientKey = %q, want %q", got, "127.0.0.1 ("+want+")")
	}
	remote := &net.TCPAddr{IP: net.ParseIP("203.0.113.7"), Port: 50000}
	if got := clientKey(remote, conn.LocalAddr()); got != "203.0.113.7" || strings.Contains(got, "(") {
		t.Errorf("a remote client counts as %q, want its address", got)
	}
}
