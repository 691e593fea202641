package server

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmarks
// measure the handler rather than a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

func benchServer(b *testing.B) *Server {
	cfg, err := LoadConfig("../../examples/serve.yaml")
	if err != nil {
		b.Fatal(err)
	}
	cfg.Limit.PerMinute = 0
	cfg.Log.Requests = false
	srv, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	return srv
}

// BenchmarkAutoconfigGET is Thunderbird desktop's request (with the address).
func BenchmarkAutoconfigGET(b *testing.B) {
	srv := benchServer(b)
	r := httptest.NewRequest("GET", "http://autoconfig.example.test/mail/config-v1.1.xml?emailaddress=alice%40example.test", nil)
	r.RemoteAddr = "127.0.0.1:1"
	b.ReportAllocs()
	for b.Loop() {
		w := &discardWriter{h: http.Header{}}
		srv.ServeHTTP(w, r)
	}
}

// BenchmarkAutodiscoverPOST is Outlook's request.
func BenchmarkAutodiscoverPOST(b *testing.B) {
	srv := benchServer(b)
	var body bytes.Buffer
	autoconfig.NewAutodiscoverRequest("alice@example.test").WriteTo(&body)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "http://autodiscover.example.test/Autodiscover/Autodiscover.xml", bytes.NewReader(body.Bytes()))
		r.RemoteAddr = "127.0.0.1:1"
		w := &discardWriter{h: http.Header{}}
		srv.ServeHTTP(w, r)
	}
}

// BenchmarkCachedAnswers are the answers rendered once per address and then
// served from the cache (issues 15 and 16), as a browser or device asks.
func BenchmarkCachedAnswers(b *testing.B) {
	srv := benchServer(b)
	for _, target := range []string{
		"http://example.test/android?emailaddress=alice%40example.test",
		"http://example.test/android.png?emailaddress=alice%40example.test",
		"http://example.test/mail.mobileconfig?emailaddress=alice%40example.test",
		"http://setup.example.test/",
		"http://setup.example.test/?emailaddress=alice%40example.test&device=android",
	} {
		r := httptest.NewRequest("GET", target, nil)
		r.RemoteAddr = "127.0.0.1:1"
		r.Header.Set("Accept-Language", "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7")
		r.Header.Set("User-Agent", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36")
		b.Run(r.URL.RequestURI(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := &discardWriter{h: http.Header{}}
				srv.ServeHTTP(w, r)
			}
		})
	}
}

// BenchmarkDAVWellKnown is a calendar app's first request (RFC 6764 §5):
// a PROPFIND answered with the redirect to the configured URL.
func BenchmarkDAVWellKnown(b *testing.B) {
	srv := benchServer(b)
	r := httptest.NewRequest("PROPFIND", "http://example.test/.well-known/caldav", nil)
	r.RemoteAddr = "127.0.0.1:1"
	b.ReportAllocs()
	for b.Loop() {
		w := &discardWriter{h: http.Header{}}
		srv.ServeHTTP(w, r)
	}
}
