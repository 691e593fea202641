//go:build !windows

package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
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

// Size of the test terminal: wide as a usual one, tall enough that nothing
// the wizard says scrolls off, so that the final screen is the transcript.
const ptyCols, ptyRows = 100, 400

// onPTY runs `mailsetup wizard args...` in this process with all three
// streams on a pseudo-terminal, while keyboard plays the person (survey's own
// go-expect and vt10x approach; vt10x answers survey's cursor queries). The
// network is the injected sandbox's. It returns the exit code, everything
// the terminal received, and its final screen as the person sees it at the
// end: every question with its answer, what the wizard said, and not the
// live status line, which it erased.
func onPTY(t *testing.T, network networkSetup, args []string, keyboard func(c *expect.Console)) (code int, raw, final string) {
	t.Helper()
	if v, ok := os.LookupEnv("MAILSETUP_NO_PROMPT"); ok {
		os.Unsetenv("MAILSETUP_NO_PROMPT")
		t.Cleanup(func() { os.Setenv("MAILSETUP_NO_PROMPT", v) })
	}
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal on this machine: %v", err)
	}
	if err := pty.Setsize(ptm, &pty.Winsize{Cols: ptyCols, Rows: ptyRows}); err != nil {
		t.Fatal(err)
	}
	var rawOut lockedBuffer
	term := vt10x.New(vt10x.WithWriter(tty), vt10x.WithSize(ptyCols, ptyRows))
	c, err := expect.NewConsole(expect.WithStdin(ptm), expect.WithStdout(term, &rawOut), expect.WithCloser(ptm, tty),
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
			t.Errorf("the wizard still waited for input after the keyboard finished; the terminal showed:\n%s", rawOut.String())
			err = interruptUntilDone(c, executed)
		}
	}
	if err != nil {
		c.Tty().WriteString("mailsetup: " + err.Error() + "\n")
	}
	c.Tty().Close()
	<-done
	return exitCodeOf(err), rawOut.String(), term.String()
}

var updateTranscripts = flag.Bool("update-transcripts", false, "rewrite testdata/wizard/*.golden from the wizard's terminal")

// sameTranscript compares the wizard's final screen with a golden file,
// the temporary folder written as $DIR and trailing blanks dropped.
func sameTranscript(t *testing.T, name, screen, dir string) {
	t.Helper()
	var lines []string
	for _, line := range strings.Split(screen, "\n") {
		lines = append(lines, strings.TrimRight(strings.ReplaceAll(line, dir, "$DIR"), " "))
	}
	got := strings.TrimRight(strings.Join(lines, "\n"), "\n") + "\n"
	path := filepath.Join("testdata", "wizard", name+".golden")
	if *updateTranscripts {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-transcripts to write it)", err)
	}
	if got != string(want) {
		t.Errorf("the terminal differs from %s (run with -update-transcripts after checking):\n%s", path, got)
	}
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

// The wizard's four usual endings on a terminal, each kept as a golden
// transcript of the final screen (the live status line is erased before
// the findings print, so timing leaves no trace in it).

func TestWizardOnTerminalHappyPath(t *testing.T) {
	sc := catalogued(t, "autoconfig-only")
	root := t.TempDir()
	dir := filepath.Join(root, "profiles")
	code, raw, screen := onPTY(t, sandboxNetwork(t, nil, "autoconfig-only"), []string{}, func(c *expect.Console) {
		waitFor(t, c, "E-mail address")
		press(t, c, sc.Address+keyEnter)
		waitFor(t, c, "Your name")
		press(t, c, "Alice Liddell"+keyEnter)
		waitFor(t, c, "Password")
		press(t, c, sc.Password+keyEnter)
		waitFor(t, c, "Which mail apps")
		press(t, c, keyEnter) // every client, preselected
		waitFor(t, c, "Folder")
		press(t, c, dir+keyEnter)
		waitFor(t, c, "Next steps")
		c.ExpectEOF()
	})
	if code != exitOK {
		t.Fatalf("exit %d; the terminal showed:\n%s", code, raw)
	}
	if strings.Contains(raw, sc.Password) {
		t.Errorf("the password was echoed on the terminal")
	}
	if _, err := os.Stat(filepath.Join(dir, "thunderbird", "user.js")); err != nil {
		t.Errorf("no Thunderbird file: %v", err)
	}
	sameTranscript(t, "happy-path", screen, root)
}

func TestWizardOnTerminalPOP3Only(t *testing.T) {
	pop := catalogued(t, "pop3-only")
	root := t.TempDir()
	dir := filepath.Join(root, "profiles")
	code, raw, screen := onPTY(t, sandboxNetwork(t, nil, "pop3-only"), []string{"--address", pop.Address, "--name", "Alice", "--out", dir}, func(c *expect.Console) {
		waitFor(t, c, "Password")
		press(t, c, keyEnter) // no login test
		waitFor(t, c, "Use POP3")
		press(t, c, "y"+keyEnter)
		waitFor(t, c, "Which mail apps")
		press(t, c, keyEnter)
		waitFor(t, c, "Next steps")
		c.ExpectEOF()
	})
	if code != exitOK {
		t.Fatalf("exit %d; the terminal showed:\n%s", code, raw)
	}
	for _, want := range []string{"Only POP3 works", "Without IMAP:", "leave messages on server", "Incoming  POP3  pop.pop3-only.test:995"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the terminal never showed %q:\n%s", want, screen)
		}
	}
	sheet, err := os.ReadFile(filepath.Join(dir, "sheet", "setup.txt"))
	if err != nil || !bytes.Contains(sheet, []byte("POP3")) {
		t.Errorf("the setup sheet does not describe POP3: %v\n%s", err, sheet)
	}
	sameTranscript(t, "pop3-only", screen, root)
}

func TestWizardOnTerminalCtrlC(t *testing.T) {
	demo := catalogued(t, "demo")
	root := t.TempDir()
	dir := filepath.Join(root, "profiles")
	code, raw, screen := onPTY(t, sandboxNetwork(t, nil, "demo"), []string{"--address", demo.Address, "--out", dir}, func(c *expect.Console) {
		waitFor(t, c, "Your name")
		press(t, c, keyCtrlC)
		c.ExpectEOF()
	})
	if code != exitUsage || !strings.Contains(raw, "cancelled; nothing was written") {
		t.Errorf("Ctrl-C: exit %d, want 2; the terminal showed:\n%s", code, raw)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Ctrl-C left %s behind", dir)
	}
	sameTranscript(t, "ctrl-c", screen, root)
}

func TestWizardOnTerminalNothingFound(t *testing.T) {
	none := catalogued(t, "nothing")
	root := t.TempDir()
	dir := filepath.Join(root, "profiles")
	code, raw, screen := onPTY(t, sandboxNetwork(t, nil, "nothing"), []string{"--out", dir}, func(c *expect.Console) {
		waitFor(t, c, "E-mail address")
		press(t, c, none.Address+keyEnter)
		waitFor(t, c, "Your name")
		press(t, c, "Alice"+keyEnter)
		waitFor(t, c, "Password")
		press(t, c, keyEnter)
		waitFor(t, c, "What you can do")
		c.ExpectEOF()
	})
	if code != exitNothingFound {
		t.Errorf("exit %d, want 3; the terminal showed:\n%s", code, raw)
	}
	for _, want := range []string{"No working settings were found for alice@nothing.test", "ask nothing.test (your provider)", "--username"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the terminal never showed %q:\n%s", want, screen)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("nothing was found, yet %s was written", dir)
	}
	sameTranscript(t, "nothing-found", screen, root)
}

// A refused password typed again on a terminal: the reason once, the
// question what to do, the second password, and the files.
func TestWizardOnTerminalRetypesARefusedPassword(t *testing.T) {
	sc := catalogued(t, "autoconfig-only")
	root := t.TempDir()
	dir := filepath.Join(root, "profiles")
	code, raw, screen := onPTY(t, sandboxNetwork(t, nil, "autoconfig-only"), []string{"--address", sc.Address, "--name", "Alice", "--out", dir, "--format", "sheet"}, func(c *expect.Console) {
		waitFor(t, c, "Password")
		press(t, c, "not-the-password"+keyEnter)
		waitFor(t, c, "What now?")
		press(t, c, keyEnter) // type the password again, preselected
		waitFor(t, c, "Password")
		press(t, c, sc.Password+keyEnter)
		waitFor(t, c, "Next steps")
		c.ExpectEOF()
	})
	if code != exitOK {
		t.Fatalf("exit %d; the terminal showed:\n%s", code, raw)
	}
	if strings.Contains(raw, sc.Password) || strings.Contains(raw, "not-the-password") {
		t.Errorf("a password was echoed on the terminal")
	}
	sameTranscript(t, "retype-password", screen, root)
}
