package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// FuzzServe feeds hostile requests to the handler: whatever arrives, the
// server never fails (5xx) and every XML or JSON answer is well-formed, so
// nothing a client sent can break out of where it is echoed.
func FuzzServe(f *testing.F) {
	var req bytes.Buffer
	autoconfig.NewAutodiscoverRequest("alice@example.test").WriteTo(&req)
	seeds := []struct {
		method, target, host, xff string
		body                      []byte
	}{
		{"GET", "/mail/config-v1.1.xml?emailaddress=alice%40example.test", "autoconfig.example.test", "", nil},
		{"GET", "/mail/config-v1.1.xml", "AUTOCONFIG.bücher.test", "", nil},
		{"POST", "/Autodiscover/Autodiscover.xml", "autodiscover.example.test", "", req.Bytes()},
		{"POST", "/autodiscover/autodiscover.xml", "x", "10.0.0.1", []byte(`<Autodiscover><Request><EMailAddress>a&amp;b'&lt;@example.test</EMailAddress></Request></Autodiscover>`)},
		{"POST", "/autodiscover/autodiscover.xml", "x", "", []byte(`<!DOCTYPE x [<!ENTITY a "aaaa">]><Autodiscover/>`)},
		{"POST", "/autodiscover/autodiscover.xml", "x", "", []byte("<Autodiscover><Request><EMailAddress>a\x01@example-mail.test</EMailAddress></Request></Autodiscover>")},
		{"GET", "/autodiscover/autodiscover.json/v1.0/a@example.test?Protocol=%3Cx%3E", "x", "", nil},
		{"GET", "/autodiscover/autodiscover.json?Email=%22%40example.test&Protocol=AutodiscoverV1", "x", "", nil},
		{"GET", "/mail.mobileconfig?emailaddress=%E2%80%AE%40example.test", "x", "", nil},
		{"GET", "/android?emailaddress=%3Cscript%3E%40example.test", "x", "", nil},
		// The QR format takes ASCII addresses only: the page, never a 500.
		{"GET", "/android?emailaddress=j%C3%BCrgen%40example.test", "x", "", nil},
		{"GET", "/android.png?emailaddress=j%C3%BCrgen%40b%C3%BCcher.test", "x", "", nil},
		{"GET", "/android?emailaddress=x%40b%C3%BCcher.test", "x", "198.51.100.1:80", nil},
		{"GET", "/metrics", "x", "127.0.0.1", nil},
		{"GET", "/?emailaddress=%3Cscript%3Ealert(1)%3C%2Fscript%3E%40example.test&lang=de", "setup.example.test", "", nil},
		{"GET", "/?emailaddress=j%C3%BCrgen%40b%C3%BCcher.test&device=android", "x", "", nil},
		{"GET", "/?emailaddress=a%40unknown.test&device=%22%3E", "x", "", nil},
		{"GET", "/outlook.prf?emailaddress=a%40files.test&device=windows", "x", "", nil},
		{"GET", "/sheet?emailaddress=%22%3E%3Cb%3E%40example.test", "x", "", nil},
		// RFC 6764 §5 redirects: configured, unconfigured, unknown, odd hosts.
		{"PROPFIND", "/.well-known/caldav", "example.test", "", []byte(`<propfind xmlns="DAV:"><prop><current-user-principal/></prop></propfind>`)},
		{"GET", "/.well-known/CardDAV/", "AUTODISCOVER.Example-Mail.test.:443", "", nil},
		{"PROPFIND", "/.well-known/carddav", "xn--bcher-kva.test", "", nil},
		{"OPTIONS", "/.well-known/caldav?x=%0d%0aLocation:%20https://evil.test/", "setup.b\u00fccher.test", "", nil},
		{"PROPFIND", "/.well-known/caldav//", "[::1]:80", "", nil},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.host, s.xff, s.body)
	}
	cfg, err := LoadConfig("testdata/serve.yaml")
	if err != nil {
		f.Fatal(err)
	}
	srv, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method, target, host, xff string, body []byte) {
		u, err := url.ParseRequestURI(target)
		if err != nil || !validMethod(method) {
			return
		}
		r := &http.Request{Method: method, URL: u, Host: host, RemoteAddr: "192.0.2.1:1234", Header: http.Header{},
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
		r.Header.Set("X-Forwarded-For", xff)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		checkAnswer(t, r, w)
	})
}

func validMethod(m string) bool {
	return m != "" && strings.IndexFunc(m, func(r rune) bool { return r <= ' ' || r >= 0x7f }) < 0
}

func checkAnswer(t *testing.T, r *http.Request, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("%s %s: status %d: %s", r.Method, r.URL, w.Code, w.Body)
	}
	// The only redirects are RFC 6764's, to a configured https URL:
	// nothing a client sent may choose where they point.
	if loc := w.Header().Get("Location"); loc != "" || (w.Code >= 300 && w.Code < 400) {
		if u, err := autoconfig.ParseDAVURL(loc); err != nil || !u.TLS || w.Code != http.StatusMovedPermanently || !strings.HasPrefix(loc, "https://dav.example.test") {
			t.Fatalf("%s %s: %d to %q", r.Method, r.URL, w.Code, loc)
		}
	}
	ct := w.Header().Get("Content-Type")
	body := w.Body.Bytes()
	switch {
	case r.Method == http.MethodHead:
	case strings.HasPrefix(ct, "application/xml"):
		if _, _, err := autoconfig.ReadConfig(bytes.NewReader(body)); err != nil {
			t.Fatalf("%s %s: autoconfig answer unreadable: %v\n%s", r.Method, r.URL, err, body)
		}
	case strings.HasPrefix(ct, "text/xml"):
		if _, err := autoconfig.ReadAutodiscoverResponse(bytes.NewReader(body)); err != nil {
			t.Fatalf("%s %s: Autodiscover answer unreadable: %v\n%s", r.Method, r.URL, err, body)
		}
	case strings.HasPrefix(ct, "application/json"):
		if !json.Valid(body) {
			t.Fatalf("%s %s: not JSON: %s", r.Method, r.URL, body)
		}
	case strings.HasPrefix(ct, "text/html"):
		// The setup page loads its own script; nothing else may be a tag.
		if bytes.Count(body, []byte("<script")) != bytes.Count(body, []byte(`<script src="/setup.js?v=`)) {
			t.Fatalf("%s %s: markup echoed into the page", r.Method, r.URL)
		}
	}
}

// TestConcurrentRequestsAndReloads asks every endpoint from many goroutines
// while the configuration is swapped; run with -race.
func TestConcurrentRequestsAndReloads(t *testing.T) {
	cfg, err := LoadConfig("testdata/serve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var ad bytes.Buffer
	autoconfig.NewAutodiscoverRequest("Alice@Example.test").WriteTo(&ad)
	requests := []func() *http.Request{
		func() *http.Request {
			return httptest.NewRequest("GET", "http://autoconfig.example.test/mail/config-v1.1.xml", nil)
		},
		func() *http.Request {
			return httptest.NewRequest("POST", "http://example.test/Autodiscover/Autodiscover.xml", bytes.NewReader(ad.Bytes()))
		},
		func() *http.Request {
			return httptest.NewRequest("GET", "http://x/autodiscover/autodiscover.json?Email=a%40example.test&Protocol=AutodiscoverV1", nil)
		},
		func() *http.Request {
			return httptest.NewRequest("GET", "http://x/mail.mobileconfig?emailaddress=a%40example.test", nil)
		},
		func() *http.Request { return httptest.NewRequest("GET", "http://x/metrics", nil) },
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				r := requests[(g+i)%len(requests)]()
				r.RemoteAddr = "127.0.0.1:1"
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, r)
				if w.Code != 200 {
					t.Errorf("%s %s: %d", r.Method, r.URL, w.Code)
					return
				}
			}
		}()
	}
	for range 20 {
		next, err := LoadConfig("testdata/serve.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Reload(next); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}
