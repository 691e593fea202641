// Package tbjudge runs the real Thunderbird (../shared/tools/thunderbird) on
// files mailsetup wrote or served, for tests: our own readers are not the
// last word, real clients are.
//
// The judge runs only with MAILSETUP_THUNDERBIRD=1 (set by .ci/run); without
// it tests skip and say why. MAILSETUP_REQUIRE_SHARED=1 turns a missing
// ../shared into a failure instead of a skip.
package tbjudge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// SharedDir returns the absolute path of ../shared/REL beside the repository,
// skipping the test when it is absent (failing under MAILSETUP_REQUIRE_SHARED=1).
func SharedDir(t testing.TB, rel string) string {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	repo := filepath.Join(filepath.Dir(self), "..", "..")
	dir, err := filepath.Abs(filepath.Join(repo, "..", "shared", rel))
	if err == nil {
		if _, err = os.Stat(dir); err == nil {
			return dir
		}
	}
	if os.Getenv("MAILSETUP_REQUIRE_SHARED") == "1" {
		t.Fatalf("../shared/%s is missing but MAILSETUP_REQUIRE_SHARED=1: %v", rel, err)
	}
	t.Skipf("skipped: ../shared/%s is not beside this clone (%v)", rel, err)
	return ""
}

// Require skips the test unless MAILSETUP_THUNDERBIRD=1, and returns the
// directory of the Thunderbird tools.
func Require(t testing.TB) string {
	t.Helper()
	if os.Getenv("MAILSETUP_THUNDERBIRD") != "1" {
		t.Skip("skipped: the real-Thunderbird check runs with MAILSETUP_THUNDERBIRD=1 (.ci/run sets it)")
	}
	return SharedDir(t, "tools/thunderbird")
}

// Server is a server as Thunderbird configured it.
type Server struct {
	Type           string `json:"type"`
	Hostname       string `json:"hostname"`
	Port           int    `json:"port"`
	SocketTypeName string `json:"socketTypeName"`
	AuthName       string `json:"authName"`
	Username       string `json:"username"`
	// POP3 options, where Thunderbird set them.
	LeaveMessagesOnServer *bool `json:"leaveMessagesOnServer"`
}

// Verdict is what Thunderbird made of one file.
type Verdict struct {
	Input    string `json:"input"`
	Accepted bool   `json:"accepted"`
	Email    string `json:"email"`
	Config   struct {
		Incoming             Server   `json:"incoming"`
		IncomingAlternatives []Server `json:"incomingAlternatives"`
		Outgoing             Server   `json:"outgoing"`
		OutgoingAlternatives []Server `json:"outgoingAlternatives"`
	} `json:"config"`
	Error json.RawMessage `json:"error"`
}

// ParseAutoconfig runs tb-parse-autoconfig --batch on files in mode "http"
// or "disk"; email fills the placeholders ("" for the harness's default).
func ParseAutoconfig(t testing.TB, mode, email string, files ...string) []Verdict {
	t.Helper()
	args := append([]string{"--batch", "--compact", "--timeout", "600", "--mode", mode}, files...)
	if email != "" {
		args = append(args, "--email", email)
	}
	return run(t, "tb-parse-autoconfig", args)
}

// ParseAutodiscover runs tb-parse-autodiscover --batch on POX responses.
func ParseAutodiscover(t testing.TB, email string, files ...string) []Verdict {
	t.Helper()
	args := append([]string{"--batch", "--compact", "--timeout", "600"}, files...)
	args = append(args, "--email", email)
	return run(t, "tb-parse-autodiscover", args)
}

func run(t testing.TB, tool string, args []string) []Verdict {
	t.Helper()
	dir := Require(t)
	cmd := exec.Command(filepath.Join(dir, tool), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	// Exit 1 means "some file rejected": the verdicts say which.
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		t.Fatalf("%s failed: %v\n%s", tool, err, stderr.String())
	}
	var verdicts []Verdict
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var v Verdict
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s printed something that is not a verdict: %v\n%s", tool, err, sc.Text())
		}
		verdicts = append(verdicts, v)
	}
	if len(verdicts) == 0 {
		t.Fatalf("%s gave no verdicts\n%s", tool, stderr.String())
	}
	return verdicts
}

// socketNames are Thunderbird's nsMsgSocketType names for our securities.
var socketNames = map[autoconfig.Security]string{
	autoconfig.SecurityTLS:      "SSL",
	autoconfig.SecuritySTARTTLS: "alwaysSTARTTLS",
	autoconfig.SecurityPlain:    "plain",
}

// Same reports how Thunderbird's server differs from ours for addr, or ""
// when it took the same protocol, host, port, security and username.
func Same(got Server, want autoconfig.Server, addr autoconfig.Address) string {
	wantUser := want.ExpandUsername(addr)
	if got.Type != string(want.Protocol) || got.Hostname != want.ExpandHostname(addr) || got.Port != want.Port ||
		got.SocketTypeName != socketNames[want.Security] || (wantUser != "" && got.Username != wantUser) {
		return fmt.Sprintf("Thunderbird took %s %s:%d %s user %q; we meant %s %s:%d %s user %q",
			got.Type, got.Hostname, got.Port, got.SocketTypeName, got.Username,
			want.Protocol, want.ExpandHostname(addr), want.Port, socketNames[want.Security], wantUser)
	}
	return ""
}
