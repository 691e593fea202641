//go:build !windows

package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// Ctrl-C pressed on the terminal while 'mailsetup probe' runs: the terminal
// sends SIGINT, and the probe ends with exit 2 and says it was cancelled
// (not "nothing works", exit 3). The probe runs in a process of its own,
// with the pseudo-terminal as its controlling terminal, asking a DNS
// server on loopback that never answers, so it is still running whenever
// the key comes.
func TestProbeOnTerminalCtrlC(t *testing.T) {
	dns, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	cmd := exec.Command(os.Args[0], "probe", "alice@stalled.test", "--dns-server", dns.LocalAddr().String(), "--private", "--timeout", "10m")
	cmd.Env = append(os.Environ(), runAsMainEnv+"=1")
	term, err := pty.Start(cmd)
	if err != nil {
		t.Skipf("no pseudo-terminal on this machine: %v", err)
	}
	defer term.Close()
	var screen lockedBuffer
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		buf := make([]byte, 4096)
		for {
			n, err := term.Read(buf)
			screen.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	// The live status line shows once the first DNS question went out.
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(screen.String(), "lookup") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := term.Write([]byte(keyCtrlC)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatalf("the probe did not end after Ctrl-C; the terminal showed:\n%s", screen.String())
	}
	var exit *exec.ExitError
	code := 0
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	}
	// The terminal ends (EIO) once the probe's process closed it.
	select {
	case <-drained:
	case <-time.After(10 * time.Second):
	}
	if code != exitUsage || !strings.Contains(screen.String(), "cancelled") || strings.Contains(screen.String(), "Nothing works") {
		t.Errorf("exit %d, want 2 and \"cancelled\"; the terminal showed:\n%s", code, screen.String())
	}
}
