package autoconfig

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const davConfig = `<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="dav.test">
    <domain>dav.test</domain>
    <incomingServer type="imap">
      <hostname>imap.dav.test</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
  </emailProvider>
  <addressbook type="carddav">
    <url>https://DAV.dav.test:443/remote.php/dav</url>
    <authentication system="http">Basic</authentication>
    <username>%EMAILLOCALPART%</username>
  </addressbook>
  <calendar type="caldav">
    <url>https://dav.dav.test:8443/cal/</url>
    <username>%EMAILADDRESS%</username>
  </calendar>
  <calendar type="ics">
    <url>https://dav.dav.test/holidays.ics</url>
  </calendar>
  <addressBook type="carddav">
    <url>https://user:pw@dav.dav.test/</url>
  </addressBook>
</clientConfig>
`

// The draft's <calendar> and <addressbook> are read into Provider.DAV (the
// URL in the model's stored form), what mailsetup does not set up is noted,
// a bad one is skipped with an error, and the writer writes them back.
func TestConfigDAVRoundTrip(t *testing.T) {
	p, diags, err := ReadConfig(strings.NewReader(davConfig))
	if err != nil {
		t.Fatal(err)
	}
	want := []DAVService{
		{Kind: CardDAV, URL: "https://dav.dav.test/remote.php/dav", Username: "%EMAILLOCALPART%"},
		{Kind: CalDAV, URL: "https://dav.dav.test:8443/cal/", Username: "%EMAILADDRESS%"},
	}
	if len(p.DAV) != len(want) {
		t.Fatalf("DAV = %+v, want %+v", p.DAV, want)
	}
	for i := range want {
		if p.DAV[i] != want[i] {
			t.Errorf("DAV[%d] = %+v, want %+v", i, p.DAV[i], want[i])
		}
	}
	var notes, errs int
	for _, d := range diags {
		switch d.Severity {
		case Note:
			notes++
		case Error:
			errs++
		}
	}
	if notes != 1 || errs != 1 {
		t.Errorf("diagnostics %v: want one note (ics) and one error (user in URL)", diags)
	}
	var b bytes.Buffer
	if err := WriteConfig(&b, p); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"<addressbook type=\"carddav\">\n    <url>https://dav.dav.test/remote.php/dav</url>\n    <authentication system=\"http\">Basic</authentication>\n    <username>%EMAILLOCALPART%</username>\n  </addressbook>",
		"<calendar type=\"caldav\">\n    <url>https://dav.dav.test:8443/cal/</url>",
	} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("written file lacks %q:\n%s", s, b.String())
		}
	}
	again, _, err := ReadConfig(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(again.DAV) != 2 || again.DAV[0] != want[0] || again.DAV[1] != want[1] {
		t.Errorf("read back %+v", again.DAV)
	}
	if rep := Lint(bytes.NewReader(b.Bytes())); rep.HasErrors() {
		t.Errorf("lint finds errors in the written file: %+v", rep)
	}
	checkRelaxNG(t, b.Bytes())
}

// checkRelaxNG validates doc against the draft's RELAX NG schema with
// xmllint, which .ci/run installs; without it the test says so and skips.
func checkRelaxNG(t *testing.T, doc []byte) {
	t.Helper()
	schema, err := filepath.Abs(filepath.Join("..", "..", "shared", "reference", "autoconfig-spec", "autoconfig.rng"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(schema); err != nil {
		t.Skipf("no RELAX NG schema beside the repository (%v)", err)
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint is not installed (.ci/run installs libxml2-utils)")
	}
	file := filepath.Join(t.TempDir(), "config.xml")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(xmllint, "--noout", "--relaxng", schema, file).CombinedOutput(); err != nil {
		t.Errorf("the written file does not validate against autoconfig.rng: %v\n%s", err, out)
	}
}
