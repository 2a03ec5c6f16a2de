package sshserve

import (
	"encoding/binary"
	"net"
	"sync"
	"syscall"
)

// Netlink socket diagnostics (linux/sock_diag.h, linux/inet_diag.h).
const (
	sockDiagByFamily = 20         // SOCK_DIAG_BY_FAMILY
	inetDiagNoCookie = 0xffffffff // INET_DIAG_NOCOOKIE
	inetDiagReqLen   = 56         // sizeof(struct inet_diag_req_v2)
	inetDiagUIDAt    = 64         // offsetof(struct inet_diag_msg, idiag_uid)
)

// socketOwner asks the kernel which user owns the client's end of a
// loopback TCP connection: one exact sock_diag lookup, whatever the number
// of sockets on the host (reading /proc/net/tcp costs as many lines).
func socketOwner(client, server *net.TCPAddr) (int, bool) {
	if c4, s4 := client.IP.To4(), server.IP.To4(); c4 != nil && s4 != nil {
		if uid, ok := diagUID(syscall.AF_INET, c4, client.Port, s4, server.Port); ok {
			return uid, true
		}
	}
	// An IPv6 socket, or an IPv4 address on one (::ffff:a.b.c.d).
	return diagUID(syscall.AF_INET6, client.IP.To16(), client.Port, server.IP.To16(), server.Port)
}

// diagBufs hold the kernel's answers: room for the whole message, which
// arrives cut if it does not fit, without 4 KB of garbage per connection.
var diagBufs = sync.Pool{New: func() any { return new([4096]byte) }}

func diagUID(family int, src net.IP, sport int, dst net.IP, dport int) (int, bool) {
	if src == nil || dst == nil {
		return 0, false
	}
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.NETLINK_INET_DIAG)
	if err != nil {
		return 0, false
	}
	defer syscall.Close(fd)
	tv := syscall.Timeval{Sec: 1}
	_ = syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)

	req := make([]byte, syscall.NLMSG_HDRLEN+inetDiagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], sockDiagByFamily)
	ne.PutUint16(req[6:], syscall.NLM_F_REQUEST) // no DUMP: one exact socket
	ne.PutUint32(req[8:], 1)                     // sequence number
	r := req[syscall.NLMSG_HDRLEN:]
	r[0], r[1] = byte(family), syscall.IPPROTO_TCP
	ne.PutUint32(r[4:], 0xffffffff) // every TCP state
	id := r[8:]                     // struct inet_diag_sockid, in network byte order
	binary.BigEndian.PutUint16(id[0:], uint16(sport))
	binary.BigEndian.PutUint16(id[2:], uint16(dport))
	copy(id[4:20], src)
	copy(id[20:36], dst)
	ne.PutUint32(id[40:], inetDiagNoCookie)
	ne.PutUint32(id[44:], inetDiagNoCookie)
	if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return 0, false
	}
	buf := diagBufs.Get().(*[4096]byte)
	defer diagBufs.Put(buf)
	n, _, err := syscall.Recvfrom(fd, buf[:], 0)
	if err != nil {
		return 0, false
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if m.Header.Type == sockDiagByFamily && len(m.Data) >= inetDiagUIDAt+4 {
			return int(ne.Uint32(m.Data[inetDiagUIDAt:])), true
		}
	}
	return 0, false // NLMSG_ERROR: no such socket
}
