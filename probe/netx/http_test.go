package netx

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCA issues a certificate for names, signed by a fresh CA, and returns
// the CA as a pool and as PEM.
func testCA(t *testing.T, names ...string) (tls.Certificate, *x509.CertPool, []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "netx test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}, pool,
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
}

// planDialer maps "ip:port" of a simulated address plan onto real
// listeners; other addresses fail, except those in silent, which hang until
// the context ends. It counts the dials.
type planDialer struct {
	plan   map[string]string
	silent map[string]bool
	mu     sync.Mutex
	dialed []string
}

func (p *planDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	p.mu.Lock()
	p.dialed = append(p.dialed, addr)
	p.mu.Unlock()
	if p.silent[addr] {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	to, ok := p.plan[addr]
	if !ok {
		return nil, fmt.Errorf("connect %s: connection refused", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, to)
}

func serveTLS(t *testing.T, h http.Handler, names ...string) (listen string, pool *x509.CertPool) {
	t.Helper()
	cert, pool, _ := testCA(t, names...)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted-client test makes it complain
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), pool
}

func TestHTTPClientResolvesAndDialsThroughEnv(t *testing.T) {
	listen, pool := serveTLS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/doc":
			fmt.Fprint(w, "hello "+r.Host)
		case "/to-http":
			http.Redirect(w, r, "http://autoconfig.a.test/doc", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/big":
			w.Write(make([]byte, MaxBodySize+1))
		}
	}), "autoconfig.a.test")
	env := Env{
		Resolver: &MockResolver{Addrs: map[string][]netip.Addr{"autoconfig.a.test": {netip.MustParseAddr("127.0.0.5")}}},
		Dialer:   &planDialer{plan: map[string]string{"127.0.0.5:443": listen}},
		RootCAs:  pool,
	}
	client := HTTPClient(env, HTTPOptions{Timeout: 5 * time.Second})
	defer client.CloseIdleConnections()

	resp, err := client.Get("https://autoconfig.a.test/doc")
	if err != nil {
		t.Fatal(err)
	}
	body, err := ReadBody(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != "hello autoconfig.a.test" {
		t.Errorf("body = %q, %v", body, err)
	}

	tests := []struct {
		path string
		want error
	}{
		{"/to-http", ErrInsecureRedirect},
		{"/loop", ErrTooManyRedirect},
	}
	for _, tt := range tests {
		_, err := client.Get("https://autoconfig.a.test" + tt.path)
		if !errors.Is(err, tt.want) {
			t.Errorf("GET %s: error = %v; want %v", tt.path, err, tt.want)
		}
	}

	resp, err = client.Get("https://autoconfig.a.test/big")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ReadBody(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, ErrBodyTooLarge) {
		t.Errorf("big body: error = %v; want ErrBodyTooLarge", err)
	}

	noFollow := HTTPClient(env, HTTPOptions{NoRedirects: true})
	resp, err = noFollow.Get("https://autoconfig.a.test/loop")
	if err != nil || resp.StatusCode != http.StatusFound {
		t.Errorf("NoRedirects: %v, %v; want the 302 itself", resp, err)
	}

	// Without the test CA the same server is refused.
	env.RootCAs = x509.NewCertPool()
	if _, err := HTTPClient(env, HTTPOptions{}).Get("https://autoconfig.a.test/doc"); err == nil {
		t.Error("untrusted certificate accepted")
	}
}

func TestDialHostSkipsSilentAddress(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	r := &MockResolver{Addrs: map[string][]netip.Addr{"imap.a.test": {
		netip.MustParseAddr("fd00::1"), netip.MustParseAddr("127.0.0.7"),
	}}}
	d := &planDialer{plan: map[string]string{"127.0.0.7:993": l.Addr().String()}, silent: map[string]bool{"[fd00::1]:993": true}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	c, err := DialHost(ctx, r, d, "tcp", "imap.a.test:993")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if el := time.Since(start); el > time.Second {
		t.Errorf("a silent first address cost %v; want about %v", el, connectStagger)
	}

	_, err = DialHost(ctx, r, d, "tcp", "none.a.test:993")
	if !errors.Is(err, ErrNoAddress) || !strings.Contains(err.Error(), "none.a.test") {
		t.Errorf("no address: %v", err)
	}
	_, err = DialHost(ctx, r, d, "tcp", "imap.a.test:995")
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("refused everywhere: %v", err)
	}
}

func TestInterleave(t *testing.T) {
	in := []netip.Addr{
		netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2"),
		netip.MustParseAddr("::1"), netip.MustParseAddr("127.0.0.3"),
	}
	got := fmt.Sprint(interleave(in))
	if want := "[::1 127.0.0.1 127.0.0.2 127.0.0.3]"; got != want {
		t.Errorf("interleave = %s; want %s", got, want)
	}
}

func TestLoadRootCAs(t *testing.T) {
	dir := t.TempDir()
	_, _, caPEM := testCA(t, "x.test")
	good := filepath.Join(dir, "ca.pem")
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(good, caPEM, 0o600)
	os.WriteFile(bad, []byte("not a certificate"), 0o600)

	if pool, err := LoadRootCAs("", ""); pool != nil || err != nil {
		t.Errorf("no files: %v, %v; want nil, nil (system roots)", pool, err)
	}
	if pool, err := LoadRootCAs(good, ""); pool == nil || err != nil {
		t.Errorf("good file: %v, %v", pool, err)
	}
	if _, err := LoadRootCAs(bad); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("bad file: %v", err)
	}
	if _, err := LoadRootCAs(filepath.Join(dir, "missing.pem")); err == nil {
		t.Error("missing file accepted")
	}
}

// A redirect from a public host never reaches loopback or private space
// (issue 11: an autoconfig fetch was sent on to a local SSH port), by name
// or by address literal; between hosts that are private anyway (the
// sandbox) redirects still work; and no hop learns the last one's URL from
// a Referer header (it may carry ?emailaddress=).
func TestHTTPClientRedirects(t *testing.T) {
	var mu sync.Mutex
	hits := map[string][]string{} // server -> Referer headers it saw
	serve := func(name string, h http.HandlerFunc) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hits[name] = append(hits[name], r.Header.Get("Referer"))
			mu.Unlock()
			h(w, r)
		}))
		t.Cleanup(srv.Close)
		return strings.TrimPrefix(srv.URL, "http://")
	}
	redirect := func(to string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) }
	}
	ok := func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }
	addr := netip.MustParseAddr
	env := Env{
		Resolver: &MockResolver{Addrs: map[string][]netip.Addr{
			"public.test":  {addr("192.0.2.10")},
			"public2.test": {addr("198.51.100.20")},
			"inside.test":  {addr("127.0.0.22")},
			"lan.test":     {addr("10.1.2.3")},
			"box.test":     {addr("127.0.0.30")},
			"box2.test":    {addr("127.0.0.31")},
		}},
		Dialer: &planDialer{plan: map[string]string{
			"192.0.2.10:80":    serve("public", redirect("http://inside.test/")),
			"198.51.100.20:80": serve("public2", ok),
			"127.0.0.22:80":    serve("inside", ok),
			"10.1.2.3:80":      serve("lan", ok),
			"127.0.0.30:80":    serve("box", redirect("http://box2.test/")),
			"127.0.0.31:80":    serve("box2", ok),
		}},
	}
	client := HTTPClient(env, HTTPOptions{Timeout: 5 * time.Second})
	defer client.CloseIdleConnections()
	get := func(u string) error {
		client.CloseIdleConnections() // the plan changes between requests
		resp, err := client.Get(u)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}

	if err := get("http://public.test/mail/config-v1.1.xml?emailaddress=alice%40a.test"); !errors.Is(err, ErrPrivateRedirect) {
		t.Errorf("redirect from a public host to loopback: %v, want %v", err, ErrPrivateRedirect)
	}
	env.Dialer.(*planDialer).plan["192.0.2.10:80"] = serve("public-lan", redirect("http://lan.test/"))
	if err := get("http://public.test/"); !errors.Is(err, ErrPrivateRedirect) {
		t.Errorf("redirect from a public host to a private network: %v, want %v", err, ErrPrivateRedirect)
	}
	env.Dialer.(*planDialer).plan["192.0.2.10:80"] = serve("public-literal", redirect("http://127.0.0.22/"))
	if err := get("http://public.test/"); !errors.Is(err, ErrPrivateRedirect) {
		t.Errorf("redirect from a public host to a loopback literal: %v, want %v", err, ErrPrivateRedirect)
	}
	env.Dialer.(*planDialer).plan["192.0.2.10:80"] = serve("public-public", redirect("http://public2.test/"))
	if err := get("http://public.test/mail/config-v1.1.xml?emailaddress=alice%40a.test"); err != nil {
		t.Errorf("redirect between public hosts: %v", err)
	}
	if err := get("http://box.test/"); err != nil {
		t.Errorf("redirect between loopback hosts: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(hits["inside"]) != 0 || len(hits["lan"]) != 0 {
		t.Errorf("private servers were reached: %v", hits)
	}
	if len(hits["public2"]) != 1 || hits["public2"][0] != "" || len(hits["box2"]) != 1 || hits["box2"][0] != "" {
		t.Errorf("Referer headers sent on redirects: %q", hits)
	}
}
