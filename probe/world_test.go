package probe

import (
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/sandbox"
	"github.com/mailsetup/mailsetup/internal/sandbox/sandboxtest"
	"github.com/mailsetup/mailsetup/probe/dav"
)

// startWorld starts a sandbox world with the named scenarios (all when
// none) and closes it when the test ends.
func startWorld(t testing.TB, latency time.Duration, names ...string) *sandbox.World {
	t.Helper()
	return sandboxtest.Start(t, sandbox.Options{Scenarios: names, Latency: latency})
}

// worldOptions are the options a probe of sc in w runs with. The bounds
// are generous: under -race on a loaded machine a TLS handshake on loopback
// can take seconds, and an outcome must not depend on the machine's speed
// (issue 11: hostile-servers used to flake with 2 s per attempt). Only
// the scenarios with blackholed servers wait out an attempt.
func worldOptions(w *sandbox.World, sc sandbox.Scenario) Options {
	return Options{
		Env:            w.Env(),
		ISPDBURL:       w.ISPDBURL(),
		Password:       []byte(sc.Password),
		Timeout:        60 * time.Second,
		AttemptTimeout: 10 * time.Second,
		Rand:           rand.New(rand.NewPCG(1, 2)),
	}
}

// consentedOptions are worldOptions with the user's confirmation of the
// expected hosts where the scenario needs it (Expectation.NeedsConsent).
func consentedOptions(w *sandbox.World, sc sandbox.Scenario) Options {
	opts := worldOptions(w, sc)
	if sc.Expect.NeedsConsent {
		opts.TrustHosts = []string{sc.Expect.Incoming.Hostname, sc.Expect.Outgoing.Hostname}
	}
	for _, d := range sc.Expect.DAV {
		if d.NeedsConsent {
			u, _ := url.Parse(d.URL)
			opts.TrustHosts = append(opts.TrustHosts, u.Hostname())
		}
	}
	return opts
}

func endpointMatches(got *Endpoint, want *autoconfig.Server) bool {
	return got != nil && got.Protocol == want.Protocol && got.Host == want.Hostname && got.Port == want.Port &&
		got.Security == want.Security && got.Username == want.Username
}

// TestEveryScenarioYieldsItsRecommendation probes every scenario of the
// catalogue with its test account and checks the recommendation against the
// one the scenario declares, and that the password reached no server but
// the recommended ones.
func TestEveryScenarioYieldsItsRecommendation(t *testing.T) {
	w := startWorld(t, 0)
	for _, sc := range w.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			if sc.Expect.NeedsConsent {
				checkUnconfirmed(t, w, sc)
			}
			rep, err := Run(t.Context(), consentedOptions(w, sc), sc.Address)
			if err != nil {
				t.Fatal(err)
			}
			allowed := map[string]bool{}
			if sc.Expect.Incoming == nil {
				if rep.Recommendation != nil {
					t.Errorf("recommended %+v where nothing should work", rep.Recommendation.Incoming)
				}
				if rep.Status == StatusOK {
					t.Errorf("status ok where nothing should work")
				}
			} else {
				rec := rep.Recommendation
				if rec == nil {
					t.Fatalf("no recommendation (status %s); warnings %q; servers %+v", rep.Status, rep.Warnings, rep.Servers)
				}
				if !endpointMatches(&rec.Incoming, sc.Expect.Incoming) {
					t.Errorf("incoming = %+v, want %+v", rec.Incoming, *sc.Expect.Incoming)
				}
				if !endpointMatches(rec.Outgoing, sc.Expect.Outgoing) {
					t.Errorf("outgoing = %+v, want %+v", rec.Outgoing, *sc.Expect.Outgoing)
				}
				if rep.Status != StatusOK || rec.Confidence != ConfidenceLogin {
					t.Errorf("status %s, confidence %s; warnings %q", rep.Status, rec.Confidence, rep.Warnings)
				}
				if rec.Protocol == autoconfig.POP3 && !rec.LeaveMessagesOnServer {
					t.Errorf("POP3 recommended without leave-messages-on-server")
				}
				allowed[sc.Expect.Incoming.Address()] = true
				allowed[sc.Expect.Outgoing.Address()] = true
			}
			for _, d := range sc.Expect.DAV {
				allowed[davHostPort(d.URL)] = true
			}
			for _, hostport := range w.PasswordSightings() {
				if inScenario(sc, hostport) && !allowed[hostport] {
					t.Errorf("the password reached %s", hostport)
				}
			}
		})
	}
}

// checkUnconfirmed probes sc without the user's confirmation: the expected
// servers are recommended, marked not confirmed, status unconfirmed, and
// the password reaches none of the scenario's hosts.
func checkUnconfirmed(t *testing.T, w *sandbox.World, sc sandbox.Scenario) {
	t.Helper()
	rep, err := Run(t.Context(), worldOptions(w, sc), sc.Address)
	if err != nil {
		t.Fatal(err)
	}
	rec := rep.Recommendation
	if rec == nil || rep.Status != StatusUnconfirmed {
		t.Fatalf("without consent: status %s, recommendation %+v; want unconfirmed", rep.Status, rec)
	}
	for _, e := range []*Endpoint{&rec.Incoming, rec.Outgoing} {
		if e == nil || e.NotConfirmed != NotConfirmed {
			t.Errorf("without consent: endpoint %+v not marked %q", e, NotConfirmed)
		}
	}
	for _, s := range rep.Servers {
		if s.Host == sc.Expect.Incoming.Hostname && s.Port == sc.Expect.Incoming.Port &&
			(s.LoginDetail == nil || s.LoginDetail.Reason != NotConfirmed || s.LoginDetail.Kind != LoginKindNotConfirmed) {
			t.Errorf("without consent: login detail %+v, want the reason %q", s.LoginDetail, NotConfirmed)
		}
	}
	for _, hostport := range w.PasswordSightings() {
		if inScenario(sc, hostport) {
			t.Errorf("without consent the password reached %s", hostport)
		}
	}
}

// inScenario reports whether "host:port" belongs to one of sc's domains.
func inScenario(sc sandbox.Scenario, hostport string) bool {
	host, _, _ := strings.Cut(hostport, ":")
	for _, d := range sc.Domains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

func TestScenarioStatuses(t *testing.T) {
	w := startWorld(t, 0, "nothing", "plaintext-only", "starttls-broken", "bad-cert-993")
	want := map[string]Status{
		"nothing":         StatusNothingFound,
		"plaintext-only":  StatusInsecureOnly,
		"starttls-broken": StatusNothingFound,
	}
	for _, sc := range w.Scenarios() {
		st, ok := want[sc.Name]
		if !ok {
			continue
		}
		rep, err := Run(t.Context(), worldOptions(w, sc), sc.Address)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Status != st {
			t.Errorf("%s: status %s, want %s; warnings %q", sc.Name, rep.Status, st, rep.Warnings)
		}
		if len(rep.Lookups) == 0 {
			t.Errorf("%s: no lookups reported", sc.Name)
		}
	}
}

func TestWrongPasswordIsRefusedAtMostTwicePerDirection(t *testing.T) {
	w := startWorld(t, 0, "demo")
	sc := w.Scenarios()[0]
	opts := worldOptions(w, sc)
	opts.Password = []byte("not-the-password")
	rep, err := Run(t.Context(), opts, sc.Address)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != StatusLoginRejected {
		t.Fatalf("status %s, want login-rejected", rep.Status)
	}
	failed := map[autoconfig.Protocol]int{}
	for _, s := range rep.Servers {
		if s.Login == LoginFailed {
			failed[s.Protocol]++
		}
	}
	// Each refused server counts once here though it may have seen two
	// usernames; the template of demo's autoconfig allows only one.
	if failed[autoconfig.IMAP]+failed[autoconfig.POP3] > 2 || failed[autoconfig.SMTP] > 2 {
		t.Errorf("refused logins per protocol: %v", failed)
	}
	if rep.Recommendation == nil || rep.Recommendation.Confidence != ConfidenceLoginRejected {
		t.Errorf("recommendation = %+v", rep.Recommendation)
	}
}

func TestBareDomainLogsInNowhere(t *testing.T) {
	w := startWorld(t, 0, "demo")
	sc := w.Scenarios()[0]
	rep, err := Run(t.Context(), worldOptions(w, sc), "demo.test")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Email != "" || rep.Recommendation == nil || rep.Recommendation.Incoming.Username != autoconfig.PlaceholderAddress {
		t.Errorf("report = %+v", rep.Recommendation)
	}
	if got := w.PasswordSightings(); len(got) != 0 {
		t.Errorf("a bare-domain probe sent the password to %q", got)
	}
}

func TestPlaintextOnlyWithAllowPlaintext(t *testing.T) {
	w := startWorld(t, 0, "plaintext-only")
	sc := w.Scenarios()[0]
	opts := worldOptions(w, sc)
	opts.AllowPlaintext = true
	rep, err := Run(t.Context(), opts, sc.Address)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Recommendation == nil || rep.Recommendation.Confidence != ConfidencePlaintext {
		t.Fatalf("recommendation = %+v, status %s", rep.Recommendation, rep.Status)
	}
	if !slices.ContainsFunc(rep.Warnings, func(s string) bool { return strings.HasPrefix(s, "WARNING") }) {
		t.Errorf("no loud warning about plaintext: %q", rep.Warnings)
	}
}

func TestCacheSharesDiscoveryAcrossAddresses(t *testing.T) {
	w := startWorld(t, 0, "demo")
	sc := w.Scenarios()[0]
	opts := worldOptions(w, sc)
	opts.Cache = NewCache()
	first, err := Run(t.Context(), opts, sc.Address)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Run(t.Context(), opts, "bob@demo.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Lookups) != len(first.Lookups) {
		t.Errorf("the cached probe reports %d lookups, the first %d", len(second.Lookups), len(first.Lookups))
	}
	if !slices.ContainsFunc(second.Warnings, func(w string) bool { return strings.Contains(w, "shared from an earlier probe") }) {
		t.Errorf("the cached probe does not say its lookups are shared: %q", second.Warnings)
	}
	if second.Status != StatusLoginRejected {
		t.Errorf("bob has no account at demo.test, yet status %s", second.Status)
	}
}

// TestTrustCertPinsTheFingerprintTheReportShowed follows what a user does
// with a self-signed server: the first probe refuses it and shows the
// fingerprint; a second one with that fingerprint pinned logs in, says how
// weak the proof is, and warns loudly.
func TestTrustCertPinsTheFingerprintTheReportShowed(t *testing.T) {
	d := "selfsigned.test"
	in := autoconfig.Server{Protocol: autoconfig.IMAP, Hostname: "mail." + d, Port: 993, Security: autoconfig.SecurityTLS,
		Auth: []autoconfig.AuthMethod{autoconfig.AuthPasswordCleartext}, Username: autoconfig.PlaceholderAddress}
	out := in
	out.Protocol, out.Port = autoconfig.SMTP, 465
	p := &autoconfig.Provider{ID: d, Domains: []string{d}, Incoming: []autoconfig.Server{in}, Outgoing: []autoconfig.Server{out}}
	sc := sandbox.Scenario{
		Name: "self-signed", Address: "alice@" + d, Password: "self-signed-pw", Domains: []string{d},
		Hosts: []sandbox.Host{
			{Name: "autoconfig." + d, Services: []sandbox.Service{sandbox.HTTPS(&sandbox.Site{Autoconfig: p})}},
			{Name: "mail." + d, Services: []sandbox.Service{sandbox.IMAPS().WithCert(sandbox.CertSelfSigned), sandbox.Submissions().WithCert(sandbox.CertSelfSigned)}},
		},
	}
	w := sandboxtest.Start(t, sandbox.Options{Scenarios: []string{}, Extra: []sandbox.Scenario{sc}})
	opts := worldOptions(w, sc)
	first, err := Run(t.Context(), opts, sc.Address)
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != StatusInsecureOnly || len(w.PasswordSightings()) != 0 {
		t.Fatalf("unpinned: status %s, password seen at %q", first.Status, w.PasswordSightings())
	}
	for _, s := range first.Servers {
		if s.TLS == nil || s.TLS.SHA256 == "" {
			t.Fatalf("no fingerprint shown for %s:%d", s.Host, s.Port)
		}
		opts.TrustCertSHA256 = append(opts.TrustCertSHA256, s.TLS.SHA256)
	}
	second, err := Run(t.Context(), opts, sc.Address)
	if err != nil {
		t.Fatal(err)
	}
	rec := second.Recommendation
	if second.Status != StatusOK || rec == nil || rec.Confidence != ConfidencePinned || rec.Outgoing == nil {
		t.Fatalf("pinned: status %s, recommendation %+v", second.Status, rec)
	}
	if !slices.ContainsFunc(second.Warnings, func(s string) bool { return strings.HasPrefix(s, "WARNING") && strings.Contains(s, "pinned") }) {
		t.Errorf("no loud warning about the pinned certificate: %q", second.Warnings)
	}
}

func TestPrivateKeepsTheAddressAtTheDomain(t *testing.T) {
	w := startWorld(t, 0, "mx-big-provider")
	sc := w.Scenarios()[0]
	opts := worldOptions(w, sc)
	opts.Private = true
	opts.AutodiscoverAuth = true
	rep, err := Run(t.Context(), opts, sc.Address)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range rep.Lookups {
		// Issue 4: no address in any URL; in a body only to the domain's
		// own endpoints over https (Autodiscover needs it).
		inBody := strings.Contains(l.Sent, "address in body")
		ownHTTPS := strings.HasPrefix(l.Target, "https://hosted-at-bigmail.test/") || strings.HasPrefix(l.Target, "https://autodiscover.hosted-at-bigmail.test/")
		if strings.Contains(l.Target, "alice") || strings.Contains(l.Sent, "address in URL") || inBody && !ownHTTPS {
			t.Errorf("--private sent the address: %+v", l)
		}
		if (l.Method == "ispdb" || l.Method == "mx-ispdb" || l.Method == "mx-autoconfig") && l.Status != "skipped" {
			t.Errorf("--private asked a third party: %+v", l)
		}
	}
	if rep.Recommendation != nil {
		t.Errorf("a domain known only to the ISPDB was found under --private: %+v", rep.Recommendation.Incoming)
	}
}

func TestProgressTellsLookupsFindingsAndLoginsOneAtATime(t *testing.T) {
	w := startWorld(t, 0, "demo")
	sc := w.Scenarios()[0]
	opts := worldOptions(w, sc)
	var inside atomic.Int32
	seen := map[EventKind][]string{}
	opts.Progress = func(e Event) {
		if inside.Add(1) != 1 {
			t.Error("progress calls overlap")
		}
		seen[e.Kind] = append(seen[e.Kind], e.Text)
		time.Sleep(100 * time.Microsecond)
		inside.Add(-1)
	}
	if _, err := Run(t.Context(), opts, sc.Address); err != nil {
		t.Fatal(err)
	}
	for kind, want := range map[EventKind]string{
		EventLookup:  "asking DNS: SRV _imaps._tcp.demo.test",
		EventFound:   "found IMAP imap.demo.test:993",
		EventChecked: "IMAP imap.demo.test:993 works",
		EventLogin:   `login to imap.demo.test:993 as "alice@demo.test" worked`,
	} {
		if !slices.ContainsFunc(seen[kind], func(s string) bool { return strings.HasPrefix(s, want) }) {
			t.Errorf("no %s event %q among %q", kind, want, seen[kind])
		}
	}
}

// TestWrongPasswordAgainstServersThatFallSilent: servers that slow down
// after a wrong password (Dovecot) must not turn the next attempt's silence
// into a refusal. The first refusal is reported as a wrong password with the
// server's words; the attempt that got no answer says so; the status stays
// login-rejected, and no direction sends more than two passwords.
func TestWrongPasswordAgainstServersThatFallSilent(t *testing.T) {
	w := startWorld(t, 0, "slow-after-failure")
	sc := w.Scenarios()[0]
	opts := worldOptions(w, sc)
	opts.Password = []byte("not-the-password")
	// The silent attempt waits for the rest of the budget.
	opts.Timeout = 6 * time.Second
	rep, err := Run(t.Context(), opts, sc.Address)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != StatusLoginRejected {
		t.Fatalf("status %s, want login-rejected; warnings %q", rep.Status, rep.Warnings)
	}
	// Passwords go one at a time: the incoming server's silence holds the
	// turn until the time runs out, so the outgoing one may get none.
	silent := 0
	for _, s := range rep.Servers {
		d := s.LoginDetail
		if d == nil {
			t.Fatalf("%s:%d: no login detail", s.Host, s.Port)
		}
		if strings.Contains(d.Reason, "deadline") {
			t.Errorf("%s:%d: reason %q: a time-out is no server finding", s.Host, s.Port, d.Reason)
		}
		if s.Login != LoginFailed {
			continue
		}
		if d.Kind != "wrong-password" || d.ServerText == "" || d.Username != sc.Address {
			t.Errorf("%s:%d: detail %+v; want the first refusal, a wrong password in the server's words", s.Host, s.Port, d)
		}
		if strings.Contains(d.Reason, NoAnswerInTime) {
			silent++
		}
	}
	if silent == 0 {
		t.Errorf("no server says its second attempt got no answer: %+v", rep.Servers)
	}
	for _, warning := range rep.Warnings {
		if strings.Contains(warning, "deadline exceeded") {
			t.Errorf("a time-out is reported as a refusal: %q", warning)
		}
	}
}

// TestNoWaitingOnWhatCannotChangeTheAnswer: SRV names servers of the best
// class (IMAP and SMTP with implicit TLS), proven with a login at once; the
// web hosts that autoconfig, .well-known and Autodiscover would ask accept
// TCP and never answer. Nothing they could say would outrank a server of
// that class whose login worked, so the probe stops and calls their lookups
// off instead of waiting them out (issue 11: 5.1 s for what took 0.2 s).
// The recorded lookups say which: cancelled, not timed out. The calendar
// and contacts lookups on the silent hosts are called off too, once their
// grace after the mail answer ended (davProbe.finish); the guess on the
// mail host, whose port 443 refuses at once, is a finished lookup.
func TestNoWaitingOnWhatCannotChangeTheAnswer(t *testing.T) {
	w := startWorld(t, 0, "srv-fast-web-silent")
	sc := w.Scenarios()[0]
	rep, err := Run(t.Context(), worldOptions(w, sc), sc.Address)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != StatusOK || rep.Recommendation == nil || rep.Recommendation.Confidence != ConfidenceLogin {
		t.Fatalf("status %s, recommendation %+v", rep.Status, rep.Recommendation)
	}
	web := 0
	for _, l := range rep.Lookups {
		if !strings.HasPrefix(l.Target, "https://") || !strings.Contains(l.Target, "webdead.test/") || l.Method == dav.MethodGuess {
			continue
		}
		web++
		if l.Status != "cancelled" {
			t.Errorf("lookup %s %s ended %s (%s); want cancelled once the answer was proven", l.Method, l.Target, l.Status, l.Error)
		}
	}
	if web == 0 {
		t.Errorf("no web lookup recorded: %+v", rep.Lookups)
	}
}

// RunAddress takes the address parsed once at the edge, and a known login
// name goes first.
func TestRunAddressWithKnownUsername(t *testing.T) {
	w := startWorld(t, 0, "username-localpart")
	sc := w.Scenarios()[0]
	addr, err := autoconfig.ParseAddress(sc.Address)
	if err != nil {
		t.Fatal(err)
	}
	opts := worldOptions(w, sc)
	opts.Username = sc.Login()
	rep, err := RunAddress(t.Context(), opts, addr)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != StatusOK || rep.Recommendation == nil || rep.Recommendation.Incoming.Username != sc.Login() {
		t.Fatalf("status %s, recommendation %+v", rep.Status, rep.Recommendation)
	}
	for _, s := range rep.Servers {
		if s.Login == LoginFailed {
			t.Errorf("%s:%d refused a login: the known name goes first", s.Host, s.Port)
		}
	}
}

// The login-only step of a batch (a Cache shared by the addresses of one
// domain) keeps the password rule: the second address, whose servers come
// from the cache, sends no password to an unconfirmed host either.
func TestCachedLoginKeepsThePasswordRule(t *testing.T) {
	w := startWorld(t, 0, "autoconfig-http-elsewhere")
	sc := w.Scenarios()[0]
	opts := worldOptions(w, sc)
	opts.Cache = NewCache()
	for _, address := range []string{sc.Address, "bob@plainweb.test"} {
		rep, err := Run(t.Context(), opts, address)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Status != StatusUnconfirmed {
			t.Errorf("%s: status %s, want unconfirmed", address, rep.Status)
		}
	}
	if got := w.PasswordSightings(); len(got) != 0 {
		t.Errorf("the password reached %q", got)
	}
}
