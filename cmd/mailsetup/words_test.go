package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/iostreams"
	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/profiles"
)

func TestPeopleWords(t *testing.T) {
	_, badAddr := autoconfig.ParseAddress("nobody")
	_, missing := os.Open("/no/such/file.pem")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{badAddr, `not an e-mail address: "nobody": write it as name@example.com`},
		{fmt.Errorf("%w: %q: pass --force", profiles.ErrExists, "x/user.js"), `a file is in the way: "x/user.js": pass --force`},
		{fmt.Errorf("--sign-cert: %w", missing), `--sign-cert: "/no/such/file.pem" does not exist`},
		{fmt.Errorf("asking: %w", errors.New("context deadline exceeded")), "asking: time ran out"},
		{&fs.PathError{Op: "open", Path: "a.csv", Err: fs.ErrPermission}, `"a.csv" may not be read or written by you (permission denied)`},
		{errors.New("two\n  lines"), "two lines"},
	} {
		if got := peopleWords(tc.err); got != tc.want {
			t.Errorf("peopleWords(%q) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// A server's words cannot retitle, clear or recolour the terminal.
func TestNetworkTextLosesControlCharacters(t *testing.T) {
	hostile := "Bad Gateway\x1b]0;owned\x07\x1b[2J\r\u009b31m\x7f done"
	if got, want := terminalSafe(hostile), "Bad Gateway]0;owned[2J31m done"; got != want {
		t.Errorf("terminalSafe = %q, want %q", got, want)
	}
	if got := terminalSafe("jörg\tok\n"); got != "jörg\tok\n" {
		t.Errorf("terminalSafe changed plain text: %q", got)
	}
	ios, _, out, _ := iostreams.Test()
	rep := &probe.Report{SchemaVersion: probe.SchemaVersion, Domain: "example.test", Status: probe.StatusNothingFound,
		Warnings: []string{"autoconfig.example.test answered " + hostile}}
	if err := printReport(ios, false, rep); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out.String(), "\x1b\x07\r\x7f\u009b") || !strings.Contains(out.String(), "Bad Gateway") {
		t.Errorf("the report printed control characters:\n%q", out)
	}
}
