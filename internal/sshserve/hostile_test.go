package sshserve

import (
	"testing"
)

// The tests in this file drive the server as a hostile client would, before
// any login: with a real x/crypto/ssh client, declaring what the protocol
// lets it declare.

// TestHostileWindowSizeTouchesNoOtherSession: one window-change of 200 x
// 2147483647 before login once made the console pad its view to that many
// lines, and the failed allocation took the whole server down. The size is
// clamped; the other session goes on and new ones still open.
func TestHostileWindowSizeTouchesNoOtherSession(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{})
	hostile, other := ts.open("xterm"), ts.open("xterm")
	hostile.waitFor("Log in")
	other.waitFor("Log in")
	if err := hostile.sess.WindowChange(2147483647, 200); err != nil {
		t.Fatal(err)
	}
	hostile.send("mallory")
	hostile.waitFor("mallory")

	other.send("bob")
	other.waitFor("bob")
	late := ts.open("xterm")
	late.waitFor("Log in")

	// A pty-req may declare the same size.
	c, err := ts.tryOpen("xterm", 2147483647, 2147483647)
	if err != nil {
		t.Fatal(err)
	}
	c.waitFor("Log in")
}

// TestWindowSizeIsClamped: sizes from the pty-req and every window-change
// reach the console clamped to maxWindow x maxWindow.
func TestWindowSizeIsClamped(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{Console: sizeConsole})
	c, err := ts.tryOpen("xterm", 4000, 3000)
	if err != nil {
		t.Fatal(err)
	}
	c.waitFor("size 1000x1000")
	if err := c.sess.WindowChange(40, 5000); err != nil {
		t.Fatal(err)
	}
	c.waitFor("size 1000x40")
	if err := c.sess.WindowChange(2147483647, 120); err != nil {
		t.Fatal(err)
	}
	c.waitFor("size 120x1000")
}
