package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/internal/prompt"
)

// programmerWords are what a message for people must not hold: Go's
// package prefixes and type names, decoder errors, raw HTTP client and
// context errors.
var programmerWords = regexp.MustCompile(`(^|: |\n)\s*(autoconfig|probe|profiles|server|verify|discover|netx|sandbox|prompt|account|json|yaml|idna|x509|tls): |Go value|Go struct|cannot unmarshal|context deadline exceeded|context canceled|Get "http|Post "http|\*[a-z]+\.[A-Z][A-Za-z]+`)

// forPeople fails the test when what a command printed for people holds
// words for programmers; every CLI test helper calls it.
func forPeople(t *testing.T, args []string, text string) {
	t.Helper()
	if m := programmerWords.FindString(text); m != "" {
		t.Errorf("%q printed %q, words for programmers:\n%s", args, m, text)
	}
}

// Every error the command line prints for a bad input is written for
// people. The bad inputs are the ones users met (issue 12): files of the
// wrong kind, a batch summary as a report, bad flags.
func TestErrorsAreWrittenForPeople(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"s.yaml":    "name: x\nimap: y\n",
		"s.txt":     "just some words\n",
		"arr.json":  "[1,2]\n",
		"sum.json":  `{"schema_version":1,"users":[]}`,
		"bad.json":  `{"schema_version": 1, "domain": `,
		"typ.json":  `{"schema_version": 1, "domain": 5}`,
		"users.csv": "email,name\n\"alice@demo.test,Alice\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	in := func(name string) string { return filepath.Join(dir, name) }
	out := in("out")
	for _, args := range [][]string{
		{"profile", "a@b.test", "--name", "x", "--out", out, "--settings", in("s.yaml")},
		{"profile", "a@b.test", "--name", "x", "--out", out, "--settings", in("s.txt")},
		{"profile", "a@b.test", "--name", "x", "--out", out, "--settings", in("none.xml")},
		{"profile", "--name", "x", "--out", out, "--from", in("arr.json")},
		{"profile", "--name", "x", "--out", out, "--from", in("sum.json")},
		{"profile", "--name", "x", "--out", out, "--from", in("bad.json")},
		{"profile", "--name", "x", "--out", out, "--from", in("typ.json")},
		{"profile", "a@b..test", "--name", "x", "--out", out},
		{"profile", "a@b.test", "--name", "x", "--out", out, "--settings", in("s.txt"), "--format", "palm"},
		{"profile", "a@b.test", "--name", "x", "--out", out, "--settings", in("s.txt"), "--protocol", "jmap"},
		{"profile", "a@b.test", "--name", "x", "--out", out, "--settings", in("s.txt"), "--sign-cert", in("s.txt"), "--sign-key", in("s.txt")},
		{"probe", "not an address"},
		{"probe", "a@b.test", "--timeout", "-1s"},
		{"wizard", "--address", "x", "--name", "y", "--yes"},
		{"batch", in("users.csv"), "--out", out, "--sandbox", "demo"},
	} {
		code, _, stderr := runMain(t, args...)
		if code == exitOK || stderr == "" {
			t.Errorf("%q: exit %d and no message", args, code)
		}
		if m := programmerWords.FindString(stderr); m != "" {
			t.Errorf("%q: the message holds %q, words for programmers:\n%s", args, m, stderr)
		}
	}
}

// The smaller defects of issue 13 that are words: each says what it is.
func TestSmallerDefectsSayWhatTheyAre(t *testing.T) {
	dir := t.TempDir()
	yaml := filepath.Join(dir, "settings.yaml")
	summary := filepath.Join(dir, "summary.json")
	os.WriteFile(yaml, []byte("imap: mail.example.test\nsmtp: mail.example.test\n"), 0o600)
	os.WriteFile(summary, []byte(`{"schema_version": 1, "users_file": "u.csv", "users": []}`), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"profile", "a@example.test", "--name", "A", "--out", filepath.Join(dir, "o"), "--settings", yaml}, "it looks like YAML"},
		{[]string{"profile", "--name", "A", "--out", filepath.Join(dir, "o"), "--from", summary}, "a batch's summary.json is not one"},
	} {
		code, _, stderr := runMain(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "document is empty") || strings.Contains(stderr, "domain ,") {
			t.Errorf("%q: exit %d, stderr %q; want %q", tc.args, code, stderr, tc.want)
		}
	}
	out := filepath.Join(dir, "apple")
	code, stdout, stderr := runMain(t, "profile", "jane@example.test", "--name", "Jane", "--format", "apple", "--settings", providersDir+"imap-pop3.xml", "--out", out)
	if code != exitOK || !strings.Contains(stdout, "Wrote 1 file to") {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
}

// wizard --sandbox fills in the scenario's test address, as probe does.
func TestWizardSandboxSuggestsItsAddress(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runMain(t, "wizard", "--sandbox", "demo", "--name", "Alice", "--yes", "--format", "sheet", "--out", out)
	if code != exitOK || !strings.Contains(stdout, "Recommended: IMAP") {
		t.Errorf("without a terminal: exit %d\n%s%s", code, stdout, stderr)
	}
	sc := catalogued(t, "demo")
	script := prompt.NewScript(
		prompt.Reply("E-mail address", nil), // the suggestion
		prompt.Reply("Your name", "Alice"),
		prompt.Reply("Password", ""),
		prompt.IfAsked("Incoming mail protocol", nil),
		prompt.Reply("Which mail apps", []string{"a setup sheet"}),
		prompt.Reply("Folder", filepath.Join(t.TempDir(), "asked")),
	)
	code, _, stderr = wizardRun(t, &wizardOptions{Network: sandboxNetwork(t, nil, "demo"), Sandbox: &sc}, script)
	if code != exitOK {
		t.Errorf("on a terminal: exit %d\n%s", code, stderr)
	}
}
