package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/internal/iostreams"
)

func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	code = Main(io, args)
	return code, out.String(), errOut.String()
}

func TestLintCleanFile(t *testing.T) {
	code, out, errOut := runMain(t, "lint", "../../examples/example.test.xml")
	if code != exitOK || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "1 of 1 files have no findings") {
		t.Errorf("stderr = %q", errOut)
	}
}

func TestLintBrokenFilesExitOne(t *testing.T) {
	code, out, _ := runMain(t, "lint", "../../autoconfig/testdata/bad/port-out-of-range.xml", "../../examples/example.test.xml")
	if code != exitFailure {
		t.Fatalf("exit %d, want %d", code, exitFailure)
	}
	want := `../../autoconfig/testdata/bad/port-out-of-range.xml:6: error: <incomingServer type="imap"> is skipped: <port> "99300" is not a number from 1 to 65535`
	if !strings.Contains(out, want) {
		t.Errorf("stdout lacks the finding with file:line:\n%s", out)
	}
}

func TestLintJSON(t *testing.T) {
	code, out, _ := runMain(t, "lint", "--json", "../../autoconfig/testdata/bad/no-incoming.xml", "no-such-file.xml")
	if code != exitFailure {
		t.Fatalf("exit %d", code)
	}
	var got struct {
		SchemaVersion int `json:"schema_version"`
		Files         []struct {
			File     string
			Kind     string
			Findings []struct {
				Line     int
				Severity string
				Message  string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if got.SchemaVersion != jsonSchemaVersion || len(got.Files) != 2 || got.Files[0].Kind != "autoconfig" ||
		got.Files[0].Findings[0].Severity != "error" || !strings.Contains(got.Files[1].Findings[0].Message, "cannot read the file") {
		t.Errorf("unexpected JSON: %+v", got)
	}
}

func TestLintNeedsAFile(t *testing.T) {
	code, _, errOut := runMain(t, "lint")
	if code != exitUsage || !strings.Contains(errOut, "requires at least 1 arg") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestHelpExitCodes(t *testing.T) {
	code, out, _ := runMain(t, "help", "exit-codes")
	if code != exitOK || !strings.Contains(out, "6  a batch in which some users failed") {
		t.Errorf("exit %d, out %q", code, out)
	}
}
