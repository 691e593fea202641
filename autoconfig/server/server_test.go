package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/profiles"
)

// testServer serves testdata/serve.yaml (rate limit off) on loopback.
func testServer(t testing.TB) (*Server, *httptest.Server, *bytes.Buffer) {
	t.Helper()
	cfg, err := LoadConfig("testdata/serve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return startServer(t, cfg)
}

func startServer(t testing.TB, cfg *Config) (*Server, *httptest.Server, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	srv, err := New(cfg, slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts, &logs
}

// syncWriter lets concurrent handlers share one log buffer.
type syncWriter struct {
	mu chan struct{}
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	if s.mu == nil {
		s.mu = make(chan struct{}, 1)
	}
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.w.Write(p)
}

// fetch sends one request with the given Host header, as a client would
// after resolving host to this server.
func fetch(t testing.TB, ts *httptest.Server, method, host, target, contentType string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+target, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// want is the configured settings of domain, for comparison.
func want(t testing.TB, srv *Server, domain string) *autoconfig.Provider {
	t.Helper()
	p, ok := srv.state.Load().cfg.Provider(domain)
	if !ok {
		t.Fatalf("%s is not configured", domain)
	}
	return p
}

type serverKey struct {
	Protocol autoconfig.Protocol
	Host     string
	Port     int
	Security autoconfig.Security
	Username string
}

func keys(servers []autoconfig.Server, addr *autoconfig.Address) []serverKey {
	var out []serverKey
	for _, s := range servers {
		k := serverKey{s.Protocol, s.Hostname, s.Port, s.Security, s.Username}
		if addr != nil {
			k.Host, k.Username = s.ExpandHostname(*addr), s.ExpandUsername(*addr)
		}
		out = append(out, k)
	}
	return out
}

// firstOfEach is what an Autodiscover response carries: the first server of
// each incoming protocol, and the first SMTP server.
func firstOfEach(p *autoconfig.Provider) *autoconfig.Provider {
	out := &autoconfig.Provider{}
	seen := map[autoconfig.Protocol]bool{}
	for _, s := range p.Incoming {
		if !seen[s.Protocol] {
			seen[s.Protocol] = true
			out.Incoming = append(out.Incoming, s)
		}
	}
	out.Outgoing = p.Outgoing[:1]
	return out
}

func checkAutoconfig(t *testing.T, srv *Server, resp *http.Response, body []byte, domain string) {
	t.Helper()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("status %d, Content-Type %q; body:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	got, diags, err := autoconfig.ReadConfig(bytes.NewReader(body))
	if err != nil || len(diags) > 0 {
		t.Fatalf("reading the answer back: %v %v\n%s", err, diags, body)
	}
	w := want(t, srv, domain)
	if g, e := fmt.Sprint(keys(got.Incoming, nil)), fmt.Sprint(keys(w.Incoming, nil)); g != e {
		t.Errorf("incoming servers read back:\n got %s\nwant %s", g, e)
	}
	if g, e := fmt.Sprint(keys(got.Outgoing, nil)), fmt.Sprint(keys(w.Outgoing, nil)); g != e {
		t.Errorf("outgoing servers read back:\n got %s\nwant %s", g, e)
	}
}

// TestClientsThunderbird fetches autoconfig the ways Thunderbird desktop
// (with the address, on autoconfig.DOMAIN and .well-known) and Thunderbird
// for Android, K-9 and KMail (without it) do.
func TestClientsThunderbird(t *testing.T) {
	srv, ts, _ := testServer(t)
	tests := []struct {
		name, host, target, domain string
	}{
		{"desktop", "autoconfig.example.test", "/mail/config-v1.1.xml?emailaddress=alice%40example.test", "example.test"},
		{"desktop upper-case address", "autoconfig.example.test", "/mail/config-v1.1.xml?emailaddress=ALICE%40EXAMPLE.TEST", "example.test"},
		{"desktop well-known", "example.test", "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=alice%40example.test", "example.test"},
		{"android on autoconfig host", "AUTOCONFIG.Example.Test", "/mail/config-v1.1.xml", "example.test"},
		{"android on domain with port", "example.test:443", "/mail/config-v1.1.xml", "example.test"},
		{"android well-known", "example.test", "/.well-known/autoconfig/mail/config-v1.1.xml", "example.test"},
		{"IDN host in Unicode", "autoconfig.bücher.test", "/mail/config-v1.1.xml", "xn--bcher-kva.test"},
		{"IDN address", "autoconfig.xn--bcher-kva.test", "/mail/config-v1.1.xml?emailaddress=j%C3%BCrgen%40B%C3%BCcher.test", "xn--bcher-kva.test"},
		{"alias", "autoconfig.example-mail.test", "/mail/config-v1.1.xml", "example-mail.test"},
		{"from a file", "autoconfig.files.test", "/mail/config-v1.1.xml", "files.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := fetch(t, ts, http.MethodGet, tt.host, tt.target, "", nil)
			checkAutoconfig(t, srv, resp, body, tt.domain)
			if !bytes.Contains(body, []byte("%EMAIL")) {
				t.Errorf("placeholders were filled in; the client fills them:\n%s", body)
			}
		})
	}
}

func TestAutoconfigRefuses(t *testing.T) {
	_, ts, _ := testServer(t)
	tests := []struct {
		name, method, host, target string
		status                     int
	}{
		{"unknown domain", "GET", "autoconfig.unknown.test", "/mail/config-v1.1.xml", 404},
		{"unknown address domain", "GET", "autoconfig.example.test", "/mail/config-v1.1.xml?emailaddress=a%40unknown.test", 404},
		{"bad address", "GET", "autoconfig.example.test", "/mail/config-v1.1.xml?emailaddress=%3Cscript%3E", 400},
		{"control character", "GET", "autoconfig.example.test", "/mail/config-v1.1.xml?emailaddress=a%01b%40example.test", 400},
		{"POST", "POST", "autoconfig.example.test", "/mail/config-v1.1.xml", 405},
		{"unknown path", "GET", "example.test", "/mail/other.xml", 404},
		{"bare IP host", "GET", "127.0.0.1", "/mail/config-v1.1.xml", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := fetch(t, ts, tt.method, tt.host, tt.target, "", nil)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d; body %s", resp.StatusCode, tt.status, body)
			}
			if bytes.Contains(body, []byte("script")) {
				t.Errorf("the request is echoed: %s", body)
			}
		})
	}
}

func postAutodiscover(t testing.TB, ts *httptest.Server, host, path, email string) (*http.Response, []byte) {
	var req bytes.Buffer
	if _, err := autoconfig.NewAutodiscoverRequest(email).WriteTo(&req); err != nil {
		t.Fatal(err)
	}
	return fetch(t, ts, http.MethodPost, host, path, "text/xml", &req)
}

// TestClientsOutlook posts Autodiscover requests the way Outlook does: mixed
// case paths, on autodiscover.DOMAIN and DOMAIN, addresses in any case.
func TestClientsOutlook(t *testing.T) {
	srv, ts, _ := testServer(t)
	tests := []struct {
		name, host, path, email, domain string
	}{
		{"outlook", "autodiscover.example.test", "/Autodiscover/Autodiscover.xml", "alice@example.test", "example.test"},
		{"on the domain", "example.test", "/autodiscover/autodiscover.xml", "alice@example.test", "example.test"},
		{"upper case", "AUTODISCOVER.EXAMPLE.TEST", "/AUTODISCOVER/AUTODISCOVER.XML", "ALICE@EXAMPLE.TEST", "example.test"},
		{"IDN", "autodiscover.xn--bcher-kva.test", "/autodiscover/autodiscover.xml", "jürgen@bücher.test", "xn--bcher-kva.test"},
		{"escaped local part", "autodiscover.files.test", "/autodiscover/autodiscover.xml", "a&b'c@files.test", "files.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := postAutodiscover(t, ts, tt.host, tt.path, tt.email)
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
				t.Fatalf("status %d, Content-Type %q:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			ad, err := autoconfig.ReadAutodiscoverResponse(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%v\n%s", err, body)
			}
			got, err := ad.Provider(tt.domain)
			if err != nil {
				t.Fatalf("%v\n%s", err, body)
			}
			addr, err := autoconfig.ParseAddress(tt.email)
			if err != nil {
				t.Fatal(err)
			}
			w := firstOfEach(want(t, srv, tt.domain))
			if g, e := fmt.Sprint(keys(got.Incoming, nil)), fmt.Sprint(keys(w.Incoming, &addr)); g != e {
				t.Errorf("incoming read back:\n got %s\nwant %s", g, e)
			}
			if g, e := fmt.Sprint(keys(got.Outgoing, nil)), fmt.Sprint(keys(w.Outgoing, &addr)); g != e {
				t.Errorf("outgoing read back:\n got %s\nwant %s", g, e)
			}
			for _, p := range ad.Protocols {
				wantEnc := map[int]string{993: "SSL", 995: "SSL", 465: "SSL", 143: "TLS", 587: "TLS"}[p.Port]
				if p.Encryption != wantEnc || p.SPA {
					t.Errorf("%s port %d: Encryption %q SPA %v, want %q and SPA off", p.Type, p.Port, p.Encryption, p.SPA, wantEnc)
				}
			}
		})
	}
}

// TestAutodiscoverPrecomputed checks that the precomputed answer is the one
// the codec writes for the address itself.
func TestAutodiscoverPrecomputed(t *testing.T) {
	srv, _, _ := testServer(t)
	for _, email := range []string{"alice@example.test", "A&B'x@example.test", "ünï@example.test", "jürgen@bücher.test"} {
		addr, err := parseAddress(email)
		if err != nil {
			t.Fatal(err)
		}
		s := srv.state.Load().cfg.sites[addr.Domain]
		var direct, split bytes.Buffer
		if _, err := autoconfig.NewAutodiscoverResponse(s.provider, addr).WriteTo(&direct); err != nil {
			t.Fatal(err)
		}
		if err := s.autodiscover.writeTo(&split, addr.LocalPart); err != nil {
			t.Fatal(err)
		}
		a, errA := autoconfig.ReadAutodiscoverResponse(&direct)
		b, errB := autoconfig.ReadAutodiscoverResponse(&split)
		if errA != nil || errB != nil {
			t.Fatalf("%s: %v %v", email, errA, errB)
		}
		if fmt.Sprintf("%+v", a) != fmt.Sprintf("%+v", b) {
			t.Errorf("%s: precomputed answer differs:\n%+v\n%+v", email, b, a)
		}
	}
}

func TestAutodiscoverOther(t *testing.T) {
	_, ts, _ := testServer(t)

	t.Run("alias redirects", func(t *testing.T) {
		_, body := postAutodiscover(t, ts, "autodiscover.example-mail.test", "/autodiscover/autodiscover.xml", "Bob@Example-Mail.test")
		ad, err := autoconfig.ReadAutodiscoverResponse(bytes.NewReader(body))
		if err != nil || ad.Action != autoconfig.ActionRedirectAddr || ad.RedirectAddr != "Bob@example.test" {
			t.Fatalf("%v %+v\n%s", err, ad, body)
		}
	})
	errorCode := func(t *testing.T, resp *http.Response, body []byte, status, code int) {
		t.Helper()
		ad, err := autoconfig.ReadAutodiscoverResponse(bytes.NewReader(body))
		if err != nil || ad.Error == nil || ad.Error.Code != code || resp.StatusCode != status {
			t.Fatalf("HTTP %d %v %+v, want HTTP %d error %d\n%s", resp.StatusCode, err, ad, status, code, body)
		}
	}
	t.Run("GET gets error 600", func(t *testing.T) {
		resp, body := fetch(t, ts, "GET", "autodiscover.example.test", "/Autodiscover/Autodiscover.xml", "", nil)
		errorCode(t, resp, body, 200, 600)
	})
	t.Run("unknown domain", func(t *testing.T) {
		resp, body := postAutodiscover(t, ts, "autodiscover.example.test", "/autodiscover/autodiscover.xml", "a@unknown.test")
		errorCode(t, resp, body, 404, 500)
	})
	t.Run("bad address", func(t *testing.T) {
		resp, body := postAutodiscover(t, ts, "autodiscover.example.test", "/autodiscover/autodiscover.xml", "<not an address>")
		errorCode(t, resp, body, 400, 602)
	})
	t.Run("mobilesync schema", func(t *testing.T) {
		req := autoconfig.NewAutodiscoverRequest("a@example.test")
		req.AcceptableResponseSchema = autoconfig.AutodiscoverMobileSyncSchema
		var b bytes.Buffer
		req.WriteTo(&b)
		resp, body := fetch(t, ts, "POST", "autodiscover.example.test", "/autodiscover/autodiscover.xml", "text/xml", &b)
		errorCode(t, resp, body, 200, 601)
	})
	t.Run("malformed body", func(t *testing.T) {
		resp, body := fetch(t, ts, "POST", "example.test", "/autodiscover/autodiscover.xml", "text/xml", strings.NewReader("<Autodiscover><Request>"))
		errorCode(t, resp, body, 400, 600)
	})
	t.Run("body over 64 KiB", func(t *testing.T) {
		big := "<Autodiscover><Request><EMailAddress>a@example.test</EMailAddress>" + strings.Repeat("<!-- pad -->", 7000) + "</Request></Autodiscover>"
		resp, _ := fetch(t, ts, "POST", "example.test", "/autodiscover/autodiscover.xml", "text/xml", strings.NewReader(big))
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
	})
}

func TestAutodiscoverJSON(t *testing.T) {
	_, ts, _ := testServer(t)
	tests := []struct {
		name, target string
		status       int
		want         string
	}{
		{"query", "/autodiscover/autodiscover.json?Email=alice%40example.test&Protocol=AutodiscoverV1", 200,
			`{"Protocol":"AutodiscoverV1","Url":"https://autodiscover.example.test/autodiscover/autodiscover.xml"}`},
		{"path form", "/Autodiscover/Autodiscover.json/v1.0/alice@Example.TEST?Protocol=autodiscoverv1", 200,
			`{"Protocol":"AutodiscoverV1","Url":"https://autodiscover.example.test/autodiscover/autodiscover.xml"}`},
		{"alias", "/autodiscover/autodiscover.json/v1.0/bob@example-mail.test?Protocol=AutodiscoverV1", 200,
			`{"Protocol":"AutodiscoverV1","Url":"https://autodiscover.example.test/autodiscover/autodiscover.xml"}`},
		{"ActiveSync", "/autodiscover/autodiscover.json?Email=alice%40example.test&Protocol=ActiveSync", 400,
			`{"ErrorCode":"InvalidProtocol","ErrorMessage":"The given protocol value 'ActiveSync' is invalid. Supported values are 'AutodiscoverV1'."}`},
		{"hostile protocol", "/autodiscover/autodiscover.json?Email=a%40example.test&Protocol=%22%3C%2Fscript%3E", 400,
			`{"ErrorCode":"InvalidProtocol","ErrorMessage":"The given protocol value '\"\u003c/script\u003e' is invalid. Supported values are 'AutodiscoverV1'."}`},
		{"unknown domain", "/autodiscover/autodiscover.json?Email=a%40unknown.test&Protocol=AutodiscoverV1", 404, ""},
		{"no address", "/autodiscover/autodiscover.json?Protocol=AutodiscoverV1", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := fetch(t, ts, "GET", "autodiscover.example.test", tt.target, "", nil)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.want != "" && strings.TrimSpace(string(body)) != tt.want {
				t.Errorf("body\n%s\nwant\n%s", body, tt.want)
			}
			if tt.want != "" && !json.Valid(body) {
				t.Errorf("not JSON: %s", body)
			}
		})
	}
}

// TestClientsIPhone fetches the profile the way an iPhone's Safari does.
func TestClientsIPhone(t *testing.T) {
	srv, ts, _ := testServer(t)
	resp, body := fetch(t, ts, "GET", "autoconfig.example.test", "/mail.mobileconfig?emailaddress=Alice%40Example.test", "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-apple-aspen-config" {
		t.Fatalf("status %d, Content-Type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if got := resp.Header.Get("Content-Disposition"); got != `attachment; filename="Alice@example.test.mobileconfig"` {
		t.Errorf("Content-Disposition %q", got)
	}
	if resp.ContentLength != int64(len(body)) {
		t.Errorf("Content-Length %d for %d bytes", resp.ContentLength, len(body))
	}
	var profile struct {
		PayloadType    string
		PayloadContent []map[string]any
	}
	if _, err := plist.Unmarshal(body, &profile); err != nil {
		t.Fatal(err)
	}
	mail := profile.PayloadContent[0]
	w := want(t, srv, "example.test")
	in, out := w.Incoming[0], w.Outgoing[1] // the profile prefers implicit TLS
	if mail["IncomingMailServerHostName"] != in.Hostname || mail["IncomingMailServerPortNumber"] != uint64(in.Port) ||
		mail["OutgoingMailServerHostName"] != out.Hostname || mail["OutgoingMailServerPortNumber"] != uint64(out.Port) ||
		mail["EmailAddress"] != "Alice@example.test" || mail["IncomingMailServerUseSSL"] != true {
		t.Errorf("profile does not carry the configured settings: %v", mail)
	}

	for target, status := range map[string]int{
		"/mail.mobileconfig":                            400,
		"/mail.mobileconfig?emailaddress=a%40nope.test": 404,
		"/mail.mobileconfig?emailaddress=%3Cx%3E":       400,
	} {
		if resp, _ := fetch(t, ts, "GET", "example.test", target, "", nil); resp.StatusCode != status {
			t.Errorf("%s: status %d, want %d", target, resp.StatusCode, status)
		}
	}
}

func TestAppleSigned(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t, "signing.example.test")
	os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600)
	cfg := parseTestConfig(t, dir, "signing: {cert_file: cert.pem, key_file: key.pem}\n")
	_, ts, _ := startServer(t, cfg)
	resp, body := fetch(t, ts, "GET", "example.test", "/mail.mobileconfig?emailaddress=alice%40example.test", "", nil)
	if resp.StatusCode != 200 || len(body) == 0 || body[0] != 0x30 { // DER SEQUENCE
		t.Fatalf("status %d, want a DER CMS body, got %q", resp.StatusCode, body[:min(len(body), 40)])
	}
	if !bytes.Contains(body, []byte("imap.example.test")) {
		t.Error("the signed profile does not carry the plist")
	}
}

// TestClientsAndroid opens the Android page as a phone's browser does, and
// the QR image it shows.
func TestClientsAndroid(t *testing.T) {
	srv, ts, _ := testServer(t)
	resp, body := fetch(t, ts, "GET", "example.test", "/android?emailaddress=alice%40example.test", "", nil)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	for _, want := range []string{`src="/android.png?emailaddress=alice%40example.test"`, "imap.example.test", "993", "smtp.example.test", "587", "alice@example.test"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("page lacks %q", want)
		}
	}
	resp, png := fetch(t, ts, "GET", "example.test", "/android.png?emailaddress=alice%40example.test", "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("QR image: status %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	acct, err := profiles.NewAccount(want(t, srv, "example.test"), autoconfig.Address{LocalPart: "alice", Domain: "example.test", DomainUnicode: "example.test"}, "", "")
	if err != nil {
		t.Fatal(err)
	}
	var direct bytes.Buffer
	if err := profiles.AndroidQRPNG(&direct, acct); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(png, direct.Bytes()) {
		t.Error("the served QR image differs from profiles.AndroidQRPNG's")
	}
	_, body = fetch(t, ts, "GET", "example.test", "/android?emailaddress=a%26b%27c%40files.test", "", nil)
	if bytes.Contains(body, []byte("a&b'c")) || !bytes.Contains(body, []byte("a&amp;b&#39;c@files.test")) {
		t.Errorf("the address is not escaped:\n%s", body)
	}
}

// TestAndroidNonASCII: an address the QR format cannot carry gets the page
// with the settings to type (200, no image), and the log keeps the person's
// name out as logging.full_addresses: false says.
func TestAndroidNonASCII(t *testing.T) {
	_, ts, logs := testServer(t)
	resp, body := fetch(t, ts, "GET", "example.test", "/android?emailaddress=j%C3%BCrgen%40example.test", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	for _, want := range []string{"jürgen@example.test", "type the settings below", "imap.example.test", "993"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	if bytes.Contains(body, []byte("<img")) {
		t.Errorf("the page shows a QR code the app cannot read:\n%s", body)
	}
	if resp, _ := fetch(t, ts, "GET", "example.test", "/android.png?emailaddress=j%C3%BCrgen%40example.test", "", nil); resp.StatusCode != 404 {
		t.Errorf("QR image of a non-ASCII address: status %d, want 404", resp.StatusCode)
	}
	if bytes.Contains(logs.Bytes(), []byte("rgen")) || bytes.Contains(logs.Bytes(), []byte(`"level":"ERROR"`)) {
		t.Errorf("the log names the person or reports an error:\n%s", logs)
	}
}

// TestRenderedOncePerAddress: repeated requests for one address's Apple
// profile, Android page and QR code render each once; the rest is cached.
func TestRenderedOncePerAddress(t *testing.T) {
	srv, ts, _ := testServer(t)
	for range 10 {
		for _, target := range []string{"/android?emailaddress=alice%40example.test", "/android.png?emailaddress=alice%40example.test", "/mail.mobileconfig?emailaddress=alice%40example.test"} {
			if resp, body := fetch(t, ts, "GET", "example.test", target, "", nil); resp.StatusCode != 200 {
				t.Fatalf("%s: %d %s", target, resp.StatusCode, body)
			}
		}
	}
	if n := srv.metrics.rendered.Load(); n != 3 {
		t.Errorf("%d renders for 30 requests of 3 answers, want 3", n)
	}
	_, body := fetch(t, ts, "GET", "x", "/metrics", "", nil)
	if !bytes.Contains(body, []byte("mailsetup_serve_renders_total 3\n")) {
		t.Errorf("metrics lack the render count:\n%s", body)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	_, ts, _ := testServer(t)
	if resp, body := fetch(t, ts, "GET", "x", "/healthz", "", nil); resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("healthz: %d %q", resp.StatusCode, body)
	}
	fetch(t, ts, "GET", "autoconfig.example.test", "/mail/config-v1.1.xml", "", nil)
	fetch(t, ts, "GET", "autoconfig.unknown.test", "/mail/config-v1.1.xml", "", nil)
	resp, body := fetch(t, ts, "GET", "x", "/metrics", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`mailsetup_serve_requests_total{endpoint="autoconfig",code="200"} 1`,
		`mailsetup_serve_requests_total{endpoint="autoconfig",code="404"} 1`,
		`mailsetup_serve_requests_total{endpoint="healthz",code="200"} 1`,
		`mailsetup_serve_request_duration_seconds_bucket{endpoint="autoconfig",le="+Inf"} 2`,
		`mailsetup_serve_request_duration_seconds_count{endpoint="autoconfig"} 2`,
		"# TYPE mailsetup_serve_request_duration_seconds histogram",
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

func TestMetricsOnlyForAllowed(t *testing.T) {
	cfg := parseTestConfig(t, "testdata", "metrics: {allow: [10.0.0.0/8]}\n")
	_, ts, _ := startServer(t, cfg)
	if resp, _ := fetch(t, ts, "GET", "x", "/metrics", "", nil); resp.StatusCode != 404 {
		t.Fatalf("metrics from a client outside metrics.allow: %d, want 404", resp.StatusCode)
	}
}

func TestLogsRedactAddresses(t *testing.T) {
	_, ts, logs := testServer(t)
	postAutodiscover(t, ts, "example.test", "/autodiscover/autodiscover.xml", "secret.person@example.test")
	fetch(t, ts, "GET", "example.test", "/mail/config-v1.1.xml?emailaddress=secret.person%40example.test", "", nil)
	if bytes.Contains(logs.Bytes(), []byte("secret.person")) {
		t.Errorf("the log names the person:\n%s", logs)
	}
	if !bytes.Contains(logs.Bytes(), []byte(`"address":"…@example.test"`)) {
		t.Errorf("the log lacks the redacted address:\n%s", logs)
	}
}

func TestGenericAnswer(t *testing.T) {
	cfg := parseTestConfig(t, "testdata", "unknown_domains: example.test\n")
	srv, ts, _ := startServer(t, cfg)
	resp, body := fetch(t, ts, "GET", "autoconfig.unknown.test", "/mail/config-v1.1.xml", "", nil)
	checkAutoconfig(t, srv, resp, body, "example.test")
	resp, body = postAutodiscover(t, ts, "autodiscover.unknown.test", "/autodiscover/autodiscover.xml", "x@unknown.test")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("<LoginName>x@unknown.test</LoginName>")) {
		t.Errorf("status %d\n%s", resp.StatusCode, body)
	}
}

// TestUnknownDomainsHidesOnlyTheStatus holds what the README promises for
// unknown_domains: DOMAIN: an unknown domain gets exactly DOMAIN's answer,
// but a served domain with other settings, or an alias (Autodiscover
// redirect), can still be told apart by its answer.
func TestUnknownDomainsHidesOnlyTheStatus(t *testing.T) {
	cfg := parseTestConfig(t, "testdata", "unknown_domains: example.test\n")
	_, ts, _ := startServer(t, cfg)
	get := func(domain string) string {
		resp, body := fetch(t, ts, "GET", "autoconfig."+domain, "/mail/config-v1.1.xml", "", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", domain, resp.StatusCode)
		}
		return string(body)
	}
	if get("unknown.test") != get("example.test") {
		t.Error("an unknown domain's answer differs from unknown_domains' domain's")
	}
	if get("files.test") == get("unknown.test") {
		t.Error("a served domain with its own settings looks unknown: the README says it can be told apart")
	}
	_, alias := postAutodiscover(t, ts, "example-mail.test", "/autodiscover/autodiscover.xml", "x@example-mail.test")
	_, unknown := postAutodiscover(t, ts, "unknown.test", "/autodiscover/autodiscover.xml", "x@unknown.test")
	if !bytes.Contains(alias, []byte("redirectAddr")) || bytes.Contains(unknown, []byte("redirectAddr")) {
		t.Errorf("the alias's Autodiscover answer is not told apart by its redirect:\n%s\n%s", alias, unknown)
	}
}

// parseTestConfig is testdata/serve.yaml with extra top-level keys, read as
// if it were in dir.
func parseTestConfig(t testing.TB, dir, extra string) *Config {
	t.Helper()
	base, err := os.ReadFile("testdata/serve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if dir != "testdata" {
		xml, _ := os.ReadFile("testdata/files.test.xml")
		os.WriteFile(filepath.Join(dir, "files.test.xml"), xml, 0o644)
	}
	cfg, err := ParseConfig(append(base, extra...), filepath.Join(dir, "serve.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
