package main

import (
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
