package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/sandbox"
	"github.com/mailsetup/mailsetup/internal/sandbox/sandboxtest"
	"github.com/mailsetup/mailsetup/probe"
)

func TestWriteText(t *testing.T) {
	pop := probe.Endpoint{Protocol: autoconfig.POP3, Host: "pop.example.test", Port: 995, Security: autoconfig.SecurityTLS,
		Username: "alice@example.test", UsernameTemplate: autoconfig.PlaceholderAddress, Auth: autoconfig.AuthPasswordCleartext}
	out := pop
	out.Protocol, out.Host, out.Port = autoconfig.SMTP, "smtp.example.test", 465
	valid := &probe.TLSReport{Valid: true}
	r := &probe.Report{Email: "alice@example.test", Domain: "example.test", Status: probe.StatusOK,
		Recommendation: &probe.Recommendation{Protocol: autoconfig.POP3, Incoming: pop, Outgoing: &out, Confidence: probe.ConfidenceLogin,
			Reason:                "Only POP3 works here, so mail is downloaded and also left on the server; pop.example.test:995 uses TLS from the first byte.",
			LeaveMessagesOnServer: true, WithoutIMAP: "IMAP would have kept your mail and folders the same on every device."},
		Servers: []probe.ServerReport{
			{Protocol: autoconfig.IMAP, Host: "imap.example.test", Port: 993, Security: autoconfig.SecurityTLS, Reachable: true,
				Error: "its certificate is not valid", TLS: &probe.TLSReport{Error: "expired"}, Sources: []probe.Source{{Method: "autoconfig"}}},
			{Protocol: autoconfig.POP3, Host: "pop.example.test", Port: 995, Security: autoconfig.SecurityTLS, Reachable: true, TLS: valid,
				Login: probe.LoginOK, Sources: []probe.Source{{Method: "autoconfig"}}},
			{Protocol: autoconfig.SMTP, Host: "smtp.example.test", Port: 465, Security: autoconfig.SecurityTLS, Reachable: true, TLS: valid,
				Login: probe.LoginOK, Sources: []probe.Source{{Method: "autoconfig"}}},
		},
		Warnings: []string{"IMAP imap.example.test:993 was not used: its certificate is not valid (expired)."},
	}
	var b strings.Builder
	if err := writeReportText(&b, r); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{
		"Probe of alice@example.test",
		"  POP3  pop.example.test:995   SSL/TLS  works, login ok",
		"Recommended: POP3",
		"  Incoming  POP3  pop.example.test:995   SSL/TLS  user alice@example.test\n",
		"Leave messages on server: on",
		"Without IMAP: IMAP would have kept",
		"Why: Only POP3 works here",
		"Proven by: a login",
		"IMAP imap.example.test:993 was not used: its certificate is not valid",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}

	none := &probe.Report{Domain: "example.test", Status: probe.StatusNothingFound, Lookups: []probe.Lookup{{Method: "srv", Target: "_imaps._tcp.example.test", Status: "none"}}}
	b.Reset()
	writeReportText(&b, none)
	if out := b.String(); !strings.Contains(out, "Nothing works") || !strings.Contains(out, "  srv  _imaps._tcp.example.test  nothing\n") {
		t.Errorf("nothing-found report:\n%s", out)
	}
}

func TestBareDomainUsernameInWords(t *testing.T) {
	e := probe.Endpoint{Protocol: autoconfig.IMAP, Host: "imap.example.test", Port: 993, Security: autoconfig.SecurityTLS,
		Username: autoconfig.PlaceholderAddress, UsernameTemplate: autoconfig.PlaceholderAddress, Auth: autoconfig.AuthPasswordCleartext}
	if got := userWords(e); got != "your full address" {
		t.Errorf("userWords of %q = %q, want \"your full address\"", e.Username, got)
	}
	// The usual password goes without saying; anything else is named.
	if cells := strings.Join(endpointCells(e), "  "); cells != "IMAP  imap.example.test:993  SSL/TLS  user your full address" {
		t.Errorf("cells = %q", cells)
	}
	e.Auth = autoconfig.AuthOAuth2
	if cells := endpointCells(e); cells[len(cells)-1] != "OAuth2" {
		t.Errorf("an OAuth2 endpoint does not say so: %q", cells)
	}
}

// probeScenario probes a sandbox scenario's address with its password.
func probeScenario(t *testing.T, name string) *probe.Report {
	t.Helper()
	w := sandboxtest.Start(t, sandbox.Options{Scenarios: []string{name}})
	sc := w.Scenarios()[0]
	r, err := probe.Run(context.Background(), probe.Options{Env: w.Env(), ISPDBURL: w.ISPDBURL(), Password: []byte(sc.Password),
		Timeout: 60 * time.Second, AttemptTimeout: 10 * time.Second, Rand: rand.New(rand.NewPCG(1, 2))}, sc.Address)
	if err != nil {
		t.Fatal(err)
	}
	r.ElapsedMS = 0
	return r
}

func text(t *testing.T, r *probe.Report) string {
	t.Helper()
	var b strings.Builder
	if err := writeReportText(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestWriteTextIsStable: the order in which concurrent lookups and checks
// finished must not show in the text.
func TestWriteTextIsStable(t *testing.T) {
	for _, name := range []string{"demo", "nothing"} {
		t.Run(name, func(t *testing.T) {
			r := probeScenario(t, name)
			want := text(t, r)
			rnd := rand.New(rand.NewPCG(7, 8))
			for range 5 {
				shuffled := *r
				shuffled.Servers = slices.Clone(r.Servers)
				for i := range shuffled.Servers {
					shuffled.Servers[i].Sources = slices.Clone(r.Servers[i].Sources)
					rnd.Shuffle(len(shuffled.Servers[i].Sources), func(a, b int) {
						s := shuffled.Servers[i].Sources
						s[a], s[b] = s[b], s[a]
					})
				}
				rnd.Shuffle(len(shuffled.Servers), func(a, b int) {
					shuffled.Servers[a], shuffled.Servers[b] = shuffled.Servers[b], shuffled.Servers[a]
				})
				shuffled.Lookups = slices.Clone(r.Lookups)
				rnd.Shuffle(len(shuffled.Lookups), func(a, b int) {
					shuffled.Lookups[a], shuffled.Lookups[b] = shuffled.Lookups[b], shuffled.Lookups[a]
				})
				if rec := r.Recommendation; rec != nil {
					rc := *rec
					rc.Alternatives = slices.Clone(rec.Alternatives)
					slices.Reverse(rc.Alternatives)
					shuffled.Recommendation = &rc
				}
				if got := text(t, &shuffled); got != want {
					t.Fatalf("the same report in another order reads differently:\n%s\nwant:\n%s", got, want)
				}
			}
			if name == "nothing" {
				// Nothing stops early here, so a second run is the same.
				if again := text(t, probeScenario(t, name)); again != want {
					t.Errorf("a second probe of %s reads differently:\n%s\nfirst:\n%s", name, again, want)
				}
			}
		})
	}
}

// TestNothingWorksIsShortAndAligned: the failure report fits a wide
// terminal, says its conclusion once and summarises repeated failures.
func TestNothingWorksIsShortAndAligned(t *testing.T) {
	r := probeScenario(t, "nothing")
	out := text(t, r)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > textWidth {
			t.Errorf("line of %d columns (max %d): %q", n, textWidth, l)
		}
	}
	if len(lines) > 25 {
		t.Errorf("%d lines for %d lookups; want repeated failures summarised:\n%s", len(lines), len(r.Lookups), out)
	}
	if strings.Count(out, "Nothing works") != 1 || strings.Contains(out, "No server was found") {
		t.Errorf("want one conclusion line:\n%s", out)
	}
	if !strings.Contains(out, " and 5 more ") {
		t.Errorf("the six SRV lookups that found nothing should share a line:\n%s", out)
	}
	// The table's third column starts at the same place on every row.
	third := regexp.MustCompile(`^  \S+ {2,}.*?\S {2,}`)
	start := strings.Index(out, "What was tried")
	col := 0
	for _, l := range strings.Split(out[start:], "\n")[1:] {
		if !strings.HasPrefix(l, "  ") {
			break
		}
		at := utf8.RuneCountInString(third.FindString(l))
		if col == 0 {
			col = at
		} else if at != col {
			t.Errorf("misaligned row %q: outcome at column %d, want %d", l, at, col)
		}
	}
}

// TestWriteTextFitstextWidth: long host names and errors are clipped, not
// wrapped by the terminal.
func TestWriteTextFitstextWidth(t *testing.T) {
	for _, name := range []string{"demo", "hostile-servers", "bad-cert-993", "plaintext-only", "autoconfig-only", "starttls-broken"} {
		out := text(t, probeScenario(t, name))
		for _, l := range strings.Split(out, "\n") {
			if n := utf8.RuneCountInString(l); n > textWidth {
				t.Errorf("%s: line of %d columns (max %d): %q", name, n, textWidth, l)
			}
		}
	}
}

func TestVerdictOfAServerNotChecked(t *testing.T) {
	for err, want := range map[string]string{
		"check stopped: a better server was already proven": "not checked: a better one works",
		"not checked: a better server was already proven":   "not checked: a better one works",
		"not checked: the time budget (--timeout) ran out":  "not checked: time ran out",
	} {
		if got := verdict(probe.ServerReport{Error: err}); got != want {
			t.Errorf("Verdict of %q = %q, want %q", err, got, want)
		}
	}
}

// The library's typed remedies are worded here, with the flag that applies
// each (the library names no flag).
func TestRemediesAreWordedWithTheirFlags(t *testing.T) {
	r := &probe.Report{Domain: "example.test", Status: probe.StatusInsecureOnly, Remedies: []probe.Remedy{
		{Kind: probe.RemedyPinCertificate, Host: "imap.example.test", Port: 993, SHA256: "AB:CD"},
		{Kind: probe.RemedyAllowPlaintext, Host: "imap.example.test", Port: 143},
		{Kind: probe.RemedyConfirmHost, Host: "imap.elsewhere.test"},
		{Kind: probe.RemedyLongerTimeout},
	}}
	out := text(t, r)
	for _, want := range []string{"What you can do", "pass --trust-cert AB:CD", "imap.example.test:143", "pass --allow-plaintext",
		"pass --trust-host imap.elsewhere.test", "A longer --timeout may find more"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
}

// TestAlsoWorksListsOnlyWhatWorked: the alternatives are the published
// settings' word (issue 11), so "Also works" must name only those whose own
// check worked; the rest are named as published and not used.
func TestAlsoWorksListsOnlyWhatWorked(t *testing.T) {
	for _, name := range []string{"hostile-servers", "bad-cert-993", "demo"} {
		t.Run(name, func(t *testing.T) {
			r := probeScenario(t, name)
			if r.Recommendation == nil || len(r.Recommendation.Alternatives) == 0 {
				t.Fatalf("the scenario gives no alternatives to word: %+v", r.Recommendation)
			}
			lines := strings.Split(text(t, r), "\n")
			joined := map[string]string{} // label -> its wrapped lines as one
			label := ""
			for _, l := range lines {
				switch {
				case strings.HasPrefix(l, "  Also works: "), strings.HasPrefix(l, "  Also published, not used: "):
					label = strings.TrimSpace(l[:strings.Index(l, ":")+1])
					joined[label] = l
				case label != "" && strings.HasPrefix(l, "      "):
					joined[label] += " " + strings.TrimSpace(l)
				default:
					label = ""
				}
			}
			for _, a := range r.Recommendation.Alternatives {
				addr := fmt.Sprintf(" %s:%d ", a.Host, a.Port)
				works := whyNotUsed(a, r.Servers) == ""
				for _, s := range r.Servers {
					if endpointIs(a, s) && strings.HasPrefix(verdict(s), "works") != works && s.Login != probe.LoginFailed {
						t.Errorf("%s: the table says %q but the alternative reads as working=%v", addr, verdict(s), works)
					}
				}
				inWorks := strings.Contains(joined["Also works:"], addr)
				inNotUsed := strings.Contains(joined["Also published, not used:"], addr)
				if inWorks != works || inNotUsed == works {
					t.Errorf("%s (works=%v) is listed under Also works=%v, not used=%v:\n%s", addr, works, inWorks, inNotUsed, strings.Join(lines, "\n"))
				}
			}
		})
	}
}

func TestWhyNotUsed(t *testing.T) {
	e := probe.Endpoint{Protocol: autoconfig.IMAP, Host: "imap.example.test", Port: 993, Security: autoconfig.SecurityTLS}
	s := probe.ServerReport{Protocol: e.Protocol, Host: e.Host, Port: e.Port, Security: e.Security, Reachable: true}
	for _, c := range []struct {
		name string
		edit func(*probe.ServerReport)
		want string
	}{
		{"works", func(s *probe.ServerReport) { s.TLS = &probe.TLSReport{Valid: true} }, ""},
		{"self-signed", func(s *probe.ServerReport) {
			s.TLS, s.Error = &probe.TLSReport{Error: "self-signed"}, "its certificate is not valid"
		}, "certificate not valid"},
		{"violation", func(s *probe.ServerReport) {
			s.TLS, s.Error = &probe.TLSReport{Valid: true}, "greeting: protocol violation"
		}, "failed"},
		{"not checked", func(s *probe.ServerReport) { s.Error = "not checked: a better server works" }, "not checked"},
		{"login refused", func(s *probe.ServerReport) {
			s.TLS, s.Login = &probe.TLSReport{Valid: true}, probe.LoginFailed
		}, "login refused"},
	} {
		srv := s
		c.edit(&srv)
		if got := whyNotUsed(e, []probe.ServerReport{srv}); got != c.want {
			t.Errorf("%s: whyNotUsed = %q, want %q", c.name, got, c.want)
		}
	}
	if got := whyNotUsed(e, nil); got != "not checked" {
		t.Errorf("an alternative without a check reads %q, want \"not checked\"", got)
	}
}

func TestWarningNamesItsServerOnce(t *testing.T) {
	r := probeScenario(t, "starttls-broken")
	out := text(t, r)
	if !strings.Contains(out, "IMAP imap.brokentls.test:143 refused STARTTLS") {
		t.Errorf("the STARTTLS warning does not name its server once:\n%s", out)
	}
	if strings.Contains(out, "on imap.brokentls.test:143") {
		t.Errorf("the warning names imap.brokentls.test:143 twice:\n%s", out)
	}
	if got := nameServerOnce("IMAP a.test:143: POP3 on b.test:110 refused"); got != "IMAP a.test:143: POP3 on b.test:110 refused" {
		t.Errorf("a warning about two servers was changed: %q", got)
	}
}

func TestNoAddressMeansIPAddress(t *testing.T) {
	for in, want := range map[string]string{
		"netx: the host has no address": "no IP address",
		"verify: host has no address":   "host has no IP address",
	} {
		if got := shortReason(in, 0); got != want {
			t.Errorf("shortReason(%q) = %q, want %q", in, got, want)
		}
	}
	out := text(t, probeScenario(t, "nothing"))
	if !strings.Contains(out, "no IP address") || regexp.MustCompile(`no address`).MatchString(out) {
		t.Errorf("the lookups word a missing host address as an e-mail address:\n%s", out)
	}
}
