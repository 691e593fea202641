package discover

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/netx"
)

var alice = autoconfig.Address{LocalPart: "alice+tag", Domain: "a.test", DomainUnicode: "a.test"}

func runWorld(t *testing.T, w *testWorld, opts Options, addr autoconfig.Address) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return Run(ctx, opts, addr, nil)
}

func TestMethods(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(w *testWorld)
		opts    func(o *Options)
		addr    autoconfig.Address
		want    []string
		trust   map[string]Trust // method -> trust of its sources
		checkFn func(t *testing.T, w *testWorld, res *Result)
	}{
		{
			name: "SRV priority, implicit TLS first, port 0 absent",
			setup: func(w *testWorld) {
				w.resolver.SRV["_imaps._tcp.a.test"] = []netx.SRV{
					{Target: "backup.a.test", Port: 993, Priority: 20},
					{Target: "imap.a.test", Port: 993, Priority: 10},
					{Target: "zero.a.test", Port: 0, Priority: 0},
				}
				w.resolver.SRV["_imap._tcp.a.test"] = []netx.SRV{{Target: "imap.a.test", Port: 143}}
				w.resolver.SRV["_submission._tcp.a.test"] = []netx.SRV{{Target: "smtp.a.test", Port: 587}}
				w.resolver.Authentic = map[string]bool{"SRV _imaps._tcp.a.test": true}
				w.host("imap.a.test", 993, 143)
			},
			want: []string{
				"imap imap.a.test:993 tls <- srv",
				"imap backup.a.test:993 tls <- srv",
				"imap imap.a.test:143 starttls <- srv",
				"smtp smtp.a.test:587 starttls <- srv",
			},
			checkFn: func(t *testing.T, w *testWorld, res *Result) {
				if tr := res.Candidates[0].Sources[0].Trust; tr != TrustDNSSEC {
					t.Errorf("authenticated SRV trust = %s; want dnssec", tr)
				}
				for _, l := range lookupsOf(res, MethodSRV) {
					if l.Authenticated != (l.Target == "_imaps._tcp.a.test") {
						t.Errorf("lookup %s authenticated = %v", l.Target, l.Authenticated)
					}
				}
				if tr := res.Candidates[2].Sources[0].Trust; tr != TrustDomainDNS {
					t.Errorf("unauthenticated SRV trust = %s; want domain-dns", tr)
				}
				for _, d := range w.dial.Dials() {
					if strings.HasSuffix(d, ":993") || strings.HasSuffix(d, ":143") {
						t.Errorf("guessed %s although SRV named the servers", d)
					}
				}
			},
		},
		{
			name: "SRV target dot: not offered, not guessed",
			setup: func(w *testWorld) {
				w.resolver.SRV["_pop3s._tcp.a.test"] = []netx.SRV{{Target: ".", Port: 0}}
				w.resolver.SRV["_pop3._tcp.a.test"] = []netx.SRV{{Target: ".", Port: 0}}
				w.resolver.SRV["_imaps._tcp.a.test"] = []netx.SRV{{Target: ".", Port: 0}}
				w.host("a.test", 993, 995, 110, 143)
				w.host("mail.a.test", 995, 143)
			},
			opts: func(o *Options) { o.GuessDelay = -1 },
			want: []string{
				"imap mail.a.test:143 starttls <- guess",
				"imap a.test:143 starttls <- guess",
			},
			checkFn: func(t *testing.T, w *testWorld, res *Result) {
				if fmt.Sprint(res.NotOffered) != "[pop3]" {
					t.Errorf("NotOffered = %v; want [pop3]", res.NotOffered)
				}
				for _, d := range w.dial.Dials() {
					if strings.HasSuffix(d, ":995") || strings.HasSuffix(d, ":110") || strings.HasSuffix(d, ":993") {
						t.Errorf("dialed %s although SRV said the service is not offered", d)
					}
				}
			},
		},
		{
			name: "autoconfig subdomain gets the address, encoded",
			setup: func(w *testWorld) {
				w.handle("https://autoconfig.a.test/mail/config-v1.1.xml", configHandler(provider("a.test",
					"imap mail.%EMAILDOMAIN%:993 tls", "pop3 mail.a.test:995 tls", "smtp mail.a.test:465 tls")))
			},
			want: []string{
				"imap mail.a.test:993 tls <- autoconfig",
				"pop3 mail.a.test:995 tls <- autoconfig",
				"smtp mail.a.test:465 tls <- autoconfig",
			},
			trust: map[string]Trust{MethodAutoconfig: TrustDomainHTTPS},
			checkFn: func(t *testing.T, w *testWorld, res *Result) {
				want := "https://autoconfig.a.test/mail/config-v1.1.xml?emailaddress=alice%2Btag%40a.test"
				if !slices.ContainsFunc(w.seen(), func(r seenRequest) bool { return r.URL == want }) {
					t.Errorf("no request for %s in %v", want, w.seen())
				}
				if p := res.Providers[MethodAutoconfig]; p == nil || p.Incoming[0].Username != "%EMAILADDRESS%" {
					t.Errorf("provider = %+v; want the published settings with the username template", p)
				}
				if l := lookupsOf(res, MethodAutoconfig); len(l) != 1 || l[0].Sent != sentAddressInURL || l[0].Status != StatusFound {
					t.Errorf("lookups = %+v", l)
				}
				if len(lookupsOf(res, MethodAutoconfigHTTP)) != 0 {
					t.Error("plain http tried although https found settings")
				}
			},
		},
		{
			name: "private: no address in the URL, no ISPDB, no MX",
			setup: func(w *testWorld) {
				w.handle("https://a.test/.well-known/autoconfig/mail/config-v1.1.xml", configHandler(provider("a.test", "imap mail.a.test:993 tls")))
				w.handle("https://ispdb.test/v1.1/a.test", configHandler(provider("a.test", "imap isp.a.test:993 tls")))
				w.resolver.MX["a.test"] = []netx.MX{{Host: "mx.big.test", Pref: 10}}
				w.handle("https://autodiscover.a.test/autodiscover/autodiscover.xml", autodiscoverHandler(func(string) *autoconfig.AutodiscoverResponse {
					return autoconfig.NewAutodiscoverError(500, "unknown")
				}))
			},
			opts: func(o *Options) { o.Private = true; o.AutodiscoverPassword = []byte("secret") },
			want: []string{"imap mail.a.test:993 tls <- well-known"},
			checkFn: func(t *testing.T, w *testWorld, res *Result) {
				for _, r := range w.seen() {
					if strings.Contains(r.URL, "alice") || strings.Contains(r.URL, "ispdb") || strings.Contains(r.URL, "big.test") || r.Auth != "" {
						t.Errorf("private run sent %+v", r)
					}
				}
				if !slices.ContainsFunc(w.seen(), func(r seenRequest) bool { return strings.HasPrefix(r.URL, "https://autodiscover.a.test") }) {
					t.Error("the domain's own Autodiscover was not asked")
				}
				for _, m := range []string{MethodISPDB, MethodMXISPDB, MethodMXAutoconfig} {
					if l := lookupsOf(res, m); len(l) != 1 || l[0].Status != StatusSkipped {
						t.Errorf("%s lookups = %+v; want one skipped", m, l)
					}
				}
			},
		},
		{
			name: "plain http only as the last resort, without the address",
			setup: func(w *testWorld) {
				w.handle("http://autoconfig.a.test/mail/config-v1.1.xml", configHandler(provider("a.test", "imap mail.a.test:993 tls")))
			},
			want:  []string{"imap mail.a.test:993 tls <- autoconfig-http"},
			trust: map[string]Trust{MethodAutoconfigHTTP: TrustPlainHTTP},
			checkFn: func(t *testing.T, w *testWorld, res *Result) {
				for _, r := range w.seen() {
					if strings.HasPrefix(r.URL, "http:") && strings.Contains(r.URL, "alice") {
						t.Errorf("address sent over plain http: %s", r.URL)
					}
				}
			},
		},
		{
			name: "ISPDB gets the domain only",
			setup: func(w *testWorld) {
				w.handle("https://ispdb.test/v1.1/a.test", configHandler(provider("a.test", "imap imap.isp.test:993 tls", "smtp smtp.isp.test:465 tls")))
			},
			want:  []string{"imap imap.isp.test:993 tls <- ispdb", "smtp smtp.isp.test:465 tls <- ispdb"},
			trust: map[string]Trust{MethodISPDB: TrustThirdParty},
			checkFn: func(t *testing.T, w *testWorld, res *Result) {
				for _, r := range w.seen() {
					if strings.Contains(r.URL, "ispdb") && r.URL != "https://ispdb.test/v1.1/a.test" {
						t.Errorf("ISPDB request %s; want the domain only", r.URL)
					}
				}
			},
		},
		{
			name: "no ISPDB URL, no ISPDB",
			opts: func(o *Options) { o.ISPDBURL = ""; o.GuessDelay = -1 },
			checkFn: func(t *testing.T, w *testWorld, res *Result) {
				if l := lookupsOf(res, MethodISPDB); len(l) != 1 || l[0].Status != StatusSkipped {
					t.Errorf("ISPDB lookups = %+v; want one skipped", l)
				}
			},
		},
		{
			name: "MX at a big provider: its subdomain and registrable domain",
			setup: func(w *testWorld) {
				w.resolver.MX["a.test"] = []netx.MX{{Host: "mx2.eu.big.test", Pref: 20}, {Host: "mx1.eu.big.test", Pref: 10}}
				w.handle("https://ispdb.test/v1.1/big.test", configHandler(provider("big.test", "imap imap.big.test:993 tls")))
				w.handle("https://autoconfig.eu.big.test/mail/config-v1.1.xml", configHandler(provider("big.test", "imap imap.eu.big.test:993 tls")))
			},
			want:  []string{"imap imap.big.test:993 tls <- mx-ispdb", "imap imap.eu.big.test:993 tls <- mx-autoconfig"},
			trust: map[string]Trust{MethodMXISPDB: TrustThirdParty, MethodMXAutoconfig: TrustThirdParty},
			checkFn: func(t *testing.T, w *testWorld, res *Result) {
				for _, r := range w.seen() {
					if strings.Contains(r.URL, "big.test") && strings.Contains(r.URL, "alice") {
						t.Errorf("address sent to the MX provider: %s", r.URL)
					}
				}
			},
		},
		{
			name: "Autodiscover POST with body, redirectAddr then settings",
			setup: func(w *testWorld) {
				w.handle("https://autodiscover.a.test/autodiscover/autodiscover.xml", autodiscoverHandler(func(email string) *autoconfig.AutodiscoverResponse {
					return autoconfig.NewAutodiscoverRedirectAddr("alice@b.test")
				}))
				w.handle("https://autodiscover.b.test/autodiscover/autodiscover.xml", autodiscoverHandler(func(email string) *autoconfig.AutodiscoverResponse {
					if email != "alice@b.test" {
						return autoconfig.NewAutodiscoverError(500, "unknown "+email)
					}
					return autoconfig.NewAutodiscoverResponse(provider("b.test", "imap imap.b.test:993 tls", "smtp smtp.b.test:587 starttls"), alice)
				}))
			},
			want:  []string{"imap imap.b.test:993 tls <- autodiscover", "smtp smtp.b.test:587 starttls <- autodiscover"},
			trust: map[string]Trust{MethodAutodiscover: TrustThirdParty},
			checkFn: func(t *testing.T, w *testWorld, res *Result) {
				for _, r := range w.seen() {
					if strings.Contains(r.URL, "autodiscover") && r.Method == http.MethodPost && !strings.Contains(r.Body, "<EMailAddress>") {
						t.Errorf("POST without the request body: %+v", r)
					}
				}
				if res.Providers[MethodAutodiscover] == nil {
					t.Error("no Autodiscover provider recorded")
				}
			},
		},
		{
			name: "Autodiscover HTTP-redirect method and redirectUrl",
			setup: func(w *testWorld) {
				w.handle("http://autodiscover.a.test/autodiscover/autodiscover.xml", func(rw http.ResponseWriter, r *http.Request) {
					http.Redirect(rw, r, "https://hoster.test/autodiscover/autodiscover.xml", http.StatusFound)
				})
				w.handle("https://hoster.test/autodiscover/autodiscover.xml", autodiscoverHandler(func(string) *autoconfig.AutodiscoverResponse {
					return autoconfig.NewAutodiscoverRedirectURL("https://ad.hoster.test/Autodiscover/Autodiscover.xml")
				}))
				w.handle("https://ad.hoster.test/Autodiscover/Autodiscover.xml", autodiscoverHandler(func(string) *autoconfig.AutodiscoverResponse {
					return autoconfig.NewAutodiscoverResponse(provider("a.test", "imap imap.hoster.test:993 tls"), alice)
				}))
			},
			opts:  func(o *Options) { o.AutodiscoverPassword = []byte("secret") },
			want:  []string{"imap imap.hoster.test:993 tls <- autodiscover"},
			trust: map[string]Trust{MethodAutodiscover: TrustPlainHTTP},
			checkFn: func(t *testing.T, w *testWorld, res *Result) {
				for _, r := range w.seen() {
					if strings.Contains(r.URL, "hoster.test") && r.Auth != "" {
						t.Errorf("password sent outside the domain: %+v", r)
					}
					if strings.HasPrefix(r.URL, "http:") && r.Body != "" {
						t.Errorf("body sent over plain http: %+v", r)
					}
				}
			},
		},
		{
			name: "Autodiscover SRV, credentials only inside the domain",
			setup: func(w *testWorld) {
				w.resolver.SRV["_autodiscover._tcp.a.test"] = []netx.SRV{{Target: "exch.a.test", Port: 8443}}
				w.host("exch.a.test")
				w.mu.Lock()
				w.dial.Route(w.resolver.Addrs["exch.a.test"][0].String()+":8443", w.httpsL)
				w.handlers["https://exch.a.test/autodiscover/autodiscover.xml"] = func(rw http.ResponseWriter, r *http.Request) {
					if u, p, ok := r.BasicAuth(); !ok || u != "alice+tag@a.test" || p != "secret" {
						rw.Header().Set("WWW-Authenticate", "Basic")
						http.Error(rw, "login", http.StatusUnauthorized)
						return
					}
					autodiscoverHandler(func(string) *autoconfig.AutodiscoverResponse {
						return autoconfig.NewAutodiscoverResponse(provider("a.test", "pop3 exch.a.test:995 tls"), alice)
					})(rw, r)
				}
				w.mu.Unlock()
			},
			opts:  func(o *Options) { o.AutodiscoverPassword = []byte("secret") },
			want:  []string{"pop3 exch.a.test:995 tls <- autodiscover"},
			trust: map[string]Trust{MethodAutodiscover: TrustDomainHTTPS},
			checkFn: func(t *testing.T, w *testWorld, res *Result) {
				if !slices.ContainsFunc(res.Lookups, func(l Lookup) bool { return l.Sent == sentPassword && l.Status == StatusFound }) {
					t.Errorf("lookups = %+v; want one that sent the password and found settings", res.Lookups)
				}
			},
		},
		{
			name: "Autodiscover redirect loop is cut",
			setup: func(w *testWorld) {
				w.handle("https://a.test/autodiscover/autodiscover.xml", autodiscoverHandler(func(string) *autoconfig.AutodiscoverResponse {
					return autoconfig.NewAutodiscoverRedirectURL("https://loop.a.test/autodiscover/autodiscover.xml")
				}))
				w.handle("https://loop.a.test/autodiscover/autodiscover.xml", autodiscoverHandler(func(string) *autoconfig.AutodiscoverResponse {
					return autoconfig.NewAutodiscoverRedirectURL("https://a.test/autodiscover/autodiscover.xml")
				}))
			},
			opts: func(o *Options) { o.GuessDelay = -1 },
			checkFn: func(t *testing.T, w *testWorld, res *Result) {
				if !slices.ContainsFunc(res.Lookups, func(l Lookup) bool { return strings.Contains(l.Error, "redirect loop") }) {
					t.Errorf("lookups = %+v; want the loop reported", res.Lookups)
				}
			},
		},
		{
			name: "Autodiscover refuses a redirect to http",
			setup: func(w *testWorld) {
				w.handle("https://a.test/autodiscover/autodiscover.xml", autodiscoverHandler(func(string) *autoconfig.AutodiscoverResponse {
					return autoconfig.NewAutodiscoverRedirectURL("http://a.test/autodiscover/autodiscover.xml")
				}))
				w.handle("http://a.test/autodiscover/autodiscover.xml", autodiscoverHandler(func(string) *autoconfig.AutodiscoverResponse {
					return autoconfig.NewAutodiscoverResponse(provider("a.test", "imap evil.test:993 tls"), alice)
				}))
			},
			opts: func(o *Options) { o.GuessDelay = -1 },
			checkFn: func(t *testing.T, w *testWorld, res *Result) {
				for _, r := range w.seen() {
					if r.URL == "http://a.test/autodiscover/autodiscover.xml" {
						t.Errorf("followed the redirect to http: %+v", r)
					}
				}
			},
		},
		{
			name: "nothing published: guessing finds the usual names",
			setup: func(w *testWorld) {
				w.host("imap.a.test", 993)
				w.host("smtp.a.test", 587)
				w.host("a.test", 465) // the bare domain, last
			},
			opts: func(o *Options) { o.GuessDelay = 5 * time.Second }, // published sources finish first
			want: []string{
				"imap imap.a.test:993 tls <- guess",
				"smtp a.test:465 tls <- guess",
				"smtp smtp.a.test:587 starttls <- guess",
			},
			trust: map[string]Trust{MethodGuess: TrustGuess},
		},
		{
			name: "bare domain: nothing sent, no Autodiscover",
			addr: autoconfig.Address{Domain: "a.test", DomainUnicode: "a.test"},
			setup: func(w *testWorld) {
				w.handle("https://autoconfig.a.test/mail/config-v1.1.xml", configHandler(provider("a.test", "imap mail.a.test:993 tls")))
			},
			want: []string{"imap mail.a.test:993 tls <- autoconfig"},
			checkFn: func(t *testing.T, w *testWorld, res *Result) {
				if l := lookupsOf(res, MethodAutodiscover); len(l) != 1 || l[0].Status != StatusSkipped {
					t.Errorf("Autodiscover lookups = %+v; want one skipped", l)
				}
				for _, r := range w.seen() {
					if strings.Contains(r.URL, "emailaddress") {
						t.Errorf("sent an address for a bare domain: %s", r.URL)
					}
				}
			},
		},
		{
			name: "sources agree and disagree",
			setup: func(w *testWorld) {
				w.resolver.SRV["_imaps._tcp.a.test"] = []netx.SRV{{Target: "old.a.test", Port: 993}}
				w.handle("https://autoconfig.a.test/mail/config-v1.1.xml", configHandler(provider("a.test", "imap mail.a.test:993 tls", "smtp mail.a.test:465 tls")))
				w.handle("https://ispdb.test/v1.1/a.test", configHandler(provider("a.test", "imap mail.a.test:993 tls", "smtp mail.a.test:465 tls")))
			},
			want: []string{
				"imap old.a.test:993 tls <- srv",
				"imap mail.a.test:993 tls <- autoconfig,ispdb",
				"smtp mail.a.test:465 tls <- autoconfig,ispdb",
			},
			checkFn: func(t *testing.T, w *testWorld, res *Result) {
				if len(res.Disagreements) != 1 || res.Disagreements[0] != "IMAP: srv prefers old.a.test:993 (tls); autoconfig and ispdb prefer mail.a.test:993 (tls); the evidence supports mail.a.test:993 (tls), named by autoconfig, ispdb" {
					t.Errorf("disagreements = %q", res.Disagreements)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newTestWorld(t)
			if tt.setup != nil {
				tt.setup(w)
			}
			opts := w.options()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			addr := tt.addr
			if addr.Domain == "" {
				addr = alice
			}
			res := runWorld(t, w, opts, addr)
			if got := summary(res); !slices.Equal(got, tt.want) {
				t.Errorf("candidates:\n  %s\nwant:\n  %s\nlookups: %+v", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "), res.Lookups)
			}
			for _, c := range res.Candidates {
				for _, s := range c.Sources {
					if want, ok := tt.trust[s.Method]; ok && s.Trust != want {
						t.Errorf("%s source of %s: trust %s; want %s", s.Method, c.Key(), s.Trust, want)
					}
				}
			}
			for _, l := range res.Lookups {
				if l.Status == "" {
					t.Errorf("lookup without status: %+v", l)
				}
			}
			if tt.checkFn != nil {
				tt.checkFn(t, w, res)
			}
		})
	}
}

func TestBlackholedAutoconfigCostsOneTimeout(t *testing.T) {
	w := newTestWorld(t)
	w.blackhole("autoconfig.a.test", 443, 80)
	w.resolver.SRV["_imaps._tcp.a.test"] = []netx.SRV{{Target: "imap.a.test", Port: 993}}
	opts := w.options()
	opts.PerAttemptTimeout = 300 * time.Millisecond
	start := time.Now()
	res := runWorld(t, w, opts, alice)
	el := time.Since(start)
	if el > opts.PerAttemptTimeout+250*time.Millisecond {
		t.Errorf("discovery took %v with a blackholed autoconfig host; want about %v", el, opts.PerAttemptTimeout)
	}
	if len(res.Candidates) != 1 {
		t.Errorf("candidates = %v", summary(res))
	}
	l := lookupsOf(res, MethodAutoconfig)
	if len(l) != 1 || l[0].Status != StatusError || l[0].Elapsed > opts.PerAttemptTimeout+200*time.Millisecond {
		t.Errorf("autoconfig lookups = %+v; want one error after the per-attempt timeout", l)
	}
	if !slices.ContainsFunc(lookupsOf(res, MethodAutoconfigHTTP), func(l Lookup) bool {
		return l.Target == "http://autoconfig.a.test/mail/config-v1.1.xml" && l.Status == StatusSkipped
	}) {
		t.Errorf("plain-http lookups = %+v; want the silent host skipped", lookupsOf(res, MethodAutoconfigHTTP))
	}
}

func TestCancelStopsEverything(t *testing.T) {
	w := newTestWorld(t)
	w.blackhole("autoconfig.a.test", 443)
	w.blackhole("a.test", 443, 993, 143, 995, 110, 465, 587)
	w.blackhole("mail.a.test", 993, 143, 995, 110, 465, 587)
	opts := w.options()
	opts.PerAttemptTimeout = 5 * time.Second
	opts.GuessDelay = 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := Run(ctx, opts, alice, nil)
	if el := time.Since(start); el > time.Second {
		t.Errorf("Run returned %v after the budget ended", el-400*time.Millisecond)
	}
	cancelled := 0
	for _, l := range res.Lookups {
		if l.Status == StatusCancelled {
			cancelled++
		}
	}
	if cancelled == 0 {
		t.Errorf("no lookup recorded as cancelled: %+v", res.Lookups)
	}
}

func TestFoundIsCalledForEveryCandidateAndMerge(t *testing.T) {
	w := newTestWorld(t)
	w.resolver.SRV["_imaps._tcp.a.test"] = []netx.SRV{{Target: "mail.a.test", Port: 993}}
	w.handle("https://autoconfig.a.test/mail/config-v1.1.xml", configHandler(provider("a.test", "imap mail.a.test:993 tls", "smtp mail.a.test:465 tls")))
	var (
		mu      sync.Mutex
		calls   []string
		running bool
	)
	found := func(c Candidate) {
		mu.Lock()
		if running {
			t.Error("found called concurrently")
		}
		running = true
		calls = append(calls, fmt.Sprintf("%s/%d", c.Key(), len(c.Sources)))
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		running = false
		mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	Run(ctx, w.options(), alice, found)
	slices.Sort(calls)
	want := []string{"imap mail.a.test:993 tls/1", "imap mail.a.test:993 tls/2", "smtp mail.a.test:465 tls/1"}
	if !slices.Equal(calls, want) {
		t.Errorf("found calls = %v; want %v", calls, want)
	}
}

func TestHostileDNSIsAnError(t *testing.T) {
	w := newTestWorld(t)
	w.resolver.Fail["SRV _imaps._tcp.a.test"] = fmt.Errorf("SRV _imaps._tcp.a.test: %w: 5000 records, more than the 100 accepted", netx.ErrHostileAnswer)
	w.resolver.Fail["MX a.test"] = errors.New("MX a.test: SERVFAIL")
	opts := w.options()
	opts.GuessDelay = -1
	res := runWorld(t, w, opts, alice)
	for _, target := range []string{"_imaps._tcp.a.test", "a.test"} {
		if !slices.ContainsFunc(res.Lookups, func(l Lookup) bool {
			return l.Target == target && l.Status == StatusError && l.Error != ""
		}) {
			t.Errorf("no error lookup for %s in %+v", target, res.Lookups)
		}
	}
}

func TestOrderSRV(t *testing.T) {
	recs := []netx.SRV{
		{Target: "low", Priority: 20, Weight: 100},
		{Target: "heavy", Priority: 10, Weight: 3},
		{Target: "light", Priority: 10, Weight: 1},
		{Target: "zero", Priority: 10, Weight: 0},
	}
	rnd := rand.New(rand.NewPCG(7, 7))
	first := map[string]int{}
	for range 4000 {
		got := orderSRV(recs, rnd)
		if len(got) != 4 || got[3].Target != "low" {
			t.Fatalf("order = %v; priority 20 must come last", got)
		}
		first[got[0].Target]++
	}
	// Weights 3:1:0 within priority 10, the zero weight chosen only when
	// the random number is 0 (1 in 5).
	if first["heavy"] < 2000 || first["light"] < 400 || first["heavy"] < 2*first["light"] || first["zero"] > 1200 {
		t.Errorf("first choices %v do not follow the weights", first)
	}
	a := orderSRV(recs, rand.New(rand.NewPCG(1, 1)))
	b := orderSRV(recs, rand.New(rand.NewPCG(1, 1)))
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed, different orders: %v, %v", a, b)
	}
}

func TestMXDomains(t *testing.T) {
	tests := []struct{ host, domain, want string }{
		{"mx1.eu.big.test", "a.test", "[eu.big.test big.test]"},
		{"mx.big.test", "a.test", "[big.test]"},
		{"aspmx.l.google.com", "a.test", "[l.google.com google.com]"},
		{"mx.mail.bbc.co.uk", "a.test", "[mail.bbc.co.uk bbc.co.uk]"},
		{"mx.a.test", "a.test", "[]"},
		{"mx1.sub.a.test", "sub.a.test", "[a.test]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(mxDomains(tt.host, tt.domain)); got != tt.want {
			t.Errorf("mxDomains(%q, %q) = %s; want %s", tt.host, tt.domain, got, tt.want)
		}
	}
}

func TestUsableSRV(t *testing.T) {
	tests := []struct {
		recs       []netx.SRV
		usable     int
		notOffered bool
	}{
		{[]netx.SRV{{Target: ".", Port: 0}}, 0, true},
		{[]netx.SRV{{Target: ".", Port: 993}, {Target: "imap.a.test", Port: 993}}, 1, false},
		{[]netx.SRV{{Target: "imap.a.test", Port: 0}}, 0, false},
		{[]netx.SRV{{Target: "", Port: 993}}, 0, false},
		{nil, 0, false},
	}
	for _, tt := range tests {
		u, n := usableSRV(tt.recs)
		if len(u) != tt.usable || n != tt.notOffered {
			t.Errorf("usableSRV(%v) = %v, %v; want %d usable, notOffered %v", tt.recs, u, n, tt.usable, tt.notOffered)
		}
	}
}
