package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// programmerWords are what a message for people must not hold: Go's
// package prefixes and type names, decoder errors, raw HTTP client and
// context errors.
var programmerWords = regexp.MustCompile(`\b(autoconfig|probe|profiles|server|verify|discover|netx|sandbox|prompt|account|json|yaml|idna|x509|tls): |Go value|Go struct|cannot unmarshal|context deadline exceeded|context canceled|Get "http|Post "http|\*[a-z]+\.[A-Z][A-Za-z]+`)

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
