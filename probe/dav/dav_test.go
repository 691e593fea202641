package dav

import (
	"context"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/probe/discover"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// scripted is a TLS server on loopback under the name example.com (the
// name httptest's certificate carries) that records what it was sent.
type scripted struct {
	srv  *httptest.Server
	env  netx.Env
	base string
	mu   sync.Mutex
	auth []string // the Authorization header of each request, "" when none
}

func newScripted(t *testing.T, handler http.HandlerFunc) *scripted {
	t.Helper()
	s := &scripted{}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(s.srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(s.srv.Certificate())
	s.env = netx.Env{
		Resolver: &netx.MockResolver{
			Addrs: map[string][]netip.Addr{"example.com": {netip.MustParseAddr("127.0.0.1")}},
			SRV: map[string][]netx.SRV{
				"_caldavs._tcp.example.com": {{Target: "example.com", Port: uint16(port(t, s.srv.URL)), Priority: 0, Weight: 1}},
			},
			TXT: map[string][]string{"_caldavs._tcp.example.com": {"path=/dav/"}},
		},
		Dialer:  &net.Dialer{},
		RootCAs: pool,
	}
	s.base = "https://example.com:" + strconv.Itoa(port(t, s.srv.URL))
	return s
}

func port(t *testing.T, raw string) int {
	t.Helper()
	i := strings.LastIndexByte(raw, ':')
	p, err := strconv.Atoi(raw[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (s *scripted) sent() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.auth...)
}

func multistatusWith(props string) string {
	return `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:response><d:href>/dav/</d:href>` +
		`<d:propstat><d:prop>` + props + `</d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`
}

func wantsBasic(w http.ResponseWriter, r *http.Request) bool {
	if _, _, ok := r.BasicAuth(); !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		w.WriteHeader(http.StatusUnauthorized)
		return false
	}
	return true
}

func opts(env netx.Env) Options { return Options{Env: env, AttemptTimeout: 10 * time.Second} }

// TestDiscoverReadsSRVAndTXTPath: the SRV target and port with the TXT
// path= value make the context URL (RFC 6764 §4, §6).
func TestDiscoverReadsSRVAndTXTPath(t *testing.T) {
	s := newScripted(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	cands, lookups := Discover(t.Context(), opts(s.env), "example.com")
	if len(cands) != 1 || cands[0].Kind != CalDAV || cands[0].URL != s.base+"/dav/" {
		t.Fatalf("candidates %+v; lookups %+v", cands, lookups)
	}
	if src := cands[0].Sources[0]; src.Method != MethodSRV || src.Trust != discover.TrustDomainDNS {
		t.Errorf("source %+v", src)
	}
}

// TestLoginFindsPrincipalAndHomeSet: the context URL names the principal,
// the principal names the home set; both requests carry HTTP Basic.
func TestLoginFindsPrincipalAndHomeSet(t *testing.T) {
	s := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		if !wantsBasic(w, r) {
			return
		}
		w.WriteHeader(http.StatusMultiStatus)
		switch r.URL.Path {
		case "/dav/":
			w.Write([]byte(multistatusWith(`<d:current-user-principal><d:href>/principals/alice/</d:href></d:current-user-principal>`)))
		case "/principals/alice/":
			w.Write([]byte(multistatusWith(`<c:calendar-home-set><d:href>/cal/alice/</d:href></c:calendar-home-set>`)))
		}
	})
	p := NewProver(opts(s.env))
	defer p.Close()
	res := p.Login(t.Context(), Candidate{Kind: CalDAV, URL: s.base + "/dav/"}, "alice", []byte("pw"))
	if !res.LoggedIn || res.Principal != s.base+"/principals/alice/" || len(res.HomeSets) != 1 || res.HomeSets[0] != s.base+"/cal/alice/" {
		t.Fatalf("result %+v", res)
	}
	if res.TLS == nil || res.TLS.SHA256 == "" {
		t.Errorf("no certificate in %+v", res)
	}
	for _, a := range s.sent() {
		if !strings.HasPrefix(a, "Basic ") {
			t.Errorf("a request went without HTTP Basic: %q", a)
		}
	}
}

// TestLoginStaysOnTheOrigin: a principal on another host is not asked,
// and a redirect is not followed with the password.
func TestLoginStaysOnTheOrigin(t *testing.T) {
	s := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved/" {
			http.Redirect(w, r, "https://elsewhere.test/dav/", http.StatusTemporaryRedirect)
			return
		}
		w.WriteHeader(http.StatusMultiStatus)
		w.Write([]byte(multistatusWith(`<d:current-user-principal><d:href>https://attacker.test/p/</d:href></d:current-user-principal>`)))
	})
	p := NewProver(opts(s.env))
	defer p.Close()
	res := p.Login(t.Context(), Candidate{Kind: CalDAV, URL: s.base + "/dav/"}, "alice", []byte("pw"))
	if res.LoggedIn || len(res.Ignored) != 1 || res.Err == nil || !strings.Contains(res.Err.Error(), "another origin") {
		t.Errorf("principal on another origin: %+v", res)
	}
	res = p.Login(t.Context(), Candidate{Kind: CalDAV, URL: s.base + "/moved/"}, "alice", []byte("pw"))
	if res.LoggedIn || res.Err == nil || !strings.Contains(res.Err.Error(), "redirect") {
		t.Errorf("redirect: %+v", res)
	}
	if got := len(s.sent()); got != 2 {
		t.Errorf("%d requests, want 2 (nothing followed)", got)
	}
}

// TestLoginRefusedIsCounted: a 401 to the password is a refusal with the
// server's status line, and the password left.
func TestLoginRefusedIsCounted(t *testing.T) {
	s := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	p := NewProver(opts(s.env))
	defer p.Close()
	res := p.Login(t.Context(), Candidate{Kind: CardDAV, URL: s.base + "/dav/"}, "alice", []byte("wrong"))
	if !res.Refused || !res.PasswordSent || res.LoggedIn || !strings.Contains(res.ServerText, "401") {
		t.Errorf("result %+v", res)
	}
	res = p.Check(t.Context(), Candidate{Kind: CardDAV, URL: s.base + "/dav/"})
	if !res.Answers || !res.Basic || res.PasswordSent || res.Err != nil {
		t.Errorf("check without password: %+v", res)
	}
}

// TestHostileAnswersAreBounded: an endless body, a body past 1 MiB, a
// server that never answers: each ends in an error within the attempt
// bound, whatever the machine's speed (the bound is the context's).
func TestHostileAnswersAreBounded(t *testing.T) {
	release := make(chan struct{})
	s := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big/":
			w.WriteHeader(http.StatusMultiStatus)
			w.Write([]byte(`<d:multistatus xmlns:d="DAV:">`))
			chunk := []byte(strings.Repeat("<d:x/>", 1024))
			for range 300 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "/silent/":
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/deep/":
			w.WriteHeader(http.StatusMultiStatus)
			w.Write([]byte(`<d:multistatus xmlns:d="DAV:">` + strings.Repeat("<d:a>", 1000) + strings.Repeat("</d:a>", 1000) + `</d:multistatus>`))
		}
	})
	defer close(release)
	p := NewProver(opts(s.env))
	defer p.Close()
	for _, path := range []string{"/big/", "/deep/"} {
		res := p.Login(t.Context(), Candidate{Kind: CalDAV, URL: s.base + path}, "alice", []byte("pw"))
		if res.LoggedIn || res.Err == nil {
			t.Errorf("%s: %+v", path, res)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	res := p.Login(ctx, Candidate{Kind: CalDAV, URL: s.base + "/silent/"}, "alice", []byte("pw"))
	if res.LoggedIn || res.Err == nil || !res.PasswordSent {
		t.Errorf("silent: %+v", res)
	}
}

// TestPlaintextNeverGetsThePassword: an http URL is refused before any
// connection.
func TestPlaintextNeverGetsThePassword(t *testing.T) {
	p := NewProver(Options{Env: netx.Env{Resolver: &netx.MockResolver{}, Dialer: &net.Dialer{}}})
	defer p.Close()
	res := p.Login(t.Context(), Candidate{Kind: CalDAV, URL: "http://example.com/dav/"}, "alice", []byte("pw"))
	if res.PasswordSent || res.Reachable || res.Err != ErrPlaintext {
		t.Errorf("result %+v", res)
	}
}

// TestJMAPSession: the session resource with urn:ietf:params:jmap:core is
// proven; one without it is not.
func TestJMAPSession(t *testing.T) {
	s := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		if !wantsBasic(w, r) {
			return
		}
		if r.URL.Path == "/bad" {
			w.Write([]byte(`{"capabilities":{"urn:x":{}}}`))
			return
		}
		w.Write([]byte(`{"capabilities":{"urn:ietf:params:jmap:core":{},"urn:ietf:params:jmap:mail":{}},"username":"alice","apiUrl":"/api/"}`))
	})
	p := NewProver(opts(s.env))
	defer p.Close()
	res := p.Login(t.Context(), Candidate{Kind: JMAP, URL: s.base + "/.well-known/jmap"}, "alice", []byte("pw"))
	if !res.LoggedIn || res.APIURL != s.base+"/api/" || len(res.Capabilities) != 2 || res.Username != "alice" {
		t.Errorf("session: %+v", res)
	}
	res = p.Login(t.Context(), Candidate{Kind: JMAP, URL: s.base + "/bad"}, "alice", []byte("pw"))
	if res.LoggedIn || res.Err == nil {
		t.Errorf("session without core: %+v", res)
	}
}

// TestWellKnownStopsAtTheContextPath: the well-known redirect's target is
// the context path, whatever that answers to a GET (Radicale redirects "/"
// to its web interface, "/.web").
func TestWellKnownStopsAtTheContextPath(t *testing.T) {
	s := newScripted(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/caldav":
			http.Redirect(w, r, "/", http.StatusMovedPermanently)
		case "/":
			http.Redirect(w, r, "/.web", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})
	s.env.Resolver.(*netx.MockResolver).TXT = nil
	cands, lookups := Discover(t.Context(), opts(s.env), "example.com")
	if len(cands) != 1 || cands[0].URL != s.base+"/" {
		t.Fatalf("candidates %+v; lookups %+v", cands, lookups)
	}
}

// TestForbiddenIsNoRefusal: a 403 after HTTP Basic means the login was
// accepted and the URL is not the user's; it must not count as a wrong
// password.
func TestForbiddenIsNoRefusal(t *testing.T) {
	s := newScripted(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) })
	p := NewProver(opts(s.env))
	defer p.Close()
	res := p.Login(t.Context(), Candidate{Kind: CalDAV, URL: s.base + "/x/"}, "alice", []byte("pw"))
	if res.Refused || res.LoggedIn || res.Err == nil || !res.PasswordSent {
		t.Errorf("result %+v", res)
	}
}

// TestInvalidCertificateGetsNoPassword: a server whose certificate does
// not verify gets no request at all, so the password never leaves.
func TestInvalidCertificateGetsNoPassword(t *testing.T) {
	s := newScripted(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusMultiStatus) })
	s.env.RootCAs = x509.NewCertPool() // trusts nothing
	p := NewProver(opts(s.env))
	defer p.Close()
	res := p.Login(t.Context(), Candidate{Kind: CalDAV, URL: s.base + "/dav/"}, "alice", []byte("pw"))
	if res.PasswordSent || res.LoggedIn || res.Err == nil || !strings.Contains(res.Err.Error(), "certificate") {
		t.Errorf("result %+v", res)
	}
	if got := s.sent(); len(got) != 0 {
		t.Errorf("the server got %d requests", len(got))
	}
}
