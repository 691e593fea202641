package server

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"howett.net/plist"
)

// getPage fetches target with the given request headers (name, value pairs).
func getPage(t *testing.T, base string, target string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+target, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "setup.example.test"
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp, b.String()
}

// externalRef finds src= or href= values that leave this server.
var externalRef = regexp.MustCompile(`(?:src|href|action)="(?:[a-z]+:)?//`)

func TestPageForm(t *testing.T) {
	_, ts, _ := testServer(t)
	resp, body := getPage(t, ts.URL, "/")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "form-action 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if resp.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Error("no Referrer-Policy: the address in the URL would leak to the support link")
	}
	for _, want := range []string{`<form method="get" action="/">`, `<label for="emailaddress">Your e-mail address</label>`, `id="emailaddress" name="emailaddress"`, `<button type="submit">Continue</button>`, `<html lang="en">`} {
		if !strings.Contains(body, want) {
			t.Errorf("form lacks %q:\n%s", want, body)
		}
	}
	if externalRef.MatchString(body) {
		t.Errorf("the form loads or links something elsewhere:\n%s", body)
	}
	for path, ct := range map[string]string{"/setup.css": "text/css; charset=utf-8", "/setup.js": "text/javascript; charset=utf-8"} {
		if resp, _ := getPage(t, ts.URL, path); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != ct {
			t.Errorf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}

// TestPageEscaping: an address carrying markup is refused and not echoed;
// a valid one with HTML-special characters is escaped wherever it appears.
func TestPageEscaping(t *testing.T) {
	_, ts, _ := testServer(t)
	resp, body := getPage(t, ts.URL, "/?emailaddress=%3Cscript%3Ealert(1)%3C%2Fscript%3E%40example.test")
	if resp.StatusCode != 400 || strings.Contains(body, "alert(1)") || !strings.Contains(body, `role="alert"`) {
		t.Errorf("status %d; the refused address is echoed or no error is shown:\n%s", resp.StatusCode, body)
	}
	resp, body = getPage(t, ts.URL, "/?emailaddress=a%26b%27c%40files.test&device=other")
	if resp.StatusCode != 200 || strings.Contains(body, "a&b'c") || !strings.Contains(body, "a&amp;b&#39;c@files.test") {
		t.Errorf("status %d; the address is not escaped:\n%s", resp.StatusCode, body)
	}
	resp, body = getPage(t, ts.URL, `/?emailaddress=alice%40example.test&device=%22%3E%3Cscript%3E`)
	if resp.StatusCode != 200 || strings.Count(body, "<script") != 1 {
		t.Errorf("a bad device value reached the page:\n%s", body)
	}
}

// TestPageLanguage: ?lang= first, then Accept-Language, then English.
func TestPageLanguage(t *testing.T) {
	_, ts, _ := testServer(t)
	tests := []struct {
		query, acceptLanguage, want string
	}{
		{"", "", "en"},
		{"", "de-DE,de;q=0.9,en;q=0.8", "de"},
		{"", "de-AT", "de"},
		{"", "fr-FR, de;q=0.5", "de"},
		{"", "fr", "en"},
		{"?lang=de", "en-US", "de"},
		{"?lang=de-CH", "", "de"},
		{"?lang=en", "de", "en"},
		{"?lang=xx", "de", "de"},
		{"", strings.Repeat("de,", 300), "en"}, // too long to read
	}
	for _, tt := range tests {
		_, body := getPage(t, ts.URL, "/"+tt.query, "Accept-Language", tt.acceptLanguage)
		if !strings.Contains(body, `<html lang="`+tt.want+`">`) {
			t.Errorf("%q with Accept-Language %q: want lang %s:\n%.300s", tt.query, tt.acceptLanguage, tt.want, body)
		}
	}
	_, body := getPage(t, ts.URL, "/?emailaddress=alice%40example.test&lang=de", "User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)")
	for _, want := range []string{"alice@example.test einrichten", "Profil installieren", "Warum IMAP"} {
		if !strings.Contains(body, want) {
			t.Errorf("German page lacks %q", want)
		}
	}
	if !strings.Contains(body, "lang=de") {
		t.Error("the tabs drop the chosen language")
	}
	_, body = getPage(t, ts.URL, "/?lang=de")
	if !strings.Contains(body, `<input type="hidden" name="lang" value="de">`) {
		t.Error("the German form does not keep ?lang=de")
	}
}

// TestPageDevices: the User-Agent picks the tab, ?device= another, and each
// tab links to its own download.
func TestPageDevices(t *testing.T) {
	_, ts, _ := testServer(t)
	const addr = "/?emailaddress=alice%40example.test"
	tests := []struct {
		ua, device, want, link string
	}{
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1", "", "iPhone or iPad", "/mail.mobileconfig?device=iphone&amp;emailaddress=alice%40example.test"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15", "", "Mac", "/mail.mobileconfig?device=mac&amp;emailaddress=alice%40example.test"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36", "", "Android", `src="/android.png?emailaddress=alice%40example.test"`},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36 Edg/124.0", "", "Windows (Outlook)", "/outlook.prf?device=windows&amp;emailaddress=alice%40example.test"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", "", "Thunderbird", "Thunderbird fills in the rest"},
		{"curl/8.5.0", "", "Other apps", "/sheet?device=other&amp;emailaddress=alice%40example.test"},
		{"curl/8.5.0", "android", "Android", "/android.png"},
	}
	for _, tt := range tests {
		target := addr
		if tt.device != "" {
			target += "&device=" + tt.device
		}
		resp, body := getPage(t, ts.URL, target, "User-Agent", tt.ua)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", tt.ua, resp.StatusCode)
		}
		if !strings.Contains(body, `aria-current="page">`+tt.want+`</a>`) || !strings.Contains(body, `<h2 id="panel-title">`+tt.want+`</h2>`) {
			t.Errorf("%s: the %s tab is not the current one", tt.ua, tt.want)
		}
		if !strings.Contains(body, tt.link) {
			t.Errorf("%s: page lacks %q", tt.ua, tt.link)
		}
		if strings.Count(body, `aria-current="page"`) != 1 || strings.Count(body, "<li><a href=") != len(devices) {
			t.Errorf("%s: want %d tabs, one current", tt.ua, len(devices))
		}
	}
}

// TestPageDownloads: each tab's link answers the right file, from the
// profiles writers.
func TestPageDownloads(t *testing.T) {
	_, ts, _ := testServer(t)
	resp, body := getPage(t, ts.URL, "/mail.mobileconfig?device=iphone&emailaddress=alice%40example.test")
	var profile map[string]any
	if resp.Header.Get("Content-Type") != "application/x-apple-aspen-config" {
		t.Errorf("profile: %s", resp.Header.Get("Content-Type"))
	} else if _, err := plist.Unmarshal([]byte(body), &profile); err != nil {
		t.Errorf("profile: %v", err)
	}
	resp, body = getPage(t, ts.URL, "/outlook.prf?device=windows&emailaddress=alice%40example.test")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Disposition") != `attachment; filename="outlook.prf"` {
		t.Fatalf("prf: %d %v", resp.StatusCode, resp.Header)
	}
	sections := parseINI(t, body)
	if sections["Account1"]["IMAPServer"] != "imap.example.test" || sections["Account1"]["EmailAddress"] != "alice@example.test" {
		t.Errorf("prf [Account1] = %v", sections["Account1"])
	}
	resp, body = getPage(t, ts.URL, "/sheet?device=other&emailaddress=alice%40example.test")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") || !strings.Contains(body, "imap.example.test") {
		t.Errorf("sheet: %d %v", resp.StatusCode, resp.Header)
	}
}

// parseINI reads a .prf: [sections] of key=value, ; comments.
func parseINI(t *testing.T, text string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	section := ""
	for _, line := range strings.Split(text, "\r\n") {
		switch {
		case line == "" || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			out[section] = map[string]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("not INI: %q", line)
			}
			out[section][k] = v
		}
	}
	return out
}

// TestPageUnknownDomain: an address at a domain not served gets a neutral
// page, never another domain's settings, even with unknown_domains set.
func TestPageUnknownDomain(t *testing.T) {
	_, ts, _ := startServer(t, parseTestConfig(t, "testdata", "unknown_domains: example.test\n"))
	resp, body := getPage(t, ts.URL, "/?emailaddress=bob%40elsewhere.test")
	if resp.StatusCode != 404 || !strings.Contains(body, "This address is not set up here") || !strings.Contains(body, "bob@elsewhere.test") {
		t.Errorf("status %d:\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, "example.test<") || strings.Contains(body, "imap.") {
		t.Errorf("the page shows another domain's settings:\n%s", body)
	}
}

// TestPagePOP3Only: where only POP3 is offered, the page says what to
// switch on.
func TestPagePOP3Only(t *testing.T) {
	_, ts, _ := testServer(t)
	_, body := getPage(t, ts.URL, "/?emailaddress=bob%40files.test&device=other")
	if !strings.Contains(body, "offers only POP3") || !strings.Contains(body, "pop.files.test") {
		t.Errorf("POP3-only page:\n%s", body)
	}
	_, body = getPage(t, ts.URL, "/?emailaddress=bob%40example.test&device=other")
	if strings.Contains(body, "offers only POP3") {
		t.Error("an IMAP domain's page says only POP3 is offered")
	}
}

func TestPageOff(t *testing.T) {
	_, ts, _ := startServer(t, parseTestConfig(t, "testdata", "page: {enabled: false}\n"))
	for _, p := range []string{"/", "/?emailaddress=alice%40example.test", "/setup.css"} {
		if resp, _ := getPage(t, ts.URL, p); resp.StatusCode != 404 {
			t.Errorf("%s with the page off: %d", p, resp.StatusCode)
		}
	}
}

// TestPageRateLimited: the page counts against the per-client limit like
// every endpoint; its stylesheet and script do not.
func TestPageRateLimited(t *testing.T) {
	base, _ := os.ReadFile("testdata/serve.yaml")
	cfg, err := ParseConfig([]byte(strings.Replace(string(base), "per_minute: 0", "per_minute: 1\n  burst: 2", 1)), "testdata/serve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, ts, _ := startServer(t, cfg)
	for i, want := range []int{200, 200, 429} {
		if resp, _ := getPage(t, ts.URL, "/?emailaddress=alice%40example.test"); resp.StatusCode != want {
			t.Errorf("page view %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
	if resp, _ := getPage(t, ts.URL, "/setup.css"); resp.StatusCode != 200 {
		t.Errorf("the stylesheet is rate-limited: %d", resp.StatusCode)
	}
}

// TestPageMetrics: views by device, and the downloads the page started.
func TestPageMetrics(t *testing.T) {
	_, ts, _ := testServer(t)
	getPage(t, ts.URL, "/?emailaddress=alice%40example.test", "User-Agent", "Mozilla/5.0 (Linux; Android 14)")
	getPage(t, ts.URL, "/?emailaddress=alice%40example.test&device=iphone")
	getPage(t, ts.URL, "/?emailaddress=alice%40example.test&device=iphone")
	getPage(t, ts.URL, "/mail.mobileconfig?device=iphone&emailaddress=alice%40example.test")
	getPage(t, ts.URL, "/outlook.prf?device=windows&emailaddress=alice%40example.test")
	getPage(t, ts.URL, "/mail.mobileconfig?emailaddress=alice%40example.test") // a device itself: not the page's
	_, body := getPage(t, ts.URL, "/metrics")
	for _, want := range []string{
		`mailsetup_serve_page_views_total{device="android"} 1`,
		`mailsetup_serve_page_views_total{device="iphone"} 2`,
		`mailsetup_serve_page_views_total{device="windows"} 0`,
		`mailsetup_serve_page_downloads_total{device="iphone",endpoint="mobileconfig"} 1`,
		`mailsetup_serve_page_downloads_total{device="windows",endpoint="outlook_prf"} 1`,
		`mailsetup_serve_requests_total{endpoint="page",code="200"} 3`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// TestPageConfig: the page: keys, checked; a hoster's catalogue adds a
// language and must be complete.
func TestPageConfig(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "logo.svg"), []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), 0o644)
	os.Mkdir(filepath.Join(dir, "texts"), 0o755)
	en, _ := os.ReadFile("page/en.yaml")
	fr := strings.Replace(string(en), `form_title: "Set up your e-mail"`, `form_title: "Configurer votre messagerie"`, 1)
	fr = strings.Replace(fr, `language_name: "English"`, `language_name: "Français"`, 1)
	os.WriteFile(filepath.Join(dir, "texts", "fr.yaml"), []byte(fr), 0o644)
	cfg := parseTestConfig(t, dir, `page:
  hoster: "Hoster & Sons"
  logo: logo.svg
  support_url: https://help.example.test/
  colors: {accent: "#123456"}
  catalogues: texts
`)
	_, ts, _ := startServer(t, cfg)
	_, body := getPage(t, ts.URL, "/", "Accept-Language", "fr-CA")
	for _, want := range []string{`<html lang="fr">`, "Configurer votre messagerie", `alt="Hoster &amp; Sons"`, `href="https://help.example.test/"`, ">Français</a>", ">Deutsch</a>"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	resp, css := getPage(t, ts.URL, "/setup.css")
	if !strings.Contains(css, "--accent: #123456;") || resp.Header.Get("Cache-Control") == "no-store" {
		t.Errorf("stylesheet: %v\n%.200s", resp.Header, css)
	}
	resp, _ = getPage(t, ts.URL, "/logo")
	if resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("logo: %v", resp.Header)
	}

	for _, bad := range []struct{ yaml, want string }{
		{"page: {colors: {text: \"red; } body { display: none\"}}\n", "page.colors.text"},
		{"page: {support_url: \"javascript:alert(1)\"}\n", "page.support_url"},
		{"page: {logo: serve.yaml}\n", "page.logo"},
		{"page: {catalogues: nowhere}\n", "page.catalogues"},
	} {
		base, _ := os.ReadFile("testdata/serve.yaml")
		if _, err := ParseConfig(append(base, bad.yaml...), "testdata/serve.yaml"); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want an error naming %s", bad.yaml, err, bad.want)
		}
	}
	os.WriteFile(filepath.Join(dir, "texts", "it.yaml"), []byte("language_name: Italiano\n"), 0o644)
	base, _ := os.ReadFile("testdata/serve.yaml")
	if _, err := ParseConfig(append(base, "page: {catalogues: texts}\n"...), filepath.Join(dir, "serve.yaml")); err == nil || !strings.Contains(err.Error(), "it.yaml lacks") {
		t.Errorf("an incomplete catalogue: %v", err)
	}
}

// TestCataloguesComplete: every text the templates ask for is in English
// (and so, by the load check, in every language), and the German one
// differs from the English one wherever a sentence is said.
func TestCataloguesComplete(t *testing.T) {
	cfg := parseTestConfig(t, "testdata", "")
	en, de := cfg.Page.catalogues[0], cfg.Page.catalogues[1]
	tmpl, _ := pageFiles.ReadFile("page/setup.html")
	goSrc, _ := os.ReadFile("page.go")
	used := regexp.MustCompile(`\.T\.([a-z_0-9]+)|d\.T\["([a-z_0-9]+)"\]`).FindAllStringSubmatch(string(tmpl)+string(goSrc), -1)
	for _, m := range used {
		key := m[1] + m[2]
		if en[key] == "" {
			t.Errorf("the page uses %q, which page/en.yaml lacks", key)
		}
	}
	for _, d := range devices {
		if en["tab_"+d] == "" {
			t.Errorf("no tab name for %s", d)
		}
	}
	for k, v := range en {
		if strings.Count(v, " ") >= 3 && de[k] == v {
			t.Errorf("%s is not translated into German", k)
		}
	}
}

// TestACMEPolicyNamesSetupHost: HTTPS certificates are ordered for
// setup.DOMAIN too while the page is on, and not once it is off.
func TestACMEPolicyNamesSetupHost(t *testing.T) {
	on, _, _ := testServer(t)
	off, _, _ := startServer(t, parseTestConfig(t, "testdata", "page: {enabled: false}\n"))
	for _, host := range []string{"setup.example.test", "SETUP.example-mail.test:443"} {
		if !on.hostAllowed(strings.ToLower(host)) {
			t.Errorf("%s: no certificate with the page on", host)
		}
		if off.hostAllowed(strings.ToLower(host)) {
			t.Errorf("%s: a certificate with the page off", host)
		}
	}
	if on.hostAllowed("setup.unknown.test") {
		t.Error("setup.unknown.test: a certificate for a domain not served")
	}
}
