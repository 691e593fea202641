package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// srvService names each port's RFC 6186/8314 service.
var srvService = map[int]string{993: "_imaps", 143: "_imap", 995: "_pop3s", 110: "_pop3", 465: "_submissions", 587: "_submission"}

// publishSRV adds SRV records for every service of a site, as a provider
// that publishes its settings does.
func publishSRV(z *zone, s site) {
	if z.srv == nil {
		z.srv = map[string][]*dns.SRV{}
	}
	for _, e := range every {
		owner := dns.Fqdn(srvService[e.port] + "._tcp." + s.Domain)
		z.srv[owner] = append(z.srv[owner], srvRecord(owner, uint16(e.port), s.Host(e.label)))
	}
}

// probeBudget is the probe's --timeout here, where a test's point is not
// the budget. The wrong-password case runs with the default (see there).
const probeBudget = 40 * time.Second

// runProbe runs the whole prober, discovery to recommendation, with the
// zone as its --dns-server and the script's CA as its --ca-file.
func (r *realServers) runProbe(t *testing.T, z *zone, email, password string) *probe.Report {
	t.Helper()
	return r.runProbeIn(t, r.env(t, z), email, password)
}

// runProbeIn runs the prober in env. What it did is logged, for when a
// test fails.
func (r *realServers) runProbeIn(t *testing.T, env netx.Env, email, password string) *probe.Report {
	t.Helper()
	return r.runProbeBudget(t, env, email, password, probeBudget)
}

// runProbeBudget is runProbeIn with the given --timeout.
func (r *realServers) runProbeBudget(t *testing.T, env netx.Env, email, password string, budget time.Duration) *probe.Report {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), budget+10*time.Second)
	defer cancel()
	rep, err := probe.Run(ctx, probe.Options{
		Env:      env,
		Password: []byte(password),
		Timeout:  budget,
		Rand:     rand.New(rand.NewPCG(1, 2)),
		Progress: func(e probe.Event) {
			t.Logf("%6dms %s %s", time.Since(start).Milliseconds(), e.Kind, e.Text)
		},
	}, email)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func describe(e *probe.Endpoint) string {
	if e == nil {
		return "none"
	}
	return fmt.Sprintf("%s %s:%d %s", e.Protocol, e.Host, e.Port, e.Security)
}

// wantEndpoint checks protocol, port and security, and that the host is
// the domain or a name under it (guessing names one server several ways).
func wantEndpoint(t *testing.T, what string, e *probe.Endpoint, p autoconfig.Protocol, port int, sec autoconfig.Security, domain string) {
	t.Helper()
	if e == nil || e.Protocol != p || e.Port != port || e.Security != sec || (e.Host != domain && !strings.HasSuffix(e.Host, "."+domain)) {
		t.Errorf("%s = %s, want %s (*.)%s:%d %s", what, describe(e), p, domain, port, sec)
	}
}

// TestProbe runs `mailsetup probe` end to end against the real servers:
// SRV-published settings with a login, a STARTTLS-only domain found by
// guessing, a wrong password, and a name-mismatched certificate.
func TestProbe(t *testing.T) {
	r := needServers(t)

	t.Run("published/login", func(t *testing.T) {
		z := &zone{r: r}
		publishSRV(z, r.Good)
		rep := r.runProbe(t, z, r.Good.Email(r), r.Password)
		if rep.Status != probe.StatusOK || rep.Recommendation == nil {
			t.Fatalf("status %s, recommendation %v; warnings %q", rep.Status, rep.Recommendation, rep.Warnings)
		}
		rec := rep.Recommendation
		wantEndpoint(t, "incoming", &rec.Incoming, autoconfig.IMAP, 993, autoconfig.SecurityTLS, r.Good.Domain)
		wantEndpoint(t, "outgoing", rec.Outgoing, autoconfig.SMTP, 465, autoconfig.SecurityTLS, r.Good.Domain)
		if rec.Confidence != "login" || rec.Incoming.Username != r.Good.Email(r) {
			t.Errorf("confidence %q, username %q: want proven by a login as %s", rec.Confidence, rec.Incoming.Username, r.Good.Email(r))
		}
	})

	t.Run("starttls-only/guessed", func(t *testing.T) {
		rep := r.runProbe(t, &zone{r: r}, r.STARTTLS.Email(r), r.Password)
		if rep.Status != probe.StatusOK || rep.Recommendation == nil {
			t.Fatalf("status %s, recommendation %v; warnings %q", rep.Status, rep.Recommendation, rep.Warnings)
		}
		rec := rep.Recommendation
		wantEndpoint(t, "incoming", &rec.Incoming, autoconfig.IMAP, 143, autoconfig.SecuritySTARTTLS, r.STARTTLS.Domain)
		wantEndpoint(t, "outgoing", rec.Outgoing, autoconfig.SMTP, 587, autoconfig.SecuritySTARTTLS, r.STARTTLS.Domain)
		if rec.Confidence != "login" {
			t.Errorf("confidence %q, want login", rec.Confidence)
		}
	})

	// Dovecot holds back each refused login from an address a little
	// longer (auth_failure_delay 2 s, then its auth penalty: about 2, 6, 6,
	// 6 s here), so the four attempts a wrong password may cost (two
	// usernames, incoming and outgoing) would take about 20 s. Within the
	// default 15 s the first refusal is reported as a wrong password in the
	// server's words, and an attempt whose answer did not come in the time
	// left says so: it is no refusal (issue 11).
	t.Run("wrong-password", func(t *testing.T) {
		z := &zone{r: r}
		publishSRV(z, r.Good)
		env := r.env(t, z)
		start := time.Now()
		rep := r.runProbeBudget(t, env, r.Good.Email(r), "not-"+r.Password, probe.DefaultTimeout)
		if took := time.Since(start); took > probe.DefaultTimeout+2*time.Second {
			t.Errorf("the probe took %v with the default budget of %v", took, probe.DefaultTimeout)
		}
		if rep.Status != probe.StatusLoginRejected {
			t.Fatalf("status %s, want %s; warnings %q", rep.Status, probe.StatusLoginRejected, rep.Warnings)
		}
		for _, s := range rep.Servers {
			if d := s.LoginDetail; d != nil && strings.Contains(d.Reason, "deadline") {
				t.Errorf("%s %s:%d: reason %q: a time-out is no refusal", s.Protocol, s.Host, s.Port, d.Reason)
			}
			if s.Login != probe.LoginFailed {
				continue
			}
			d := s.LoginDetail
			switch {
			case d == nil:
				t.Errorf("%s %s:%d: failed login without detail", s.Protocol, s.Host, s.Port)
			case d.Kind == "wrong-password" && d.ServerText != "":
			// Postfix gives up on Dovecot's auth when its penalty for the
			// earlier refusals outlasts the SASL timeout, and says so
			// (454 4.7.0): a temporary failure, to be reported as one.
			case strings.HasPrefix(d.ServerText, "454 ") && d.Fix != "":
			default:
				t.Errorf("%s %s:%d: login detail %+v, want kind wrong-password", s.Protocol, s.Host, s.Port, d)
			}
		}
		// Two refusals per direction at most, counted where it matters:
		// by the server, which logs every refused password check.
		time.Sleep(logSettle)
		n := r.refusedChecks(t, sourceOf(env))
		t.Logf("Dovecot refused %d password checks from the probe", n)
		if n == 0 || n > 4 {
			t.Errorf("Dovecot refused %d password checks from the probe, want 1 to 4 (two per direction)", n)
		}
	})

	t.Run("name-mismatch", func(t *testing.T) {
		before := len(r.loginAttempts(t, r.Mismatch.Domain, 0, 0))
		z := &zone{r: r}
		publishSRV(z, r.Mismatch)
		rep := r.runProbe(t, z, r.Mismatch.Email(r), r.Password)
		if rep.Status != probe.StatusInsecureOnly || rep.Recommendation != nil {
			t.Errorf("status %s, recommendation %s; want %s and none", rep.Status, describeRec(rep.Recommendation), probe.StatusInsecureOnly)
		}
		for _, s := range rep.Servers {
			if s.Login == probe.LoginOK || s.Login == probe.LoginFailed {
				t.Errorf("%s %s:%d: login %s with a mismatched certificate", s.Protocol, s.Host, s.Port, s.Login)
			}
			if s.Reachable && (s.TLS == nil || s.TLS.Valid || !strings.Contains(s.TLS.Error, s.Host)) {
				t.Errorf("%s %s:%d: TLS %+v, want invalid, naming the host", s.Protocol, s.Host, s.Port, s.TLS)
			}
		}
		time.Sleep(logSettle)
		if after := r.loginAttempts(t, r.Mismatch.Domain, 0, 0); len(after) > before {
			t.Errorf("a login reached a server with a mismatched certificate:\n%s", strings.Join(after[before:], "\n"))
		}
	})
}

func describeRec(rec *probe.Recommendation) string {
	if rec == nil {
		return "none"
	}
	return describe(&rec.Incoming)
}
