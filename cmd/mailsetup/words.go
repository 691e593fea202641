package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/autoconfig/server"
	"github.com/mailsetup/mailsetup/internal/account"
	"github.com/mailsetup/mailsetup/internal/prompt"
	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/profiles"
)

// sentinelWords are the libraries' sentinel errors in people's words. A
// library error reads "sentinel: detail, and what to do"; the sentinel's
// text is for programmers (it names the package), so the command line says
// the same thing in words. Only the sentinel an error wraps is replaced,
// found by identity (errors.Is), never by a pattern over the text.
var sentinelWords = []struct {
	err   error
	words string
}{
	{autoconfig.ErrBadAddress, "not an e-mail address"},
	{probe.ErrBadInput, "not an e-mail address or domain"},
	{profiles.ErrNoServer, "no usable server"},
	{profiles.ErrUnsupported, "this client's format cannot hold it"},
	{profiles.ErrBadSigner, "the Apple profile cannot be signed"},
	{profiles.ErrBadPath, "not a Windows path"},
	{profiles.ErrBadFormat, "unknown client"},
	{profiles.ErrExists, "a file is in the way"},
	{account.ErrNothingWorks, "no working mail server was found"},
	{account.ErrInsecureOnly, "only servers without valid encryption answer"},
	{account.ErrNoOutgoing, "no working server for sending (SMTP) was found"},
	{prompt.ErrCancelled, "cancelled"},
	{server.ErrConfig, "the serve configuration cannot be used"},
	{autoconfig.ErrMalformed, "the settings cannot be used"},
	{autoconfig.ErrBadHostname, "not a host name"},
}

// peopleWords is an error as a person reads it: one line, the libraries'
// sentinels in words, file-system errors without Go's "open" prefix, and
// time-outs and cancellations said as such.
func peopleWords(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	for _, s := range sentinelWords {
		if errors.Is(err, s.err) {
			msg = strings.Replace(msg, s.err.Error(), s.words, 1)
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg = strings.Replace(msg, pe.Error(), fileProblem(pe), 1)
	}
	msg = strings.Replace(msg, context.DeadlineExceeded.Error(), "time ran out", 1)
	msg = strings.Replace(msg, context.Canceled.Error(), "cancelled", 1)
	return oneLine(msg)
}

// writeError is a failure to write the files into dir in people's words:
// a file in the way, or what the system said (no space left, not a
// folder, permission). It still unwraps to the cause, for errors.Is.
func writeError(dir string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, profiles.ErrExists) {
		return worded{peopleWords(err), err}
	}
	why := "the system refused"
	var pe *fs.PathError
	if errors.As(err, &pe) {
		why = pe.Err.Error()
		if errors.Is(err, fs.ErrPermission) {
			why = "permission denied"
		}
	}
	return worded{fmt.Sprintf("the files could not be written into %s (%s); nothing was written there", dir, why), err}
}

// worded is an error with words for people and its cause behind it.
type worded struct {
	text string
	err  error
}

func (w worded) Error() string { return w.text }
func (w worded) Unwrap() error { return w.err }

// fileProblem says what is wrong with a file the person named.
func fileProblem(err error) string {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return oneLine(err.Error())
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("%q does not exist", pe.Path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("%q may not be read or written by you (permission denied)", pe.Path)
	}
	return fmt.Sprintf("%q: %v", pe.Path, pe.Err)
}

// oneLine keeps a message on one line, as the README promises.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// terminalSafe strips what a terminal would obey rather than show (escape
// sequences, carriage returns, bells: C0 and C1 control characters and DEL,
// all but newline and tab) from text that may hold words from the network:
// a server's greeting or an HTTP reason phrase must not retitle or clear
// the person's terminal. --json escapes such text instead.
func terminalSafe(text string) string { return string(stripControls([]byte(text))) }

// stripControls works on bytes, so that text cut anywhere stays valid: C0
// controls and DEL never occur inside a UTF-8 sequence, and a C1 control
// is the two bytes 0xC2 0x80-0x9F.
func stripControls(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '\n' || c == '\t':
		case c < 0x20 || c == 0x7f:
			continue
		case c == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] <= 0x9f:
			i++
			continue
		}
		out = append(out, c)
	}
	return out
}

// safeWriter passes text on without control characters (terminalSafe):
// the human report goes through it, since servers' words are in it.
type safeWriter struct{ w io.Writer }

func (s safeWriter) Write(p []byte) (int, error) {
	if _, err := s.w.Write(stripControls(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// sandboxArg is what a command the user is told to run must carry to look at
// the same simulated world as the run that suggests it: " --sandbox NAME",
// or "" without --sandbox (without it, the suggestion would probe the real
// network for a *.test name and find nothing).
func sandboxArg(scenario string) string {
	if scenario == "" {
		return ""
	}
	return " --sandbox " + scenario
}
