package server

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// TestConfigDAV: caldav: and carddav: reach the model in the form it
// stores (lower-case host, no default port), with the mail login.
func TestConfigDAV(t *testing.T) {
	cfg, err := LoadConfig("testdata/serve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := cfg.Provider("example-mail.test")
	want := []autoconfig.DAVService{
		{Kind: autoconfig.CalDAV, URL: "https://dav.example.test/dav/calendars/", Username: "%EMAILADDRESS%"},
		{Kind: autoconfig.CardDAV, URL: "https://dav.example.test:8443/dav/contacts/", Username: "%EMAILADDRESS%"},
	}
	if len(p.DAV) != 2 || p.DAV[0] != want[0] || p.DAV[1] != want[1] {
		t.Errorf("DAV = %+v, want %+v", p.DAV, want)
	}
	if p, _ := cfg.Provider("xn--bcher-kva.test"); len(p.DAV) != 0 {
		t.Errorf("a domain without caldav: got %+v", p.DAV)
	}
	inline, err := ParseConfig([]byte(`listen: {http: ":8080"}
domains:
  - name: example.test
    provider:
      incoming: [{protocol: imap, host: imap.example.test, security: tls, username: "%EMAILLOCALPART%"}]
      outgoing: [{protocol: smtp, host: smtp.example.test, security: tls}]
      carddav: https://xn--bcher-kva.example.test:443
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, _ = inline.Provider("example.test")
	if len(p.DAV) != 1 || p.DAV[0] != (autoconfig.DAVService{Kind: autoconfig.CardDAV, URL: "https://xn--bcher-kva.example.test/", Username: "%EMAILLOCALPART%"}) {
		t.Errorf("DAV = %+v: want the default port dropped, path /, and the IMAP login", p.DAV)
	}
}

// TestConfigDAVHostile: every bad calendar or contacts URL is an error that
// names its line and says what to write; none reaches a served file.
func TestConfigDAVHostile(t *testing.T) {
	const head = `listen: {http: ":8080"}
domains:
  - name: example.test
    provider:
      incoming: [{protocol: imap, host: imap.example.test, security: tls}]
      outgoing: [{protocol: smtp, host: smtp.example.test, security: tls}]
`
	tests := []struct{ name, line, want string }{
		{"newline", `      caldav: "https://dav.example.test/\nX-Injected: 1"`, "t.yaml:7: caldav:"},
		{"carriage return", `      carddav: "https://dav.example.test/\r"`, "t.yaml:7: carddav:"},
		{"http", `      caldav: http://dav.example.test/`, `t.yaml:7: caldav "http://dav.example.test/" is plain http, which would send passwords in the clear: write its https:// URL`},
		{"bad host", `      caldav: https://dav_example..test/`, "t.yaml:7: caldav:"},
		{"no host", `      carddav: https:///dav/`, "not an https URL such as https://dav.example.com/"},
		{"user info", `      caldav: https://alice:secret@dav.example.test/`, "carries a user name, query or fragment"},
		{"query", `      caldav: https://dav.example.test/?x=<y>`, "carries a user name, query or fragment"},
		{"port", `      caldav: https://dav.example.test:70000/`, "port"},
		{"scheme", `      caldav: javascript:alert(1)`, "not an https URL"},
		{"not a string", `      caldav: [https://dav.example.test/]`, "t.yaml:7: domains[0].provider.caldav should be a single value, not a list"},
		{"typo", `      calldav: https://dav.example.test/`, "t.yaml:7: unknown key calldav"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(head+tt.line+"\n"), "t.yaml")
			if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
			if err != nil && strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("the error is not one line: %q", err)
			}
		})
	}
}

// TestDAVWellKnown: RFC 6764 §5 redirects on the domain's hosts, for the
// methods clients send; 404 for what is not configured.
func TestDAVWellKnown(t *testing.T) {
	_, ts, _ := testServer(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		method, host, path string
		status             int
		location           string
	}{
		{"PROPFIND", "example.test", "/.well-known/caldav", 301, "https://dav.example.test/dav/calendars/"},
		{"GET", "Example.TEST:443", "/.well-known/carddav", 301, "https://dav.example.test:8443/dav/contacts/"},
		{"PROPFIND", "autoconfig.example.test", "/.well-known/carddav/", 301, "https://dav.example.test:8443/dav/contacts/"},
		{"OPTIONS", "setup.example-mail.test", "/.well-known/caldav", 301, "https://dav.example.test/dav/calendars/"},
		{"HEAD", "autodiscover.example.test.", "/.well-known/CalDAV", 301, "https://dav.example.test/dav/calendars/"},
		// Configured without DAV, unknown, or no domain at all.
		{"PROPFIND", "xn--bcher-kva.test", "/.well-known/caldav", 404, ""},
		{"PROPFIND", "bücher.test", "/.well-known/carddav", 404, ""},
		{"PROPFIND", "other.test", "/.well-known/caldav", 404, ""},
		{"PROPFIND", "dav.example.test", "/.well-known/caldav", 404, ""},
		{"PROPFIND", "127.0.0.1:8080", "/.well-known/caldav", 404, ""},
		{"GET", "example.test", "/.well-known/caldavx", 404, ""},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, ts.URL+tt.path, strings.NewReader(`<propfind xmlns="DAV:"><prop><current-user-principal/></prop></propfind>`))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = tt.host
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status || resp.Header.Get("Location") != tt.location {
			t.Errorf("%s %s%s: %d Location %q, want %d %q", tt.method, tt.host, tt.path, resp.StatusCode, resp.Header.Get("Location"), tt.status, tt.location)
		}
	}
}

// TestDAVWellKnownNotGeneric: unknown_domains answers mail settings for any
// domain, but never sends another domain's users to this calendar server.
func TestDAVWellKnownNotGeneric(t *testing.T) {
	_, ts, _ := startServer(t, parseTestConfig(t, "testdata", "unknown_domains: example.test\n"))
	req, _ := http.NewRequest("PROPFIND", ts.URL+"/.well-known/caldav", nil)
	req.Host = "other.test"
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown domain: %d %q, want 404", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestDAVWellKnownMetricsAndLimit: the redirects are counted and
// rate-limited like every other answer.
func TestDAVWellKnownMetricsAndLimit(t *testing.T) {
	base, _ := os.ReadFile("testdata/serve.yaml")
	cfg, err := ParseConfig([]byte(strings.Replace(string(base), "per_minute: 0", "per_minute: 1\n  burst: 2", 1)), "testdata/serve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, ts, _ := startServer(t, cfg)
	var codes []int
	for range 3 {
		req, _ := http.NewRequest("PROPFIND", ts.URL+"/.well-known/caldav", nil)
		req.Host = "example.test"
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes = append(codes, resp.StatusCode)
	}
	if codes[0] != 301 || codes[1] != 301 || codes[2] != http.StatusTooManyRequests {
		t.Errorf("codes %v, want 301 301 429", codes)
	}
	_, body := getPage(t, ts.URL, "/metrics")
	for _, want := range []string{
		`mailsetup_serve_requests_total{endpoint="caldav_well_known",code="301"} 2`,
		`mailsetup_serve_requests_total{endpoint="caldav_well_known",code="429"} 1`,
		`mailsetup_serve_request_duration_seconds_count{endpoint="caldav_well_known"} 3`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestPageDAV: the settings table lists the calendar and contacts URLs, the
// Android tab names DAVx⁵ with the base URL to type, in English and German;
// a domain without DAV shows neither.
func TestPageDAV(t *testing.T) {
	_, ts, _ := testServer(t)
	_, body := getPage(t, ts.URL, "/?emailaddress=alice%40example.test&device=other")
	for _, want := range []string{
		"<caption>Calendar and contacts for alice@example.test</caption>",
		`<th scope="row">Calendar (CalDAV)</th><td data-label="URL"><code data-copy="Calendar (CalDAV) URL"`,
		">https://dav.example.test/dav/calendars/</code>",
		">https://dav.example.test:8443/dav/contacts/</code>",
		`<th scope="row">Contacts (CardDAV)</th>`,
		">alice@example.test</code></td></tr>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("other apps tab lacks %q", want)
		}
	}
	if strings.Contains(body, "DAVx⁵") {
		t.Error("DAVx⁵ named outside the Android tab")
	}

	_, body = getPage(t, ts.URL, "/?emailaddress=alice%40example.test&device=android")
	for _, want := range []string{
		"<h3>Calendar and contacts (DAVx⁵)</h3>",
		"choose “Login with URL and user name”, and type https://dav.example.test/dav/calendars/ as the base URL, alice@example.test as the user name",
		// CardDAV is elsewhere (another port): a second account.
		"with https://dav.example.test:8443/dav/contacts/ as the base URL.",
		">https://dav.example.test/dav/calendars/</code>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("Android tab lacks %q", want)
		}
	}

	_, body = getPage(t, ts.URL, "/?emailaddress=alice%40example.test&device=android&lang=de")
	for _, want := range []string{"<caption>Kalender und Kontakte für alice@example.test</caption>", "<h3>Kalender und Kontakte (DAVx⁵)</h3>",
		"„Anmeldung mit URL und Benutzername“ und geben Sie https://dav.example.test/dav/calendars/ als Basis-URL"} {
		if !strings.Contains(body, want) {
			t.Errorf("German Android tab lacks %q", want)
		}
	}

	// The placeholders domain has no DAV: its login template is filled in
	// for mail, and no calendar row or DAVx⁵ section appears.
	for _, device := range []string{"android", "other"} {
		_, body = getPage(t, ts.URL, "/?emailaddress=alice%40xn--bcher-kva.test&device="+device)
		if strings.Contains(body, "CalDAV") || strings.Contains(body, "DAVx⁵") || !strings.Contains(body, ">alice</code>") {
			t.Errorf("%s tab of a domain without DAV:\n%s", device, body)
		}
	}
}

// TestPageDAVSameURL: one URL for both services is one DAVx⁵ account.
func TestPageDAVSameURL(t *testing.T) {
	cfg, err := ParseConfig([]byte(`listen: {http: ":8080"}
domains:
  - name: example.test
    provider:
      incoming: [{protocol: imap, host: imap.example.test, security: tls, username: "%EMAILLOCALPART%"}]
      outgoing: [{protocol: smtp, host: smtp.example.test, security: tls}]
      caldav: https://dav.example.test/
      carddav: https://dav.example.test/
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, ts, _ := startServer(t, cfg)
	_, body := getPage(t, ts.URL, "/?emailaddress=bob%40example.test&device=android")
	if !strings.Contains(body, "type https://dav.example.test/ as the base URL, bob as the user name") || strings.Contains(body, "second account") {
		t.Errorf("Android tab:\n%s", body)
	}
}
