package discover

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/testnet"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// testWorld is a small simulated internet for one test: a map-based
// resolver, one https and one http server that route by host and path,
// a listener standing in for every mail port, and a dialer that maps each
// host's plan address onto them (silent ports hang, the rest refuse).
type testWorld struct {
	t        *testing.T
	resolver *netx.MockResolver
	dial     *testnet.Dialer
	pool     *x509.CertPool
	httpsL   string
	httpL    string
	mailL    string

	mu       sync.Mutex
	nextIP   int
	handlers map[string]http.HandlerFunc
	requests []seenRequest
}

// seenRequest is what a test server received.
type seenRequest struct {
	URL    string // scheme://host/path?query
	Method string
	Body   string
	Auth   string
}

func newTestWorld(t *testing.T) *testWorld {
	w := &testWorld{
		t:        t,
		resolver: &netx.MockResolver{SRV: map[string][]netx.SRV{}, MX: map[string][]netx.MX{}, Addrs: map[string][]netip.Addr{}, Fail: map[string]error{}},
		dial:     &testnet.Dialer{},
		handlers: map[string]http.HandlerFunc{},
		nextIP:   10,
	}
	ca := testnet.NewCA(t, "discover test CA")
	w.pool = ca.Pool()
	h := http.HandlerFunc(w.serveHTTP)
	tlsSrv := httptest.NewUnstartedServer(h)
	tlsSrv.TLS = &tls.Config{GetCertificate: ca.GetCertificate}
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // clients hanging up mid-handshake are expected
	tlsSrv.StartTLS()
	plain := httptest.NewServer(h)
	mail, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := mail.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { tlsSrv.Close(); plain.Close(); mail.Close() })
	w.httpsL, w.httpL, w.mailL = tlsSrv.Listener.Addr().String(), plain.Listener.Addr().String(), mail.Addr().String()
	return w
}

// host gives name an address and serves the given ports there: 443 and
// 80 by the web servers, any other by the mail listener.
func (w *testWorld) host(name string, ports ...int) netip.Addr {
	w.mu.Lock()
	defer w.mu.Unlock()
	ip, ok := netip.Addr{}, false
	if a := w.resolver.Addrs[name]; len(a) > 0 {
		ip, ok = a[0], true
	}
	if !ok {
		ip = netip.AddrFrom4([4]byte{127, 0, 1, byte(w.nextIP)})
		w.nextIP++
		w.resolver.Addrs[name] = []netip.Addr{ip}
	}
	for _, p := range ports {
		to := w.mailL
		switch p {
		case 443:
			to = w.httpsL
		case 80:
			to = w.httpL
		}
		w.dial.Route(net.JoinHostPort(ip.String(), strconv.Itoa(p)), to)
	}
	return ip
}

// blackhole gives name an address whose ports accept nothing and never
// refuse: connections hang until the caller's deadline.
func (w *testWorld) blackhole(name string, ports ...int) {
	ip := w.host(name)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range ports {
		w.dial.Hang(net.JoinHostPort(ip.String(), strconv.Itoa(p)))
	}
}

// handle serves rawURL ("https://host/path", no query) with h and makes
// the host reachable on the URL's port.
func (w *testWorld) handle(rawURL string, h http.HandlerFunc) {
	scheme, rest, _ := strings.Cut(rawURL, "://")
	host, _, _ := strings.Cut(rest, "/")
	port := 443
	if scheme == "http" {
		port = 80
	}
	w.host(host, port)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.handlers[rawURL] = h
}

func (w *testWorld) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	body, _ := io.ReadAll(r.Body)
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	key := scheme + "://" + host + r.URL.Path
	w.mu.Lock()
	full := key
	if r.URL.RawQuery != "" {
		full += "?" + r.URL.RawQuery
	}
	w.requests = append(w.requests, seenRequest{URL: full, Method: r.Method, Body: string(body), Auth: r.Header.Get("Authorization")})
	h := w.handlers[key]
	w.mu.Unlock()
	if h == nil {
		http.NotFound(rw, r)
		return
	}
	r.Body = io.NopCloser(strings.NewReader(string(body)))
	h(rw, r)
}

func (w *testWorld) env() netx.Env {
	return netx.Env{Resolver: w.resolver, Dialer: w.dial, RootCAs: w.pool}
}

func (w *testWorld) seen() []seenRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]seenRequest(nil), w.requests...)
}

// options are test defaults: seeded randomness, short timeouts, the test
// ISPDB.
func (w *testWorld) options() Options {
	return Options{
		Env:               w.env(),
		ISPDBURL:          "https://ispdb.test/v1.1",
		Rand:              mrand.New(mrand.NewPCG(1, 2)),
		PerAttemptTimeout: 2 * time.Second,
		GuessDelay:        time.Second,
	}
}

// configHandler serves a config-v1.1 document for p.
func configHandler(p *autoconfig.Provider) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/xml")
		if err := autoconfig.WriteConfig(rw, p); err != nil {
			panic(err)
		}
	}
}

// provider builds a Provider for domain from "proto host:port security"
// strings.
func provider(domain string, servers ...string) *autoconfig.Provider {
	p := &autoconfig.Provider{ID: domain, Domains: []string{domain}, DisplayName: domain}
	for _, s := range servers {
		f := strings.Fields(s)
		host, port, _ := net.SplitHostPort(f[1])
		n, _ := strconv.Atoi(port)
		srv := autoconfig.Server{
			Protocol: autoconfig.Protocol(f[0]), Hostname: host, Port: n, Security: autoconfig.Security(f[2]),
			Auth: []autoconfig.AuthMethod{autoconfig.AuthPasswordCleartext}, Username: "%EMAILADDRESS%",
		}
		if srv.Protocol == autoconfig.SMTP {
			p.Outgoing = append(p.Outgoing, srv)
		} else {
			p.Incoming = append(p.Incoming, srv)
		}
	}
	return p
}

// autodiscoverHandler answers every POST with resp; a GET gets 405.
func autodiscoverHandler(resp func(email string) *autoconfig.AutodiscoverResponse) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(rw, "POST only", http.StatusMethodNotAllowed)
			return
		}
		req, err := autoconfig.ReadAutodiscoverRequest(r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		rw.Header().Set("Content-Type", "text/xml")
		resp(req.EMailAddress).WriteTo(rw)
	}
}

// summary is a candidate as "proto host:port security <- method,method".
func summary(res *Result) []string {
	var out []string
	for _, c := range res.Candidates {
		var methods []string
		for _, s := range c.Sources {
			methods = append(methods, s.Method)
		}
		out = append(out, fmt.Sprintf("%s %s:%d %s <- %s", c.Server.Protocol, c.Server.Hostname, c.Server.Port, c.Server.Security, strings.Join(methods, ",")))
	}
	return out
}

func lookupsOf(res *Result, method string) []Lookup {
	var out []Lookup
	for _, l := range res.Lookups {
		if l.Method == method {
			out = append(out, l)
		}
	}
	return out
}
