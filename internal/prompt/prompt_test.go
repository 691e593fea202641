//go:build !windows

package prompt

import (
	"errors"
	"slices"
	"testing"
	"time"

	expect "github.com/Netflix/go-expect"
	"github.com/creack/pty"
	"github.com/hinshun/vt10x"
)

// onTerminal runs ask against a Survey on a pseudo-terminal while keyboard
// plays the person at the keyboard, as survey's own tests do. vt10x
// emulates the terminal, so survey's cursor-position queries get answers.
func onTerminal(t *testing.T, keyboard func(c *expect.Console), ask func(p Prompter)) {
	t.Helper()
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal on this machine: %v", err)
	}
	term := vt10x.New(vt10x.WithWriter(tty))
	c, err := expect.NewConsole(expect.WithStdin(ptm), expect.WithStdout(term), expect.WithCloser(ptm, tty),
		expect.WithDefaultTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		keyboard(c)
	}()
	ask(NewSurvey(c.Tty(), c.Tty(), c.Tty()))
	c.Tty().Close()
	<-done
}

func expectString(t *testing.T, c *expect.Console, s string) {
	t.Helper()
	if _, err := c.ExpectString(s); err != nil {
		t.Errorf("waiting for %q: %v", s, err)
	}
}

const (
	keyDown  = "\x1b[B"
	keyEnter = "\r"
	keyCtrlC = "\x03"
)

func TestSurveyAnswersEachKindOfQuestion(t *testing.T) {
	onTerminal(t, func(c *expect.Console) {
		expectString(t, c, "Your name")
		c.Send("Alice Liddell" + keyEnter)
		expectString(t, c, "Password")
		c.Send("s3cret" + keyEnter)
		expectString(t, c, "Protocol")
		c.Send(keyDown + keyEnter)
		expectString(t, c, "Clients")
		c.Send(" " + keyDown + " " + keyEnter) // untick the first, tick the second
		expectString(t, c, "Sure")
		c.Send("y" + keyEnter)
		expectString(t, c, "Folder")
		c.Send(keyEnter)
		c.ExpectEOF()
	}, func(p Prompter) {
		name, err := p.Input("Your name", "")
		if err != nil || name != "Alice Liddell" {
			t.Errorf("Input = %q, %v", name, err)
		}
		pw, err := p.Password("Password")
		if err != nil || string(pw) != "s3cret" {
			t.Errorf("Password = %q, %v", pw, err)
		}
		i, err := p.Select("Protocol", []string{"IMAP", "POP3"}, 0)
		if err != nil || i != 1 {
			t.Errorf("Select = %d, %v", i, err)
		}
		is, err := p.MultiSelect("Clients", []string{"a", "b", "c"}, []int{0, 2})
		if err != nil || !slices.Equal(is, []int{1, 2}) {
			t.Errorf("MultiSelect = %v, %v", is, err)
		}
		ok, err := p.Confirm("Sure", false)
		if err != nil || !ok {
			t.Errorf("Confirm = %v, %v", ok, err)
		}
		dir, err := p.Input("Folder", "out")
		if err != nil || dir != "out" {
			t.Errorf("Input with default = %q, %v", dir, err)
		}
	})
}

func TestSurveyCtrlCIsCancelled(t *testing.T) {
	onTerminal(t, func(c *expect.Console) {
		expectString(t, c, "Your name")
		c.Send(keyCtrlC)
		c.ExpectEOF()
	}, func(p Prompter) {
		_, err := p.Input("Your name", "")
		if !errors.Is(err, ErrCancelled) {
			t.Errorf("Ctrl-C gave %v, want ErrCancelled", err)
		}
	})
}

func TestScriptChecksTheQuestions(t *testing.T) {
	s := NewScript(Reply("name", "Bob"), Reply("protocol", "POP"), Reply("clients", []string{"Thunder", "Apple"}), Cancel("folder"))
	if v, err := s.Input("Your name?", ""); err != nil || v != "Bob" {
		t.Errorf("Input = %q, %v", v, err)
	}
	if i, err := s.Select("Which protocol?", []string{"IMAP (recommended)", "POP3"}, 0); err != nil || i != 1 {
		t.Errorf("Select = %d, %v", i, err)
	}
	if is, err := s.MultiSelect("Which clients?", []string{"Thunderbird", "Outlook", "Apple Mail"}, nil); err != nil || !slices.Equal(is, []int{0, 2}) {
		t.Errorf("MultiSelect = %v, %v", is, err)
	}
	if _, err := s.Input("Which folder?", "x"); !errors.Is(err, ErrCancelled) {
		t.Errorf("Cancel gave %v", err)
	}
	if _, err := s.Confirm("More?", true); !errors.Is(err, ErrScript) {
		t.Errorf("a question too many gave %v, want ErrScript", err)
	}
	if err := s.Done(); err != nil {
		t.Error(err)
	}

	s = NewScript(Reply("address", "a@b.test"), Reply("name", nil))
	if _, err := s.Input("Your name?", ""); !errors.Is(err, ErrScript) {
		t.Errorf("a question out of order gave %v, want ErrScript", err)
	}
	if err := s.Done(); err == nil {
		t.Error("Done with an answer left over gave no error")
	}
	s = NewScript(IfAsked("protocol", "POP3"), Reply("clients", nil), IfAsked("folder", "x"))
	if _, err := s.MultiSelect("Which clients?", []string{"a"}, []int{0}); err != nil {
		t.Errorf("an optional answer for a question not asked was not skipped: %v", err)
	}
	if err := s.Done(); err != nil {
		t.Errorf("an optional answer left over counts as missing: %v", err)
	}
	if _, err := NewScript(Reply("p", "X")).Select("p", []string{"IMAP", "POP3"}, 0); !errors.Is(err, ErrScript) {
		t.Errorf("a fragment matching no option gave %v", err)
	}
	if _, err := NewScript(Reply("p", "P")).Select("p", []string{"IMAP", "POP3"}, 0); !errors.Is(err, ErrScript) {
		t.Errorf("an ambiguous fragment gave %v", err)
	}
}
