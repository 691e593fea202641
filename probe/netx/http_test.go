package netx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
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

	"github.com/mailsetup/mailsetup/internal/testnet"
)

// plan is a dialer that maps "ip:port" of a simulated address plan onto
// real listeners and refuses every other address.
func plan(routes map[string]string) *testnet.Dialer {
	d := &testnet.Dialer{}
	for from, to := range routes {
		d.Route(from, to)
	}
	return d
}

func serveTLS(t *testing.T, h http.Handler, names ...string) (listen string, pool *x509.CertPool) {
	t.Helper()
	ca := testnet.NewCA(t, "netx test CA")
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.Leaf(t, names...)}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted-client test makes it complain
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), ca.Pool()
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
		Dialer:   plan(map[string]string{"127.0.0.5:443": listen}),
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
	d := plan(map[string]string{"127.0.0.7:993": l.Addr().String()})
	d.Hang("[fd00::1]:993")
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
	caPEM := testnet.NewCA(t, "netx test CA").PEM()
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
		Dialer: plan(map[string]string{
			"192.0.2.10:80":    serve("public", redirect("http://inside.test/")),
			"198.51.100.20:80": serve("public2", ok),
			"127.0.0.22:80":    serve("inside", ok),
			"10.1.2.3:80":      serve("lan", ok),
			"127.0.0.30:80":    serve("box", redirect("http://box2.test/")),
			"127.0.0.31:80":    serve("box2", ok),
		}),
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
	env.Dialer.(*testnet.Dialer).Route("192.0.2.10:80", serve("public-lan", redirect("http://lan.test/")))
	if err := get("http://public.test/"); !errors.Is(err, ErrPrivateRedirect) {
		t.Errorf("redirect from a public host to a private network: %v, want %v", err, ErrPrivateRedirect)
	}
	env.Dialer.(*testnet.Dialer).Route("192.0.2.10:80", serve("public-literal", redirect("http://127.0.0.22/")))
	if err := get("http://public.test/"); !errors.Is(err, ErrPrivateRedirect) {
		t.Errorf("redirect from a public host to a loopback literal: %v, want %v", err, ErrPrivateRedirect)
	}
	env.Dialer.(*testnet.Dialer).Route("192.0.2.10:80", serve("public-public", redirect("http://public2.test/")))
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
