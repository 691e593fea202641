//go:build !windows

package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	expect "github.com/Netflix/go-expect"
	"github.com/creack/pty"
	"github.com/hinshun/vt10x"
	"golang.org/x/sys/unix"

	"github.com/mailsetup/mailsetup/internal/iostreams"
)

// Keys as a terminal sends them in raw mode.
const (
	keyEnter = "\r"
	keyCtrlC = "\x03"
)

// onPTY runs `mailsetup wizard args...` in this process with all three
// streams on a pseudo-terminal, while keyboard plays the person (survey's own
// go-expect and vt10x approach; vt10x answers survey's cursor queries). The
// network is the injected sandbox's. It returns the exit code and everything
// the terminal received.
func onPTY(t *testing.T, network networkSetup, args []string, keyboard func(c *expect.Console)) (code int, screen string) {
	t.Helper()
	if v, ok := os.LookupEnv("MAILSETUP_NO_PROMPT"); ok {
		os.Unsetenv("MAILSETUP_NO_PROMPT")
		t.Cleanup(func() { os.Setenv("MAILSETUP_NO_PROMPT", v) })
	}
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal on this machine: %v", err)
	}
	var raw lockedBuffer
	term := vt10x.New(vt10x.WithWriter(tty))
	c, err := expect.NewConsole(expect.WithStdin(ptm), expect.WithStdout(term, &raw), expect.WithCloser(ptm, tty),
		expect.WithDefaultTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		keyboard(c)
	}()

	ios := &iostreams.IOStreams{In: c.Tty(), Out: c.Tty(), ErrOut: c.Tty()}
	ios.SetTTY(true, true, true)
	cmd := newCmdWizard(&Factory{IO: ios}, func(o *wizardOptions) error {
		o.Network = network
		return runWizard(context.Background(), o)
	})
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetIn(ios.In)
	cmd.SetOut(ios.Out)
	cmd.SetErr(ios.ErrOut)
	executed := make(chan error, 1)
	go func() { executed <- cmd.Execute() }()
	select {
	case err = <-executed:
	case <-done:
		// The keyboard has said all it will; a wizard still waiting for an
		// answer would wait for ever (closing a pty does not end a blocked
		// read), so it is sent Ctrl-C until it gives up.
		select {
		case err = <-executed:
		case <-time.After(10 * time.Second):
			t.Errorf("the wizard still waited for input after the keyboard finished; the terminal showed:\n%s", raw.String())
			err = interruptUntilDone(c, executed)
		}
	}
	if err != nil {
		c.Tty().WriteString("mailsetup: " + err.Error() + "\n")
	}
	c.Tty().Close()
	<-done
	return exitCodeOf(err), raw.String()
}

// interruptUntilDone presses Ctrl-C until the command returns its error.
// The console's output is read meanwhile: survey waits for vt10x to answer
// its cursor queries, which happens only while something reads.
func interruptUntilDone(c *expect.Console, executed <-chan error) error {
	go c.Expect(expect.EOF, expect.WithTimeout(time.Minute))
	for {
		c.Send(keyCtrlC)
		select {
		case err := <-executed:
			return err
		case <-time.After(time.Second):
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitForNoEcho waits until the wizard has switched the terminal to raw
// mode (echo off): survey draws a prompt first and switches after, and a
// password typed in between would be echoed, a Ctrl-C turned into a signal.
func waitForNoEcho(t *testing.T, c *expect.Console) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		tio, err := unix.IoctlGetTermios(int(c.Tty().Fd()), ioctlGetTermios)
		if err != nil {
			t.Errorf("reading the terminal's mode: %v", err)
			return
		}
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Errorf("the terminal's echo was never switched off")
}

// press types keys once the wizard reads the terminal in raw mode: typed
// earlier, a password would be echoed and a Ctrl-C become the terminal
// driver's SIGINT, which the wizard never sees.
func press(t *testing.T, c *expect.Console, keys string) {
	t.Helper()
	waitForNoEcho(t, c)
	c.Send(keys)
}

func waitFor(t *testing.T, c *expect.Console, s string) {
	t.Helper()
	if _, err := c.ExpectString(s); err != nil {
		t.Errorf("the terminal never showed %q: %v", s, err)
	}
}

func TestWizardOnTerminalHappyPath(t *testing.T) {
	demo := catalogued(t, "demo")
	dir := filepath.Join(t.TempDir(), "profiles")
	code, screen := onPTY(t, sandboxNetwork(t, nil, "demo"), nil, func(c *expect.Console) {
		waitFor(t, c, "E-mail address")
		press(t, c, demo.Address+keyEnter)
		waitFor(t, c, "Your name")
		press(t, c, "Alice Liddell"+keyEnter)
		waitFor(t, c, "Password")
		press(t, c, demo.Password+keyEnter)
		waitFor(t, c, "Looking up "+demo.Address)
		// The protocol is asked when the probe proved POP3 too before it
		// stopped; IMAP is preselected.
		if seen, err := c.Expect(expect.String("Incoming mail protocol"), expect.String("Which mail clients")); err != nil {
			t.Errorf("neither the protocol nor the clients were asked: %v", err)
		} else if strings.HasSuffix(seen, "Incoming mail protocol") {
			press(t, c, keyEnter)
			waitFor(t, c, "Which mail clients")
		}
		press(t, c, keyEnter) // every client, preselected
		waitFor(t, c, "Folder")
		press(t, c, dir+keyEnter)
		waitFor(t, c, "Next steps")
		c.ExpectEOF()
	})
	if code != exitOK {
		t.Fatalf("exit %d; the terminal showed:\n%s", code, screen)
	}
	for _, want := range []string{"servers found", "works, login ok", "Incoming  IMAP  imap.demo.test:993"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the terminal never showed %q:\n%s", want, screen)
		}
	}
	if strings.Contains(screen, demo.Password) {
		t.Errorf("the password was echoed on the terminal")
	}
	if _, err := os.Stat(filepath.Join(dir, "thunderbird", "user.js")); err != nil {
		t.Errorf("no Thunderbird file: %v", err)
	}
}

func TestWizardOnTerminalPOP3Only(t *testing.T) {
	pop := catalogued(t, "pop3-only")
	dir := filepath.Join(t.TempDir(), "profiles")
	code, screen := onPTY(t, sandboxNetwork(t, nil, "pop3-only"), []string{"--address", pop.Address, "--name", "Alice", "--out", dir}, func(c *expect.Console) {
		waitFor(t, c, "Password")
		press(t, c, keyEnter) // no login test
		waitFor(t, c, "Only POP3 works")
		waitFor(t, c, "Use POP3")
		press(t, c, "y"+keyEnter)
		waitFor(t, c, "Which mail clients")
		press(t, c, keyEnter)
		waitFor(t, c, "Next steps")
		c.ExpectEOF()
	})
	if code != exitOK {
		t.Fatalf("exit %d; the terminal showed:\n%s", code, screen)
	}
	for _, want := range []string{"Without IMAP:", "leave messages on server", "Incoming  POP3  pop.pop3-only.test:995"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the terminal never showed %q:\n%s", want, screen)
		}
	}
	sheet, err := os.ReadFile(filepath.Join(dir, "sheet", "setup.txt"))
	if err != nil || !bytes.Contains(sheet, []byte("POP3")) {
		t.Errorf("the setup sheet does not describe POP3: %v\n%s", err, sheet)
	}
}

func TestWizardOnTerminalCtrlC(t *testing.T) {
	demo := catalogued(t, "demo")
	dir := filepath.Join(t.TempDir(), "profiles")
	code, screen := onPTY(t, sandboxNetwork(t, nil, "demo"), []string{"--address", demo.Address, "--out", dir}, func(c *expect.Console) {
		waitFor(t, c, "Your name")
		press(t, c, keyCtrlC)
		c.ExpectEOF()
	})
	if code != exitUsage || !strings.Contains(screen, "cancelled; nothing was written") {
		t.Errorf("Ctrl-C: exit %d, want 2; the terminal showed:\n%s", code, screen)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Ctrl-C left %s behind", dir)
	}
}

func TestWizardOnTerminalNothingFound(t *testing.T) {
	none := catalogued(t, "nothing")
	dir := filepath.Join(t.TempDir(), "profiles")
	code, screen := onPTY(t, sandboxNetwork(t, nil, "nothing"), []string{"--out", dir}, func(c *expect.Console) {
		waitFor(t, c, "E-mail address")
		press(t, c, none.Address+keyEnter)
		waitFor(t, c, "Your name")
		press(t, c, "Alice"+keyEnter)
		waitFor(t, c, "Password")
		press(t, c, keyEnter)
		waitFor(t, c, "What was tried")
		c.ExpectEOF()
	})
	if code != exitNothingFound {
		t.Errorf("exit %d, want 3; the terminal showed:\n%s", code, screen)
	}
	for _, want := range []string{"No working settings were found for alice@nothing.test", "_tcp.nothing.test and 5 more", "ask the provider"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the terminal never showed %q:\n%s", want, screen)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("nothing was found, yet %s was written", dir)
	}
}
