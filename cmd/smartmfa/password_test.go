package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// endless is an input that never ends and never holds a newline.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func TestReadPasswordLine(t *testing.T) {
	long := strings.Repeat("é", maxStdinPassword/2) // 4096 bytes, 2048 characters
	tests := []struct {
		name string
		in   io.Reader
		want string
		err  string
	}{
		{"newline", strings.NewReader("secret pw\n"), "secret pw", ""},
		{"crlf", strings.NewReader("secret pw\r\n"), "secret pw", ""},
		{"no newline", strings.NewReader("secret pw"), "secret pw", ""},
		{"spaces kept", strings.NewReader(" secret pw \n"), " secret pw ", ""},
		{"lone cr kept", strings.NewReader("secret\r"), "secret\r", ""},
		{"first line only", strings.NewReader("first\nsecond\n"), "first", ""},
		{"empty line", strings.NewReader("\n"), "", ""},
		{"largest", strings.NewReader(long + "\r\n"), long, ""},
		{"largest without newline", strings.NewReader(long), long, ""},
		{"one byte too many", strings.NewReader(long + "x\n"), "", "longer than 4096 bytes"},
		{"1 MB", strings.NewReader(strings.Repeat("x", 1<<20) + "\n"), "", "longer than 4096 bytes"},
		{"endless", endless{}, "", "longer than 4096 bytes"},
		{"empty", strings.NewReader(""), "", "standard input is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			var got string
			var err error
			go func() {
				got, err = readPasswordLine(tt.in)
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("readPasswordLine did not return")
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
