//go:build !windows

package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// ptyProcess is mailsetup running in a process of its own with a
// pseudo-terminal as its controlling terminal, so that Ctrl-C there is the
// SIGINT a person's Ctrl-C is.
type ptyProcess struct {
	t       *testing.T
	cmd     *exec.Cmd
	term    *os.File
	screen  lockedBuffer
	drained chan struct{}
}

func startOnPTY(t *testing.T, args ...string) *ptyProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runAsMainEnv+"=1")
	cmd.Env = append(cmd.Env, "MAILSETUP_NO_PROMPT=")
	term, err := pty.Start(cmd)
	if err != nil {
		t.Skipf("no pseudo-terminal on this machine: %v", err)
	}
	p := &ptyProcess{t: t, cmd: cmd, term: term, drained: make(chan struct{})}
	t.Cleanup(func() { term.Close() })
	go func() {
		defer close(p.drained)
		buf := make([]byte, 4096)
		for {
			n, err := term.Read(buf)
			p.screen.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	return p
}

// waitFor waits until the terminal has shown s.
func (p *ptyProcess) waitFor(s string) {
	p.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(p.screen.String(), s) {
		if time.Now().After(deadline) {
			p.t.Fatalf("the terminal never showed %q:\n%s", s, p.screen.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitForNoEcho waits until the process switched the terminal's echo off.
func (p *ptyProcess) waitForNoEcho() {
	p.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		tio, err := unix.IoctlGetTermios(int(p.term.Fd()), ioctlGetTermios)
		if err != nil {
			p.t.Fatalf("reading the terminal's mode: %v", err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.t.Fatalf("the terminal's echo was never switched off:\n%s", p.screen.String())
}

func (p *ptyProcess) press(keys string) {
	if _, err := p.term.Write([]byte(keys)); err != nil {
		p.t.Fatal(err)
	}
}

// wait returns the exit code and everything the terminal showed.
func (p *ptyProcess) wait() (int, string) {
	p.t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		p.cmd.Process.Kill()
		p.t.Fatalf("mailsetup did not end; the terminal showed:\n%s", p.screen.String())
	}
	// The terminal ends (EIO) once the process closed it.
	select {
	case <-p.drained:
	case <-time.After(10 * time.Second):
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), p.screen.String()
	}
	return 0, p.screen.String()
}

// Ctrl-C pressed on the terminal while 'mailsetup probe' runs: the terminal
// sends SIGINT, and the probe ends with exit 2 and says it was cancelled
// (not "nothing works", exit 3). The probe asks a DNS server on loopback
// that never answers, so it is still running whenever the key comes.
func TestProbeOnTerminalCtrlC(t *testing.T) {
	dns, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	p := startOnPTY(t, "probe", "alice@stalled.test", "--dns-server", dns.LocalAddr().String(), "--private", "--timeout", "10m")
	p.waitFor("lookup") // the live status line: the first DNS question went out
	p.press(keyCtrlC)
	code, screen := p.wait()
	if code != exitUsage || !strings.Contains(screen, "cancelled") || strings.Contains(screen, "Nothing works") {
		t.Errorf("exit %d, want 2 and \"cancelled\"; the terminal showed:\n%s", code, screen)
	}
}

// --password-stdin on a terminal asks with a masked prompt: the password
// never shows.
func TestPasswordStdinOnTerminalIsMasked(t *testing.T) {
	demo := catalogued(t, "demo")
	p := startOnPTY(t, "probe", "--sandbox", "demo", "--password-stdin")
	p.waitFor("Password")
	p.waitForNoEcho() // raw mode comes after the prompt
	p.press(demo.Password + keyEnter)
	code, screen := p.wait()
	if code != exitOK || !strings.Contains(screen, "login ok") {
		t.Errorf("exit %d; the terminal showed:\n%s", code, screen)
	}
	if strings.Contains(screen, demo.Password) {
		t.Errorf("the password was shown on the terminal:\n%s", screen)
	}
}

// SIGTERM (a service manager, kill) ends a probe as Ctrl-C does: exit 2,
// and under --json a report whose status says cancelled.
func TestProbeSIGTERMIsCancelled(t *testing.T) {
	dns, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	cmd := exec.Command(os.Args[0], "probe", "alice@stalled.test", "--dns-server", dns.LocalAddr().String(), "--private", "--timeout", "10m", "--json")
	cmd.Env = append(os.Environ(), runAsMainEnv+"=1")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The first DNS question shows the probe is running, its signal
	// handler long installed.
	dns.SetReadDeadline(time.Now().Add(time.Minute))
	if _, _, err := dns.ReadFrom(make([]byte, 512)); err != nil {
		cmd.Process.Kill()
		t.Fatalf("the probe asked no DNS question: %v", err)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitUsage || !strings.Contains(stdout.String(), `"status": "cancelled"`) {
		t.Errorf("after SIGTERM: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
}
