package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/internal/testnet"
)

// selfSigned returns a PEM certificate and key for names, signed by no CA.
func selfSigned(t testing.TB, names ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	now := time.Now()
	return testnet.PEM(t, testnet.NewCA(t, "unused").SelfSigned(t, now.Add(-time.Hour), now.Add(time.Hour), names...))
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestServeHTTPSAndReload runs Serve on HTTP and HTTPS listeners with
// certificate files, swaps in a new certificate and configuration by Reload
// while clients keep asking, and shuts down gracefully.
func TestServeHTTPSAndReload(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t, "autoconfig.example.test")
	os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), keyPEM, 0o600)
	extra := "tls: {cert_file: cert.pem, key_file: key.pem}\n"
	cfg := parseTestConfig(t, dir, extra)
	cfg.Listen.HTTPS = "127.0.0.1:0"
	srv, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	plain, secure := listen(t), listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, Listeners{HTTP: plain, HTTPS: secure}) }()

	client := func(roots []byte) *http.Client {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(roots)
		return &http.Client{Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "autoconfig.example.test"},
		}}
	}
	get := func(c *http.Client, url string) (int, error) {
		req, _ := http.NewRequest("GET", url, nil)
		req.Host = "autoconfig.example.test"
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	httpsURL := "https://" + secure.Addr().String() + "/mail/config-v1.1.xml"
	httpURL := "http://" + plain.Addr().String() + "/mail/config-v1.1.xml"
	if s, err := get(client(certPEM), httpsURL); err != nil || s != 200 {
		t.Fatalf("HTTPS: %d %v", s, err)
	}

	// Clients keep asking while the configuration is reloaded: none fails.
	var failures atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{}
			for {
				select {
				case <-stop:
					return
				default:
				}
				if s, err := get(c, httpURL); err != nil || s != 200 {
					failures.Add(1)
				}
			}
		}()
	}
	newCert, newKey := selfSigned(t, "autoconfig.example.test")
	os.WriteFile(filepath.Join(dir, "cert.pem"), newCert, 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), newKey, 0o600)
	for range 20 {
		if err := srv.Reload(parseTestConfig(t, dir, extra)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Errorf("%d requests failed during reloads", n)
	}
	if s, err := get(client(newCert), httpsURL); err != nil || s != 200 {
		t.Fatalf("HTTPS after reload with the new certificate: %d %v", s, err)
	}
	// A broken configuration is refused and the old one stays.
	os.WriteFile(filepath.Join(dir, "key.pem"), []byte("garbage"), 0o600)
	if err := srv.Reload(parseTestConfig(t, dir, extra)); err == nil {
		t.Error("a reload with a broken key file succeeded")
	}
	if s, err := get(client(newCert), httpsURL); err != nil || s != 200 {
		t.Fatalf("HTTPS after a failed reload: %d %v", s, err)
	}
	var metrics bytes.Buffer
	srv.metrics.writeTo(&metrics)
	if !strings.Contains(metrics.String(), `mailsetup_serve_config_reloads_total{result="ok"} 20`) ||
		!strings.Contains(metrics.String(), `mailsetup_serve_config_reloads_total{result="failed"} 1`) {
		t.Errorf("reloads not counted:\n%s", metrics.String())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if _, err := get(&http.Client{Timeout: time.Second}, httpURL); err == nil {
		t.Error("still answering after shutdown")
	}
}

// TestGracefulShutdown checks that a request in flight when shutdown starts
// is answered.
func TestGracefulShutdown(t *testing.T) {
	cfg, err := LoadConfig("testdata/serve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, Listeners{HTTP: ln}) }()

	// Send the headers of a POST and hold back its body: the request is in flight.
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `<Autodiscover><Request><EMailAddress>a@example.test</EMailAddress></Request></Autodiscover>`
	io.WriteString(conn, "POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: example.test\r\nContent-Length: "+
		itoa(len(body))+"\r\n\r\n")
	time.Sleep(100 * time.Millisecond) // the server has read the headers
	cancel()
	time.Sleep(100 * time.Millisecond) // shutdown has begun
	io.WriteString(conn, body)
	reply, _ := io.ReadAll(conn)
	if !bytes.HasPrefix(reply, []byte("HTTP/1.1 200")) || !bytes.Contains(reply, []byte("imap.example.test")) {
		t.Errorf("the request in flight was not answered: %q", reply)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestSlowClientCutOff checks the header timeout: a client that never
// finishes its request line is disconnected.
func TestSlowClientCutOff(t *testing.T) {
	cfg := parseTestConfig(t, "testdata", "timeouts: {read_header: 200ms, read: 300ms}\n")
	srv, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, Listeners{HTTP: ln}) }()
	defer func() { cancel(); <-done }()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /mail/config-v1.1.xml HTTP/1.1\r\nHost: exa")
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.ReadAll(conn) // returns when the server closes the connection
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the slow client was held for %s", d)
	}
}
