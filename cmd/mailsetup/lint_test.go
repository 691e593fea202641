package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/internal/iostreams"
)

func runMain(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	io, _, out, errOut := iostreams.Test()
	code = Main(io, args)
	forPeople(t, args, errOut.String())
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
		got.Files[0].Findings[0].Severity != "error" || got.Files[1].Findings[0].Message != `"no-such-file.xml" does not exist` {
		t.Errorf("unexpected JSON: %+v", got)
	}
}

func TestLintNeedsAFile(t *testing.T) {
	code, _, errOut := runMain(t, "lint")
	if code != exitUsage || !strings.Contains(errOut, "give FILE, as in 'mailsetup lint FILE...'") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestHelpExitCodes(t *testing.T) {
	code, out, _ := runMain(t, "help", "exit-codes")
	if code != exitOK || !strings.Contains(out, "6  a batch in which some users failed") {
		t.Errorf("exit %d, out %q", code, out)
	}
}

// Files that are no mail configuration at all are named for what they look
// like, not judged as broken XML.
func TestLintSaysWhatOtherFilesAre(t *testing.T) {
	dir := t.TempDir()
	files := map[string]struct{ content, looks string }{
		"a.mobileconfig": {`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict/></plist>`, "an Apple configuration profile"},
		"user.js":     {"// account\nuser_pref(\"mail.accountmanager.accounts\", \"account1\");\n", "a Thunderbird user.js"},
		"serve.yaml":  {"# a comment\nlisten:\n  http: \":8080\"\n", "YAML"},
		"qr.txt":      {`[1,[1,1]]`, "JSON"},
		"setup.html":  {"<!DOCTYPE html>\n<html><body></body></html>", "an HTML page"},
		"signed.cms":  {"\x30\x82\x01\x00", "a signed (CMS) file"},
		"export.reg":  {"\xff\xfeW\x00", "UTF-16 text"},
		"setup.txt":   {"Mail settings for jane\nIncoming server: imap.example.test", "plain text"},
		"picture.png": {"\x89PNG\r\n\x1a\n", "a PNG image"},
	}
	for name, f := range files {
		path := filepath.Join(dir, name)
		writeFile(t, path, f.content)
		code, out, _ := runMain(t, "lint", path)
		want := path + ":1: error: " + path + " is not an autoconfig or Autodiscover file (it looks like " + f.looks
		if code != exitFailure || !strings.HasPrefix(out, want) || strings.Count(out, "\n") != 1 {
			t.Errorf("%s: exit %d, %q; want %q", name, code, out, want)
		}
	}
	// A real autoconfig file and an XML one of the wrong kind still go to
	// the linter.
	if code, out, _ := runMain(t, "lint", "../../examples/example.test.xml"); code != exitOK || out != "" {
		t.Errorf("example.test.xml: exit %d, %q", code, out)
	}
	other := filepath.Join(dir, "f.xml")
	writeFile(t, other, "<foo/>")
	if _, out, _ := runMain(t, "lint", other); !strings.Contains(out, "the root element must be <clientConfig>") {
		t.Errorf("f.xml: %q", out)
	}
}

// lint --json starts with schema_version.
func TestLintJSONStartsWithSchemaVersion(t *testing.T) {
	_, out, _ := runMain(t, "--json", "lint", "../../examples/example.test.xml")
	if !strings.HasPrefix(out, "{\n  \"schema_version\": 1,") {
		t.Errorf("lint --json:\n%s", out)
	}
}

// lintConfig is a config-v1.1 file whose IMAP <hostname> (line 7) and
// <displayName> (line 5) are given.
func lintConfig(encoding, displayName, host string) string {
	return `<?xml version="1.0" encoding="` + encoding + `"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <displayName>` + displayName + `</displayName>
    <incomingServer type="imap">
      <hostname>` + host + `</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.test</hostname>
      <port>465</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>
`
}

// Issue 13: every bad host name is an error on its line.
func TestLintFlagsBadHostnames(t *testing.T) {
	dir := t.TempDir()
	for _, host := range []string{
		"https://imap.example.test:993", "imap example.test", "-bad-.test",
		strings.Repeat("a", 300) + ".test", "localhost", "imap.example.test\nSMTPServer=attacker.test",
	} {
		path := filepath.Join(dir, "config.xml")
		writeFile(t, path, lintConfig("UTF-8", "Example", host))
		code, out, _ := runMain(t, "lint", path)
		if code != exitFailure || !strings.HasPrefix(out, path+":7: error: ") || !strings.Contains(out, "<hostname>") {
			t.Errorf("%q: exit %d, %q", host, code, out)
		}
	}
}

// A display name that would add lines to a user.js is flagged, not taken
// for a user.js.
func TestLintFlagsDisplayNameWithLineBreak(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.xml")
	writeFile(t, path, lintConfig("UTF-8", "Example\nuser_pref(\"network.proxy.type\", 1);", "imap.example.test"))
	code, out, _ := runMain(t, "lint", path)
	if code != exitFailure || !strings.HasPrefix(out, path+":5: error: <displayName>") || strings.Contains(out, "user.js") {
		t.Errorf("exit %d, %q", code, out)
	}
}

// A valid ISO-8859-1 file is read by its declaration, not called binary.
func TestLintHonoursDeclaredEncoding(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.xml")
	writeFile(t, path, lintConfig("ISO-8859-1", "M\xfcller Mail", "imap.example.test"))
	if code, out, errOut := runMain(t, "lint", path); code != exitOK || out != "" {
		t.Errorf("exit %d, %q, %q", code, out, errOut)
	}
	binary := filepath.Join(t.TempDir(), "binary.xml")
	writeFile(t, binary, "<\xff\xfe\x00")
	if code, out, _ := runMain(t, "lint", binary); code != exitFailure || !strings.Contains(out, "binary data") {
		t.Errorf("binary: exit %d, %q", code, out)
	}
}

// A file that cannot be read says why in words, not as Go's "open X: no
// such file or directory" or "read X: is a directory" (issue 12).
func TestLintUnreadableFilesInWords(t *testing.T) {
	dir := t.TempDir()
	code, out, _ := runMain(t, "lint", filepath.Join(dir, "none.xml"), dir)
	want := fmt.Sprintf("%s:0: error: %q does not exist\n%s:0: error: %q is a folder, not a file\n",
		filepath.Join(dir, "none.xml"), filepath.Join(dir, "none.xml"), dir, dir)
	if code != exitFailure || out != want {
		t.Errorf("exit %d, got\n%swant\n%s", code, out, want)
	}
}
