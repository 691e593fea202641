package probe

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/discover"
	"github.com/mailsetup/mailsetup/probe/verify"
)

// synth builds a candidate as discovery and verification would leave it.
func synth(proto autoconfig.Protocol, host string, port int, sec autoconfig.Security, st checkStatus, methods ...string) *candidate {
	c := &candidate{server: autoconfig.Server{Protocol: proto, Hostname: host, Port: port, Security: sec}}
	for _, m := range methods {
		trust := string(discover.TrustDomainHTTPS)
		if m == discover.MethodGuess {
			trust = string(discover.TrustGuess)
		}
		c.addSource(source{Source: Source{Method: m, Trust: trust}})
	}
	c.check.status = st
	c.check.report.TLS = &TLSReport{Valid: st == checkPassed}
	c.login.status = LoginSkipped
	return c
}

// published makes p the settings file behind every source of cs.
func published(p *autoconfig.Provider, cs ...*candidate) {
	for _, c := range cs {
		for i := range c.sources {
			c.sources[i].provider = p
		}
	}
}

func loggedIn(c *candidate, user string) *candidate {
	c.login.status = LoginOK
	c.login.tried = []string{user}
	c.login.detail = &LoginReport{Username: user}
	return c
}

func refused(c *candidate, kind string) *candidate {
	c.login.status = LoginFailed
	c.login.rejected = true
	c.login.tried = []string{"alice@example.test", "alice"}
	c.login.kind = kind
	c.login.detail = &LoginReport{Username: "alice@example.test", Reason: "authentication failed", Kind: kind}
	return c
}

var alice = &autoconfig.Address{LocalPart: "alice", Domain: "example.test", DomainUnicode: "example.test"}

const (
	imap = autoconfig.IMAP
	pop3 = autoconfig.POP3
	smtp = autoconfig.SMTP
	tls  = autoconfig.SecurityTLS
	stls = autoconfig.SecuritySTARTTLS
	pln  = autoconfig.SecurityPlain
)

func TestRankingKeysInOrder(t *testing.T) {
	tests := []struct {
		name          string
		better, worse *candidate
	}{
		{"proven beats declared",
			synth(pop3, "pop.example.test", 995, tls, checkPassed, discover.MethodGuess),
			synth(imap, "imap.example.test", 993, tls, checkPending, discover.MethodAutoconfig)},
		{"proven beats broken",
			synth(pop3, "pop.example.test", 995, tls, checkPassed, discover.MethodGuess),
			synth(imap, "imap.example.test", 993, tls, checkInsecure, discover.MethodAutoconfig)},
		{"valid certificate beats allowed plaintext",
			synth(pop3, "pop.example.test", 995, tls, checkPassed, discover.MethodGuess),
			synth(imap, "imap.example.test", 143, pln, checkWeak, discover.MethodAutoconfig)},
		{"IMAP on 143 with STARTTLS beats POP3 on 995",
			synth(imap, "imap.example.test", 143, stls, checkPassed, discover.MethodGuess),
			synth(pop3, "pop.example.test", 995, tls, checkPassed, discover.MethodAutoconfig)},
		{"implicit TLS beats STARTTLS",
			synth(imap, "imap.example.test", 993, tls, checkPassed, discover.MethodGuess),
			synth(imap, "imap.example.test", 143, stls, checkPassed, discover.MethodAutoconfig)},
		{"autoconfig beats SRV",
			synth(imap, "mail.example.test", 993, tls, checkPassed, discover.MethodAutoconfig),
			synth(imap, "imap.example.test", 993, tls, checkPassed, discover.MethodSRV)},
		{"SRV beats Autodiscover",
			synth(imap, "imap.example.test", 993, tls, checkPassed, discover.MethodSRV),
			synth(imap, "mail.example.test", 993, tls, checkPassed, discover.MethodAutodiscover)},
		{"Autodiscover beats ISPDB",
			synth(imap, "a.example.test", 993, tls, checkPassed, discover.MethodAutodiscover),
			synth(imap, "b.example.test", 993, tls, checkPassed, discover.MethodISPDB)},
		{"ISPDB beats MX",
			synth(imap, "a.example.test", 993, tls, checkPassed, discover.MethodISPDB),
			synth(imap, "b.example.test", 993, tls, checkPassed, discover.MethodMXISPDB)},
		{"MX beats a guess",
			synth(imap, "a.example.test", 993, tls, checkPassed, discover.MethodMXISPDB),
			synth(imap, "b.example.test", 993, tls, checkPassed, discover.MethodGuess)},
		{"a successful login beats the better source",
			loggedIn(synth(imap, "imap.example.test", 993, tls, checkPassed, discover.MethodSRV), "alice@example.test"),
			synth(imap, "mail.example.test", 993, tls, checkPassed, discover.MethodAutoconfig)},
		{"a refused login falls below a POP3 that accepted it",
			loggedIn(synth(pop3, "pop.example.test", 995, tls, checkPassed, discover.MethodGuess), "alice@example.test"),
			refused(synth(imap, "imap.example.test", 993, tls, checkPassed, discover.MethodAutoconfig), string(verify.KindWrongPassword))},
		{"the best source of a merged candidate counts",
			synth(imap, "a.example.test", 993, tls, checkPassed, discover.MethodGuess, discover.MethodSRV),
			synth(imap, "b.example.test", 993, tls, checkPassed, discover.MethodISPDB)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := []*candidate{tt.worse, tt.better}
			rank(cs)
			if cs[0] != tt.better {
				t.Errorf("%+v ranks at or below %+v", tt.better.key(), tt.worse.key())
			}
			if compareCandidates(tt.worse, tt.better) <= 0 {
				t.Errorf("ordering is not antisymmetric")
			}
		})
	}
}

func TestARefusalAloneKeepsTheServersPlace(t *testing.T) {
	top := refused(synth(imap, "imap.example.test", 993, tls, checkPassed, discover.MethodAutoconfig), string(verify.KindWrongPassword))
	untried := synth(imap, "imap.example.test", 143, stls, checkPassed, discover.MethodAutoconfig)
	cs := []*candidate{untried, top}
	rank(cs)
	if cs[0] != top {
		t.Errorf("a wrong password moved the best server down")
	}
}

func TestPlainHTTPAutoconfigRanksBelowMX(t *testing.T) {
	insecure := synth(imap, "a.example.test", 993, tls, checkPassed)
	insecure.addSource(source{Source: Source{Method: discover.MethodAutoconfig, Trust: string(discover.TrustPlainHTTP)}})
	mx := synth(imap, "b.example.test", 993, tls, checkPassed, discover.MethodMXISPDB)
	if compareCandidates(mx, insecure) >= 0 {
		t.Errorf("autoconfig over plain http ranks above MX-derived settings")
	}
}

func TestConcludeRecommendsIMAPWithOutgoing(t *testing.T) {
	cs := []*candidate{
		synth(pop3, "pop.example.test", 995, tls, checkPassed, discover.MethodAutoconfig),
		loggedIn(synth(imap, "imap.example.test", 143, stls, checkPassed, discover.MethodAutoconfig), "alice@example.test"),
		synth(smtp, "smtp.example.test", 587, stls, checkPassed, discover.MethodAutoconfig),
		loggedIn(synth(smtp, "smtp.example.test", 465, tls, checkPassed, discover.MethodAutoconfig), "alice"),
		synth(smtp, "smtp.other.test", 465, tls, checkPassed, discover.MethodGuess),
	}
	published(&autoconfig.Provider{DisplayName: "Example",
		Incoming: []autoconfig.Server{cs[1].server, cs[0].server},
		Outgoing: []autoconfig.Server{cs[3].server, cs[2].server}}, cs[:4]...)
	got := conclude(alice, "", "example.test", cs, true)
	if got.status != StatusOK || got.rec == nil {
		t.Fatalf("status %s, recommendation %v", got.status, got.rec)
	}
	r := got.rec
	if r.Protocol != imap || r.Incoming.Port != 143 || r.Incoming.Username != "alice@example.test" || r.Incoming.UsernameTemplate != autoconfig.PlaceholderAddress {
		t.Errorf("incoming = %+v", r.Incoming)
	}
	if r.Outgoing == nil || r.Outgoing.Port != 465 || r.Outgoing.UsernameTemplate != autoconfig.PlaceholderLocalPart {
		t.Errorf("outgoing = %+v", r.Outgoing)
	}
	if r.Confidence != ConfidenceLogin {
		t.Errorf("confidence = %q", r.Confidence)
	}
	// Only what the winning published settings list, in their order: not
	// the guessed server that was proven too.
	if len(r.Alternatives) != 2 || r.Alternatives[0].Protocol != pop3 || r.Alternatives[1].Port != 587 || r.DisplayName != "Example" {
		t.Errorf("alternatives = %+v, display name %q", r.Alternatives, r.DisplayName)
	}
	if r.LeaveMessagesOnServer {
		t.Errorf("leave-on-server set for IMAP")
	}
	if !strings.Contains(r.Reason, "IMAP keeps your mail") || !strings.Contains(r.Reason, "password was accepted") {
		t.Errorf("reason = %q", r.Reason)
	}

	rep := &Report{Domain: "example.test", Recommendation: r}
	p := rep.Settings()
	if len(p.Incoming) != 2 || p.Incoming[0].Port != 143 || p.Incoming[0].Username != autoconfig.PlaceholderAddress ||
		p.Incoming[1].Protocol != pop3 || p.Incoming[1].POP3 == nil || !p.Incoming[1].POP3.LeaveMessagesOnServer {
		t.Errorf("settings incoming = %+v", p.Incoming)
	}
	if len(p.Outgoing) != 2 || p.Outgoing[0].Port != 465 || p.Outgoing[0].Username != autoconfig.PlaceholderLocalPart ||
		p.Outgoing[0].PreferredAuth() != autoconfig.AuthPasswordCleartext {
		t.Errorf("settings outgoing = %+v", p.Outgoing)
	}
	data, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Settings(), p) {
		t.Errorf("settings from the JSON report differ:\n%+v\n%+v", back.Settings(), p)
	}
	if (&Report{Domain: "example.test"}).Settings() != nil {
		t.Errorf("settings without a recommendation")
	}
}

func TestConcludePOP3Only(t *testing.T) {
	cs := []*candidate{
		synth(pop3, "pop.example.test", 995, tls, checkPassed, discover.MethodGuess),
		synth(imap, "imap.example.test", 993, tls, checkFailed, discover.MethodGuess),
		synth(smtp, "smtp.example.test", 465, tls, checkPassed, discover.MethodGuess),
	}
	got := conclude(alice, "", "example.test", cs, false)
	r := got.rec
	if r == nil || r.Protocol != pop3 || !r.LeaveMessagesOnServer || r.WithoutIMAP == "" {
		t.Fatalf("recommendation = %+v", r)
	}
	if r.Confidence != ConfidenceTLS {
		t.Errorf("confidence = %q, want tls without a password", r.Confidence)
	}
	p := (&Report{Domain: "example.test", Recommendation: r}).Settings()
	if p.Incoming[0].Protocol != pop3 || p.Incoming[0].POP3 == nil || !p.Incoming[0].POP3.LeaveMessagesOnServer {
		t.Errorf("settings incoming = %+v", p.Incoming)
	}
}

func TestConcludeNothingOrInsecure(t *testing.T) {
	none := conclude(alice, "", "example.test", []*candidate{
		synth(imap, "imap.example.test", 993, tls, checkFailed, discover.MethodGuess),
	}, false)
	if none.status != StatusNothingFound || none.rec != nil {
		t.Errorf("unreachable only: %s %v", none.status, none.rec)
	}
	selfSigned := synth(imap, "imap.example.test", 993, tls, checkInsecure, discover.MethodAutoconfig)
	selfSigned.check.report.TLS.SHA256 = "AB:CD"
	insecure := conclude(alice, "", "example.test", []*candidate{
		selfSigned,
		synth(imap, "imap.example.test", 143, pln, checkInsecure, discover.MethodAutoconfig),
	}, false)
	if insecure.status != StatusInsecureOnly || insecure.rec != nil {
		t.Errorf("insecure only: %s %v", insecure.status, insecure.rec)
	}
	// The remedies say what can be done, typed; the command line words
	// them with its flags.
	if !slices.ContainsFunc(insecure.remedies, func(r Remedy) bool { return r.Kind == RemedyAllowPlaintext && r.Port == 143 }) ||
		!slices.ContainsFunc(insecure.remedies, func(r Remedy) bool { return r.Kind == RemedyPinCertificate && r.Port == 993 }) {
		t.Errorf("remedies %+v; want allow-plaintext for 143 and pin-certificate for 993", insecure.remedies)
	}
	for _, w := range insecure.warnings {
		if strings.Contains(w, "--") {
			t.Errorf("a library message names a flag: %q", w)
		}
	}
}

func TestConcludeLoginRejected(t *testing.T) {
	cs := []*candidate{
		refused(synth(imap, "imap.example.test", 993, tls, checkPassed, discover.MethodAutoconfig), string(verify.KindWrongPassword)),
		synth(smtp, "smtp.example.test", 465, tls, checkPassed, discover.MethodAutoconfig),
	}
	got := conclude(alice, "", "example.test", cs, true)
	if got.status != StatusLoginRejected || got.rec == nil || got.rec.Confidence != ConfidenceLoginRejected {
		t.Fatalf("status %s, rec %+v", got.status, got.rec)
	}
}

func TestConcludeSRVAutoconfigDisagreement(t *testing.T) {
	srv := synth(imap, "imap.example.test", 993, tls, checkPassed, discover.MethodSRV)
	ac := synth(imap, "mail.example.test", 993, tls, checkPassed, discover.MethodAutoconfig)
	got := conclude(alice, "", "example.test", []*candidate{srv, ac}, false)
	if got.rec.Incoming.Host != "mail.example.test" {
		t.Errorf("without logins autoconfig should win, got %s", got.rec.Incoming.Host)
	}
	if len(got.disagreements) != 1 || !strings.Contains(got.disagreements[0], "the autoconfig file wins") {
		t.Errorf("disagreements = %q", got.disagreements)
	}

	loggedIn(srv, "alice@example.test")
	got = conclude(alice, "", "example.test", []*candidate{srv, ac}, true)
	if got.rec.Incoming.Host != "imap.example.test" {
		t.Errorf("the SRV server whose login worked should win, got %s", got.rec.Incoming.Host)
	}
	if len(got.disagreements) != 1 || !strings.Contains(got.disagreements[0], "login succeeded") {
		t.Errorf("disagreements = %q", got.disagreements)
	}
}

func TestConcludeKnownProviderRequirement(t *testing.T) {
	gmail := &autoconfig.Address{LocalPart: "bob", Domain: "gmail.com", DomainUnicode: "gmail.com"}
	cs := []*candidate{
		refused(synth(imap, "imap.gmail.com", 993, tls, checkPassed, discover.MethodISPDB), string(verify.KindAppPasswordRequired)),
	}
	got := conclude(gmail, "", "gmail.com", cs, true)
	if got.rec == nil || got.rec.Requirement == nil || got.rec.Requirement.Kind != RequireAppPassword || got.rec.Requirement.HelpURL == "" {
		t.Fatalf("requirement = %+v", got.rec)
	}
	hosted := conclude(alice, "", "example.test", []*candidate{
		synth(imap, "outlook.office365.com", 993, tls, checkPassed, discover.MethodMXISPDB),
	}, false)
	if hosted.rec.Requirement == nil || hosted.rec.Requirement.Kind != RequireOAuth2 {
		t.Errorf("a domain hosted at Microsoft 365 should say OAuth2: %+v", hosted.rec.Requirement)
	}
}

func TestConcludePublishedOAuth2Only(t *testing.T) {
	c := synth(imap, "imap.example.test", 993, tls, checkPassed)
	c.addSource(source{Source: Source{Method: discover.MethodAutoconfig, Trust: string(discover.TrustDomainHTTPS)}, auth: []autoconfig.AuthMethod{autoconfig.AuthOAuth2}})
	got := conclude(alice, "", "example.test", []*candidate{c}, false)
	if got.rec.Requirement == nil || got.rec.Requirement.Kind != RequireOAuth2 {
		t.Errorf("requirement = %+v", got.rec.Requirement)
	}
	if got.rec.Incoming.Auth != autoconfig.AuthOAuth2 {
		t.Errorf("auth = %q", got.rec.Incoming.Auth)
	}
}

func TestUsernameTemplateFromSource(t *testing.T) {
	c := synth(imap, "imap.example.test", 993, tls, checkPassed)
	c.addSource(source{Source: Source{Method: discover.MethodISPDB, Trust: string(discover.TrustThirdParty)}, username: autoconfig.PlaceholderAddress})
	c.addSource(source{Source: Source{Method: discover.MethodAutoconfig, Trust: string(discover.TrustDomainHTTPS)}, username: autoconfig.PlaceholderLocalPart})
	if e := endpoint(c, alice, ""); e.Username != "alice" || e.UsernameTemplate != autoconfig.PlaceholderLocalPart {
		t.Errorf("endpoint = %+v: the autoconfig template should win over the ISPDB's", e)
	}
}

func TestMergeDisagreementsDropsRestatements(t *testing.T) {
	found := []string{
		"IMAP: srv prefers imap-old.example.test:993 (tls); autoconfig prefers imap-new.example.test:993 (tls)",
		"POP3: ispdb prefers pop.example.test:995 (tls); guess prefers mail.example.test:995 (tls)",
	}
	verified := []string{"SRV records name IMAP imap-old.example.test:993, the autoconfig file names IMAP imap-new.example.test:993; imap-new.example.test:993 was chosen because ..."}
	got := mergeDisagreements(found, verified)
	if len(got) != 2 || got[0] != found[1] || got[1] != verified[0] {
		t.Errorf("merged = %q", got)
	}
}

// An Autodiscover answer without <SPA> reads as NTLM; where the login that
// proved the server went as PLAIN, the proof wins (issue 11).
func TestProvenMechanismBeatsTheSourcesAuth(t *testing.T) {
	c := loggedIn(synth(imap, "imap.example.test", 993, tls, checkPassed, discover.MethodAutodiscover), "alice@example.test")
	c.server.Auth = []autoconfig.AuthMethod{autoconfig.AuthNTLM}
	c.login.mechanism = "PLAIN"
	if got := endpoint(c, alice, "").Auth; got != autoconfig.AuthPasswordCleartext {
		t.Errorf("auth = %s, want %s: the login went as PLAIN", got, autoconfig.AuthPasswordCleartext)
	}
	c.login = loginState{status: LoginSkipped}
	if got := endpoint(c, alice, "").Auth; got != autoconfig.AuthNTLM {
		t.Errorf("without a login auth = %s, want the source's %s", got, autoconfig.AuthNTLM)
	}
}
