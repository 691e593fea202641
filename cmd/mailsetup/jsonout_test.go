package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// Every --json document starts with "schema_version", so a consumer can
// check it before reading on.
func TestEveryJSONDocumentStartsWithSchemaVersion(t *testing.T) {
	for _, args := range [][]string{
		{"version"},
		{"lint", "../../examples/example.test.xml"},
		{"dns-records", "example.test", "--config", "../../examples/serve.yaml"},
		{"serve", "--check", "--config", "../../examples/serve.yaml"},
		{"sandbox", "--list"},
		{"profile", "jane@example.test", "--name", "Jane", "--settings", "../../examples/example.test.xml", "--out", filepath.Join(t.TempDir(), "p")},
		{"batch", "no-users.csv", "--out", t.TempDir()}, // an error: no document at all
	} {
		code, out, stderr := runMain(t, append([]string{"--json"}, args...)...)
		if code != exitOK {
			if out != "" {
				t.Errorf("%v: exit %d printed %q", args, code, out)
			}
			continue
		}
		if !strings.HasPrefix(out, "{\n  \"schema_version\": 1,") || !json.Valid([]byte(out)) {
			t.Errorf("%v: exit %d, stdout does not start with schema_version:\n%.100s\n%s", args, code, out, stderr)
		}
	}
}

// serve takes --json with --check only; the running server logs instead.
func TestServeJSONOnlyWithCheck(t *testing.T) {
	code, out, _ := runMain(t, "--json", "serve", "--check", "--config", "../../examples/serve.yaml")
	var got serveCheckJSON
	if err := json.Unmarshal([]byte(out), &got); code != exitOK || err != nil || !got.OK || len(got.Domains) != 2 {
		t.Errorf("serve --check --json: exit %d, %v, %+v", code, err, got)
	}
	code, _, stderr := runMain(t, "--json", "serve", "--config", "../../examples/serve.yaml", "--listen", "127.0.0.1:0")
	if code != exitUsage || !strings.Contains(stderr, "--json goes with --check") {
		t.Errorf("serve --json: exit %d, %q", code, stderr)
	}
}

// mailsetup colours nothing, so it offers no flag to turn colours off.
func TestNoColourFlag(t *testing.T) {
	if code, _, _ := runMain(t, "--no-color", "version"); code != exitUsage {
		t.Errorf("--no-color: exit %d, want %d (unknown flag)", code, exitUsage)
	}
}
