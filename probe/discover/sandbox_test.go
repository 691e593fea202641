package discover

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/sandbox"
)

// sandboxWant says, per catalogue scenario, which candidates discovery must
// find and by which methods: "proto host:port security <- m1,m2" requires
// the candidate with at least those sources. check tests the rest.
var sandboxWant = map[string]struct {
	found []string
	check func(t *testing.T, res *Result)
}{
	"demo": {found: []string{
		"imap imap.demo.test:993 tls <- srv,autoconfig,well-known",
		"imap imap.demo.test:143 starttls <- srv,autoconfig,well-known",
		"pop3 pop.demo.test:995 tls <- srv,autoconfig,well-known",
		"smtp smtp.demo.test:465 tls <- srv,autoconfig,well-known",
		"smtp smtp.demo.test:587 starttls <- srv,autoconfig,well-known",
	}, check: noGuessing},
	"srv-only": {found: []string{
		"imap mailstore.srv-only.test:993 tls <- srv",
		"smtp outbound.srv-only.test:465 tls <- srv",
	}, check: noGuessing},
	"autoconfig-only": {found: []string{
		"imap in7.autoconfig-only.test:993 tls <- autoconfig",
		"smtp out7.autoconfig-only.test:465 tls <- autoconfig",
	}, check: noGuessing},
	"wellknown-only": {found: []string{
		"imap in.wellknown-only.test:993 tls <- well-known",
		"smtp out.wellknown-only.test:465 tls <- well-known",
	}},
	"autodiscover-redirect-addr": {found: []string{
		"imap post.ad-target.test:993 tls <- autodiscover",
		"smtp relay.ad-target.test:465 tls <- autodiscover",
	}, check: func(t *testing.T, res *Result) {
		if !slices.ContainsFunc(res.Lookups, func(l Lookup) bool { return strings.Contains(l.Error, "redirectAddr") }) {
			t.Error("the redirectAddr hop is not among the lookups")
		}
	}},
	"autodiscover-redirect-url": {found: []string{
		"imap mx-store.ad-url-hosting.test:993 tls <- autodiscover",
		"smtp mx-store.ad-url-hosting.test:465 tls <- autodiscover",
	}, check: trustOf(MethodAutodiscover, TrustThirdParty)},
	"autodiscover-http-redirect": {found: []string{
		"imap mailhub.ad-http-hosting.test:993 tls <- autodiscover",
		"smtp mailhub.ad-http-hosting.test:465 tls <- autodiscover",
	}, check: trustOf(MethodAutodiscover, TrustPlainHTTP)},
	"slow-after-failure": {found: []string{
		"imap imap.penalty.test:993 tls <- srv",
		"smtp smtp.penalty.test:465 tls <- srv",
	}, check: trustOf(MethodSRV, TrustDomainDNS)},
	"calendar-contacts": {found: []string{
		"imap imap.groupware.test:993 tls <- srv",
		"smtp smtp.groupware.test:465 tls <- srv",
	}, check: trustOf(MethodSRV, TrustDomainDNS)},
	"dav-elsewhere": {found: []string{
		"imap imap.dav-elsewhere.test:993 tls <- srv",
		"smtp smtp.dav-elsewhere.test:465 tls <- srv",
	}, check: trustOf(MethodSRV, TrustDomainDNS)},
	"srv-fast-web-silent": {found: []string{
		"imap mail.webdead.test:993 tls <- srv",
		"smtp mail.webdead.test:465 tls <- srv",
	}, check: trustOf(MethodSRV, TrustDomainDNS)},
	"autoconfig-http-elsewhere": {found: []string{
		"imap imap.plainweb-hosting.test:993 tls <- autoconfig-http",
		"smtp smtp.plainweb-hosting.test:465 tls <- autoconfig-http",
	}, check: trustOf(MethodAutoconfigHTTP, TrustPlainHTTP)},
	"guessable": {found: []string{
		"imap imap.guessable.test:993 tls <- guess",
		"imap imap.guessable.test:143 starttls <- guess",
		"smtp smtp.guessable.test:465 tls <- guess",
		"smtp smtp.guessable.test:587 starttls <- guess",
	}},
	"pop3-only": {found: []string{
		"pop3 pop.pop3-only.test:995 tls <- srv,autoconfig",
		"pop3 pop.pop3-only.test:110 starttls <- srv,autoconfig",
		"smtp smtp.pop3-only.test:465 tls <- srv,autoconfig",
	}, check: func(t *testing.T, res *Result) {
		if !slices.Contains(res.NotOffered, autoconfig.IMAP) {
			t.Errorf("NotOffered = %v; want IMAP", res.NotOffered)
		}
		noGuessing(t, res)
	}},
	"starttls-only": {found: []string{
		"imap imap.starttls-only.test:143 starttls <- srv,autoconfig",
		"smtp smtp.starttls-only.test:587 starttls <- srv,autoconfig",
	}},
	"bad-cert-993": {found: []string{
		"imap imap.badcert.test:993 tls <- autoconfig",
		"imap imap.badcert.test:143 starttls <- autoconfig",
		"smtp smtp.badcert.test:465 tls <- autoconfig",
		"smtp smtp.badcert.test:587 starttls <- autoconfig",
	}},
	"srv-autoconfig-disagree": {found: []string{
		"imap imap-old.disagree.test:993 tls <- srv",
		"imap imap-new.disagree.test:993 tls <- autoconfig",
		"smtp smtp-old.disagree.test:465 tls <- srv",
		"smtp smtp-new.disagree.test:465 tls <- autoconfig",
	}, check: func(t *testing.T, res *Result) {
		if len(res.Disagreements) != 2 {
			t.Errorf("disagreements = %q; want one for IMAP and one for SMTP", res.Disagreements)
		}
	}},
	"blackholed-preferred": {found: []string{
		"imap imap1.blackhole.test:993 tls <- srv",
		"imap imap2.blackhole.test:993 tls <- srv",
		"smtp smtp1.blackhole.test:465 tls <- srv",
		"smtp smtp2.blackhole.test:465 tls <- srv",
	}},
	"mx-big-provider": {found: []string{
		"imap imap.bigmail.test:993 tls <- mx-ispdb",
		"smtp smtp.bigmail.test:465 tls <- mx-ispdb",
	}, check: trustOf(MethodMXISPDB, TrustThirdParty)},
	"nothing": {check: func(t *testing.T, res *Result) {
		if len(res.Candidates) != 0 {
			t.Errorf("candidates %v where nothing exists", summary(res))
		}
		if len(lookupsOf(res, MethodGuess)) == 0 {
			t.Error("nothing was guessed")
		}
	}},
	"plaintext-only": {found: []string{
		"imap imap.plaintext.test:143 plain <- autoconfig",
		"smtp smtp.plaintext.test:587 plain <- autoconfig",
	}},
	"starttls-broken": {found: []string{
		"imap imap.brokentls.test:143 starttls <- srv",
		"pop3 pop.brokentls.test:110 starttls <- srv",
		"smtp smtp.brokentls.test:587 starttls <- srv",
	}},
	"dns-trouble": {found: []string{
		"imap store.dnsfail.test:993 tls <- autoconfig",
		"smtp send.dnsfail.test:465 tls <- autoconfig",
	}, check: func(t *testing.T, res *Result) {
		for _, l := range lookupsOf(res, MethodSRV) {
			if l.Status != StatusError || !strings.Contains(l.Error, "SERVFAIL") {
				t.Errorf("SRV lookup %+v; want an error naming SERVFAIL", l)
			}
		}
		if l := lookupsOf(res, MethodMX); len(l) != 1 || l[0].Status != StatusError {
			t.Errorf("MX lookups %+v; want one error (time-out)", l)
		}
	}},
	"dnssec-signed": {found: []string{
		"imap imap.signed.test:993 tls <- srv",
		"smtp smtp.signed.test:465 tls <- srv",
	}, check: func(t *testing.T, res *Result) {
		trustOf(MethodSRV, TrustDNSSEC)(t, res)
		for _, l := range lookupsOf(res, MethodSRV) {
			if l.Target == "_imaps._tcp.signed.test" && !l.Authenticated {
				t.Errorf("lookup %+v; want it marked authenticated", l)
			}
		}
	}},
	"hostile-dns": {found: []string{
		"imap in.hostile-dns.test:993 tls <- well-known",
		"smtp out.hostile-dns.test:465 tls <- well-known",
	}, check: func(t *testing.T, res *Result) {
		for _, target := range []string{"_imaps._tcp.hostile-dns.test", "https://autoconfig.hostile-dns.test"} {
			if !slices.ContainsFunc(res.Lookups, func(l Lookup) bool {
				return strings.HasPrefix(l.Target, target) && l.Status == StatusError &&
					(strings.Contains(l.Error, "records") || strings.Contains(l.Error, "CNAME"))
			}) {
				t.Errorf("no clear error for %s in %+v", target, res.Lookups)
			}
		}
	}},
	"hostile-servers": {found: []string{
		"imap imap-a.hostile-servers.test:993 tls <- autoconfig",
		"imap imap-e.hostile-servers.test:993 tls <- autoconfig",
		"smtp smtp-b.hostile-servers.test:465 tls <- autoconfig",
	}},
	"username-localpart": {found: []string{
		"imap imap.localpart.test:993 tls <- autoconfig",
		"smtp smtp.localpart.test:465 tls <- autoconfig",
	}, check: func(t *testing.T, res *Result) {
		p := res.Providers[MethodAutoconfig]
		if p == nil || p.Incoming[0].Username != autoconfig.PlaceholderLocalPart {
			t.Errorf("autoconfig provider %+v; want the %%EMAILLOCALPART%% template", p)
		}
	}},
}

func noGuessing(t *testing.T, res *Result) {
	t.Helper()
	for _, l := range lookupsOf(res, MethodGuess) {
		if l.Status != StatusSkipped {
			t.Errorf("guessed although the domain publishes its settings: %+v", l)
		}
	}
}

func trustOf(method string, want Trust) func(*testing.T, *Result) {
	return func(t *testing.T, res *Result) {
		t.Helper()
		for _, c := range res.Candidates {
			for _, s := range c.Sources {
				if s.Method == method && s.Trust != want {
					t.Errorf("%s via %s: trust %s; want %s", c.Key(), method, s.Trust, want)
				}
			}
		}
	}
}

// startSandbox starts one world with the whole catalogue for all tests of
// the package.
var (
	sandboxOnce  sync.Once
	sandboxWorld *sandbox.World
	sandboxErr   error
)

func startSandbox(t testing.TB) *sandbox.World {
	sandboxOnce.Do(func() {
		sandboxWorld, sandboxErr = sandbox.Start(context.Background(), sandbox.Options{})
	})
	if sandboxErr != nil {
		t.Fatal(sandboxErr)
	}
	return sandboxWorld
}

func TestSandboxScenarios(t *testing.T) {
	w := startSandbox(t)
	for _, sc := range w.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			want, ok := sandboxWant[sc.Name]
			if !ok {
				t.Fatalf("scenario %q is not in sandboxWant: say which methods must find its servers", sc.Name)
			}
			addr, err := autoconfig.ParseAddress(sc.Address)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			res := Run(ctx, Options{
				Env:               w.Env(),
				ISPDBURL:          w.ISPDBURL(),
				Rand:              rand.New(rand.NewPCG(1, 1)),
				PerAttemptTimeout: time.Second,
			}, addr, nil)

			have := map[string]Candidate{}
			for _, c := range res.Candidates {
				have[c.Key()] = c
			}
			for _, f := range want.found {
				key, methods, _ := strings.Cut(f, " <- ")
				c, ok := have[key]
				if !ok {
					t.Errorf("%s not found; candidates:\n  %s", key, strings.Join(summary(res), "\n  "))
					continue
				}
				for _, m := range strings.Split(methods, ",") {
					if !slices.ContainsFunc(c.Sources, func(s Source) bool { return s.Method == m }) {
						t.Errorf("%s not found by %s; sources %+v", key, m, c.Sources)
					}
				}
			}
			for _, s := range []*autoconfig.Server{sc.Expect.Incoming, sc.Expect.Outgoing} {
				if s == nil {
					continue
				}
				key := Candidate{Server: *s}.Key()
				if _, ok := have[key]; !ok {
					t.Errorf("the scenario's expected server %s is not a candidate", key)
				}
			}
			for _, l := range res.Lookups {
				if l.Status == "" || l.Status == StatusCancelled {
					t.Errorf("lookup %+v did not finish", l)
				}
			}
			if want.check != nil {
				want.check(t, res)
			}
			if t.Failed() {
				for _, l := range res.Lookups {
					t.Logf("lookup %s %s: %s %s (%v)", l.Method, l.Target, l.Status, l.Error, l.Elapsed)
				}
			}
		})
	}
}

// TestSandboxCatalogueIsCovered keeps sandboxWant in step with the
// catalogue: a name here that the catalogue lost is a stale expectation.
func TestSandboxCatalogueIsCovered(t *testing.T) {
	names := map[string]bool{}
	for _, sc := range sandbox.Catalogue() {
		names[sc.Name] = true
	}
	for name := range sandboxWant {
		if !names[name] {
			t.Errorf("sandboxWant has %q, which the catalogue no longer has", name)
		}
	}
	if len(names) < 14 {
		t.Errorf("catalogue has %d scenarios; the sandbox promises at least 14", len(names))
	}
}
