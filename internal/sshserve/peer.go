package sshserve

import (
	"fmt"
	"net"
	"os/user"
	"strconv"
	"strings"
)

// sourceOf is a session's source: "ssh:" and the client's address and port,
// with the local user that clientKey found for a loopback client.
func sourceOf(remote net.Addr, key string) string {
	src := "ssh:" + remote.String()
	if _, who, ok := strings.Cut(key, " "); ok {
		src += " " + who
	}
	return src
}

// clientKey is what the per-address limits count a connection under: the
// client's IP address, and for a connection from this host (loopback), the
// local user who made it, as the kernel reports it. On a jump host every
// user connects from 127.0.0.1: without the user, one person's failed
// logins would hold back everyone, and the per-address cap would be the
// server's. Where the user cannot be found (not Linux), the address alone
// is used.
func clientKey(remote, local net.Addr) string {
	r, ok1 := remote.(*net.TCPAddr)
	l, ok2 := local.(*net.TCPAddr)
	if !ok1 || !ok2 {
		host, _, _ := net.SplitHostPort(remote.String())
		return host
	}
	if !r.IP.IsLoopback() {
		return r.IP.String()
	}
	uid, ok := socketOwner(r, l)
	if !ok {
		return r.IP.String()
	}
	name := "uid " + strconv.Itoa(uid)
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		name = u.Username
	}
	return fmt.Sprintf("%s (%s)", r.IP, name)
}
