//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// Output that cannot be written (a full disk, here /dev/full) is a failure,
// exit 1 with one sentence, even from the commands cobra runs itself.
func TestOutputToAFullDisk(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full:", err)
	}
	defer full.Close()
	e := newEnv(t)
	for _, args := range [][]string{{"--version"}, {"version"}, {"completion", "bash"}, {"man"}} {
		cmd := exec.Command(smartmfaBinary(t), append([]string{"--db", e.db}, args...)...)
		cmd.Env = []string{"HOME=" + e.dir}
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = full, &stderr
		_ = cmd.Run()
		r := result{code: cmd.ProcessState.ExitCode(), stderr: stderr.String()}
		checkFailure(t, r, exitFailure, "no space left on device", args)
	}
}
