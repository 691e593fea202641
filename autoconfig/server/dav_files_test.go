package server

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// The tests here are about the files serve hands out, which carry
// calendars and contacts through the profiles writers and the config-v1.1
// reader and writer.

// TestServedAppleProfileDAV: the served profile has one CalDAV and one
// CardDAV payload with the configured URLs for a domain with caldav: and
// carddav:, and none for a domain without.
func TestServedAppleProfileDAV(t *testing.T) {
	_, ts, _ := testServer(t)
	payloads := func(query string) map[string]map[string]any {
		t.Helper()
		resp, body := getPage(t, ts.URL, "/mail.mobileconfig?emailaddress="+query)
		var profile struct{ PayloadContent []map[string]any }
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", query, resp.StatusCode)
		}
		if _, err := plist.Unmarshal([]byte(body), &profile); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		byType := map[string]map[string]any{}
		for _, p := range profile.PayloadContent {
			typ, _ := p["PayloadType"].(string)
			if _, dup := byType[typ]; dup {
				t.Errorf("%s: two %s payloads", query, typ)
			}
			byType[typ] = p
		}
		return byType
	}
	got := payloads("alice%40example.test")
	cal, card := got["com.apple.caldav.account"], got["com.apple.carddav.account"]
	if cal == nil || card == nil || got["com.apple.mail.managed"] == nil {
		t.Fatalf("payloads %v: want mail, CalDAV and CardDAV", payloadTypes(got))
	}
	if cal["CalDAVPrincipalURL"] != "https://dav.example.test/dav/calendars/" || cal["CalDAVUsername"] != "alice@example.test" {
		t.Errorf("CalDAV payload %v", cal)
	}
	if card["CardDAVPrincipalURL"] != "https://dav.example.test:8443/dav/contacts/" || card["CardDAVUsername"] != "alice@example.test" {
		t.Errorf("CardDAV payload %v", card)
	}
	if got := payloads("alice%40xn--bcher-kva.test"); got["com.apple.caldav.account"] != nil || got["com.apple.carddav.account"] != nil {
		t.Errorf("a domain without DAV got %v", payloadTypes(got))
	}
}

func payloadTypes(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestConfigDAVFromSettingsFile: a config-v1.1 file's <calendar> and
// <addressbook> reach the model and the served autoconfig document, and a
// plain-http one is refused as it is under provider:.
func TestConfigDAVFromSettingsFile(t *testing.T) {
	base, err := os.ReadFile("testdata/files.test.xml")
	if err != nil {
		t.Fatal(err)
	}
	withDAV := func(url string) []byte {
		return bytes.Replace(base, []byte("</clientConfig>"), []byte(`  <calendar type="caldav">
    <url>`+url+`</url>
    <authentication system="http">Basic</authentication>
    <username>%EMAILLOCALPART%</username>
  </calendar>
</clientConfig>`), 1)
	}
	load := func(xml []byte) (*Config, error) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "files.test.xml"), xml, 0o644); err != nil {
			t.Fatal(err)
		}
		return ParseConfig([]byte("listen: {http: \":8080\"}\ndomains:\n  - name: files.test\n    file: files.test.xml\n"), filepath.Join(dir, "serve.yaml"))
	}
	cfg, err := load(withDAV("https://dav.files.test/cal/"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := cfg.Provider("files.test")
	if want := (autoconfig.DAVService{Kind: autoconfig.CalDAV, URL: "https://dav.files.test/cal/", Username: "%EMAILLOCALPART%"}); len(p.DAV) != 1 || p.DAV[0] != want {
		t.Errorf("DAV from the file: %+v, want %+v", p.DAV, want)
	}
	if !bytes.Contains(cfg.sites["files.test"].autoconfigXML, []byte("<url>https://dav.files.test/cal/</url>")) {
		t.Errorf("served autoconfig lacks the calendar:\n%s", cfg.sites["files.test"].autoconfigXML)
	}
	if _, err := load(withDAV("http://dav.files.test/cal/")); err == nil || !strings.Contains(err.Error(), "plain http") {
		t.Errorf("a plain-http calendar in a settings file: %v", err)
	}
}
