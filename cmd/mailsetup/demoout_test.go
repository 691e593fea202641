package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The demo refuses a folder holding someone else's files, before probing,
// and writes there only with --force (without touching the other files).
func TestDemoRefusesAForeignFolder(t *testing.T) {
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	writeFile(t, notes, "mine")
	code, stdout, stderr := runMain(t, "demo", "--out", dir)
	if code != exitFailure || !strings.Contains(stderr, "pass --force") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("exit %d, want %d and one line naming --force\n%s%s", code, exitFailure, stdout, stderr)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the refused folder holds %v", entries)
	}
	code, stdout, stderr = runMain(t, "demo", "--out", dir, "--force")
	if code != exitOK {
		t.Fatalf("--force: exit %d\n%s%s", code, stdout, stderr)
	}
	if data, _ := os.ReadFile(notes); string(data) != "mine" {
		t.Errorf("notes.txt = %q", data)
	}
}

// A demo folder is the demo's to replace: by its marker, or (written before
// the marker existed) by the demo address's own files.
func TestCheckDemoOut(t *testing.T) {
	addr := demoAddress()
	empty := t.TempDir()
	marked := t.TempDir()
	writeFile(t, filepath.Join(marked, demoMarker), demoMarkerText)
	writeFile(t, filepath.Join(marked, "sheet", "setup.txt"), "x")
	legacy := t.TempDir()
	writeFile(t, filepath.Join(legacy, "thunderbird", "isp", "demo.test.xml"), "x")
	writeFile(t, filepath.Join(legacy, "apple", "alice@demo.test.mobileconfig"), "x")
	foreign := t.TempDir()
	writeFile(t, filepath.Join(foreign, "sheet", "setup.txt"), "a real user's sheet")
	for _, tt := range []struct {
		dir string
		ok  bool
	}{
		{filepath.Join(empty, "absent"), true},
		{empty, true},
		{marked, true},
		{legacy, true},
		{foreign, false},
	} {
		if err := checkDemoOut(tt.dir, addr); (err == nil) != tt.ok {
			t.Errorf("checkDemoOut(%s) = %v, want ok %v", tt.dir, err, tt.ok)
		}
	}
}

// demo --json lists the files it wrote beside the report.
func TestDemoJSONListsFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	code, stdout, stderr := runMain(t, "--json", "demo", "--out", dir)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.HasPrefix(stdout, "{\n  \"schema_version\": 1,") {
		t.Errorf("the document does not start with schema_version:\n%.80s", stdout)
	}
	var res struct {
		Files  []struct{ Path string } `json:"files"`
		Report struct {
			Status string `json:"status"`
		} `json:"report"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 11 || res.Report.Status != "ok" {
		t.Fatalf("files %v, report status %q", res.Files, res.Report.Status)
	}
	for _, f := range res.Files {
		if _, err := os.Stat(f.Path); err != nil {
			t.Error(err)
		}
	}
}
