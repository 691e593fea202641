package main

import (
	"regexp"
	"strings"
	"testing"
)

// A flag value that does not parse says what to type, not what Go's parser
// said (issue 12: "time: missing unit in duration").
func TestFlagValueErrorsSayWhatToType(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"probe", "a@b.test", "--timeout", "1"}, `--timeout "1": give a duration with a unit, such as 15s or 2m`},
		{[]string{"batch", "u.csv", "--out", "o", "--concurrency", "many"}, `--concurrency "many": give a whole number`},
	} {
		code, _, stderr := runMain(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "invalid argument") {
			t.Errorf("%q: exit %d, stderr %q; want %q", tc.args, code, stderr, tc.want)
		}
	}
}

// The report's error and reason fields are written for people: no
// package prefixes, no raw HTTP client or context texts (issue 12).
func TestProbeJSONErrorsAreWords(t *testing.T) {
	code, stdout, stderr := runMain(t, "probe", "alice@demo.test", "--sandbox", "demo", "--json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	fields := regexp.MustCompile(`"(?:error|reason)": "((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(stdout, -1)
	if len(fields) == 0 {
		t.Fatal("no error fields to judge")
	}
	raw := regexp.MustCompile(`^(verify|netx|discover|dav|probe): |Get \\"|dial tcp|context canceled|context deadline exceeded`)
	for _, f := range fields {
		if m := raw.FindString(f[1]); m != "" {
			t.Errorf("%q holds %q, words for programmers", f[1], m)
		}
	}
}
