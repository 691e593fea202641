package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// pebblePath finds Pebble, Let's Encrypt's ACME test server
// (go install github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.3):
// MAILSETUP_PEBBLE names the binary, else it is looked up in PATH.
func pebblePath(t *testing.T) string {
	if p := os.Getenv("MAILSETUP_PEBBLE"); p != "" {
		return p
	}
	p, err := exec.LookPath("pebble")
	if err != nil {
		t.Skip("Pebble not installed: go install github.com/letsencrypt/pebble/v2/cmd/pebble@v2.10.3, or set MAILSETUP_PEBBLE")
	}
	return p
}

// loopbackDNS answers every A question with 127.0.0.1, over UDP and TCP
// (Pebble asks over TCP), so that Pebble's validation reaches this test's
// server for any .test name.
func loopbackDNS(t *testing.T) string {
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		for _, question := range q.Question {
			if question.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
					A: net.IPv4(127, 0, 0, 1)})
			}
		}
		w.WriteMsg(m)
	})
	for range 20 {
		ln := listen(t)
		pc, err := net.ListenPacket("udp", ln.Addr().String())
		if err != nil {
			ln.Close()
			continue // the UDP port is taken: try another
		}
		for _, srv := range []*dns.Server{{Listener: ln, Handler: handler}, {PacketConn: pc, Handler: handler}} {
			go srv.ActivateAndServe()
			t.Cleanup(func() { srv.Shutdown() })
		}
		return ln.Addr().String()
	}
	t.Fatal("no port free for both UDP and TCP")
	return ""
}

// ipCert is a self-signed certificate for 127.0.0.1, for Pebble's own HTTPS.
func ipCert(t *testing.T, dir string) (certFile, keyFile string) {
	certPEM, keyPEM := selfSigned(t, "127.0.0.1")
	certFile, keyFile = filepath.Join(dir, "pebble-cert.pem"), filepath.Join(dir, "pebble-key.pem")
	os.WriteFile(certFile, certPEM, 0o600)
	os.WriteFile(keyFile, keyPEM, 0o600)
	return certFile, keyFile
}

func freePort(t *testing.T) int {
	ln := listen(t)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestACMEWithPebble runs two replicas on one cache directory, as behind a
// load balancer, against Pebble on loopback. Replica A asks for a
// certificate for autoconfig.example.test; Pebble's HTTP-01 validation
// reaches replica B (its TLS-ALPN-01 port is closed), which answers from the
// shared cache. B then serves the same certificate without asking the CA.
func TestACMEWithPebble(t *testing.T) {
	pebble := pebblePath(t)
	dir := t.TempDir()
	certFile, keyFile := ipCert(t, dir)
	plain, secure := listen(t), listen(t)   // replica A
	plain2, secure2 := listen(t), listen(t) // replica B
	acmePort, mgmtPort, closedPort := freePort(t), freePort(t), freePort(t)
	conf, _ := json.Marshal(map[string]any{"pebble": map[string]any{
		"listenAddress":           "127.0.0.1:" + strconv.Itoa(acmePort),
		"managementListenAddress": "127.0.0.1:" + strconv.Itoa(mgmtPort),
		"certificate":             certFile,
		"privateKey":              keyFile,
		"httpPort":                plain2.Addr().(*net.TCPAddr).Port,
		"tlsPort":                 closedPort,
	}})
	confFile := filepath.Join(dir, "pebble.json")
	os.WriteFile(confFile, conf, 0o600)
	cmd := exec.Command(pebble, "-config", confFile, "-dnsserver", loopbackDNS(t))
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	cmd.Stdout, cmd.Stderr = &testLog{t}, &testLog{t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(acmePort)); err == nil {
			c.Close()
			break
		}
		if i > 100 {
			t.Fatal("Pebble did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}

	extra := fmt.Sprintf("tls: {acme: {accept_tos: true, email: hostmaster@example.test, cache_dir: acme-cache, directory_url: \"https://127.0.0.1:%d/dir\", ca_file: %s}}\n",
		acmePort, certFile)
	start := func(plain, secure net.Listener) {
		cfg := parseTestConfig(t, dir, extra)
		srv, err := New(cfg, slog.New(slog.NewTextHandler(&testLog{t}, &slog.HandlerOptions{Level: slog.LevelDebug})))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx, Listeners{HTTP: plain, HTTPS: secure}) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	start(plain, secure)
	start(plain2, secure2)

	handshake := func(addr, name string) (*x509.Certificate, error) {
		d := &net.Dialer{Timeout: 60 * time.Second}
		conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: name, InsecureSkipVerify: true})
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0], nil
	}
	cert, err := handshake(secure.Addr().String(), "autoconfig.example.test")
	if err != nil {
		t.Fatalf("no certificate from ACME: %v", err)
	}
	if err := cert.VerifyHostname("autoconfig.example.test"); err != nil || cert.Issuer.CommonName == cert.Subject.CommonName {
		t.Fatalf("certificate %v issued by %v: %v", cert.DNSNames, cert.Issuer, err)
	}
	// Verify the chain against Pebble's root, fetched from its management API.
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(certFile)
	pool.AppendCertsFromPEM(pem)
	mgmt := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := mgmt.Get("https://127.0.0.1:" + strconv.Itoa(mgmtPort) + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	rootPEM, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(rootPEM)
	intermediates := x509.NewCertPool()
	resp, err = mgmt.Get("https://127.0.0.1:" + strconv.Itoa(mgmtPort) + "/intermediates/0")
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		intermediates.AppendCertsFromPEM(b)
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, DNSName: "autoconfig.example.test"}); err != nil {
		t.Errorf("the ACME certificate does not chain to Pebble's root: %v", err)
	}

	// The host policy refuses names that are not ours.
	if _, err := handshake(secure.Addr().String(), "evil.test"); err == nil {
		t.Error("a certificate was served for evil.test")
	}

	// Replica B serves the same certificate, from the cache.
	cmd.Process.Kill() // the CA is gone: only the cache can answer
	cert2, err := handshake(secure2.Addr().String(), "autoconfig.example.test")
	if err != nil {
		t.Fatalf("the replica has no certificate: %v", err)
	}
	if cert2.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		t.Errorf("the replica serves another certificate (serial %v, not %v)", cert2.SerialNumber, cert.SerialNumber)
	}
}

// testLog sends the server's log to the test's, shown when it fails.
type testLog struct{ t *testing.T }

func (l *testLog) Write(p []byte) (int, error) {
	l.t.Log(string(p))
	return len(p), nil
}
