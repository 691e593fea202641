package integration

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/verify"
)

// every is each protocol's port with implicit TLS and with STARTTLS, in the
// order a client prefers them (RFC 8314).
var every = []struct {
	protocol autoconfig.Protocol
	label    string
	port     int
	security autoconfig.Security
}{
	{autoconfig.IMAP, "imap", 993, autoconfig.SecurityTLS},
	{autoconfig.IMAP, "imap", 143, autoconfig.SecuritySTARTTLS},
	{autoconfig.POP3, "pop", 995, autoconfig.SecurityTLS},
	{autoconfig.POP3, "pop", 110, autoconfig.SecuritySTARTTLS},
	{autoconfig.SMTP, "smtp", 465, autoconfig.SecurityTLS},
	{autoconfig.SMTP, "smtp", 587, autoconfig.SecuritySTARTTLS},
}

func (r *realServers) options(t *testing.T) verify.Options {
	return verify.Options{Env: r.env(t, nil), Timeout: 10 * time.Second}
}

func serverAt(s site, label string, p autoconfig.Protocol, port int, sec autoconfig.Security) autoconfig.Server {
	return autoconfig.Server{Protocol: p, Hostname: s.Host(label), Port: port, Security: sec}
}

// TestCorrectLogin: Dovecot (IMAP, POP3) and Postfix (SMTP through Dovecot's
// SASL) accept the account over implicit TLS and over STARTTLS, and Check
// sees what they are: a valid certificate, PLAIN among the mechanisms.
func TestCorrectLogin(t *testing.T) {
	r := needServers(t)
	opts := r.options(t)
	before := len(r.loginAttempts(t, r.Good.Domain, 0, 0))
	for _, e := range every {
		s := serverAt(r.Good, e.label, e.protocol, e.port, e.security)
		t.Run(string(e.protocol)+"-"+string(e.security), func(t *testing.T) {
			ctx := testContext(t)
			res := verify.Check(ctx, opts, s)
			if res.Err != nil {
				t.Fatalf("Check: %v", res.Err)
			}
			if res.TLS == nil || !res.TLS.Valid {
				t.Fatalf("TLS = %+v, want a valid certificate", res.TLS)
			}
			if !slices.Contains(res.AuthMechanisms, "PLAIN") {
				t.Errorf("auth mechanisms %q lack PLAIN", res.AuthMechanisms)
			}
			if ok, why := res.PasswordSafe(opts); !ok {
				t.Fatalf("PasswordSafe = false (%s)", why)
			}
			lr := verify.Login(ctx, opts, s, r.Good.Email(r), []byte(r.Password))
			if lr.Status != verify.LoginOK {
				t.Fatalf("Login = %s (%s; server said %q; %v)", lr.Status, lr.Reason, lr.ServerText, lr.Err)
			}
		})
	}
	// The logs record logins; TestNameMismatch relies on that to prove
	// that none reached its servers.
	if lines := r.loginAttempts(t, r.Good.Domain, before+len(every), 5*time.Second); len(lines) < before+len(every) {
		t.Errorf("%d logins of %s in the server logs %q, want %d", len(lines)-before, r.Good.Email(r), r.Logs, len(every))
	}
}

// TestWrongPassword: each server refuses a wrong password, and the refusal
// is classified as one, with the server's own words and a fix.
func TestWrongPassword(t *testing.T) {
	r := needServers(t)
	for _, e := range every {
		if e.security != autoconfig.SecurityTLS {
			continue // one port per protocol: the password check is the same
		}
		s := serverAt(r.Good, e.label, e.protocol, e.port, e.security)
		t.Run(string(e.protocol), func(t *testing.T) {
			// Its own source address: Dovecot's penalty for the previous
			// refusal would otherwise grow towards the timeout.
			opts := r.options(t)
			lr := verify.Login(testContext(t), opts, s, r.Good.Email(r), []byte("not-"+r.Password))
			if lr.Status != verify.LoginRejected {
				t.Fatalf("Login = %s (%s; %v), want rejected", lr.Status, lr.Reason, lr.Err)
			}
			if lr.Kind != verify.KindWrongPassword {
				t.Errorf("Kind = %q, want %q (server said %q)", lr.Kind, verify.KindWrongPassword, lr.ServerText)
			}
			if !lr.PasswordSent || lr.ServerText == "" || lr.Fix == "" {
				t.Errorf("PasswordSent=%v ServerText=%q Fix=%q: want the server's words and a fix", lr.PasswordSent, lr.ServerText, lr.Fix)
			}
		})
	}
}

// TestNameMismatch: a certificate for other names is reported with the
// names it does cover, and no password goes to it, on any port — the
// servers' logs prove it — until its fingerprint is pinned (--trust-cert).
func TestNameMismatch(t *testing.T) {
	r := needServers(t)
	opts := r.options(t)
	before := len(r.loginAttempts(t, r.Mismatch.Domain, 0, 0))
	var fingerprint string
	for _, e := range every {
		s := serverAt(r.Mismatch, e.label, e.protocol, e.port, e.security)
		t.Run(string(e.protocol)+"-"+string(e.security), func(t *testing.T) {
			ctx := testContext(t)
			res := verify.Check(ctx, opts, s)
			if !res.Reachable || res.TLS == nil {
				t.Fatalf("Check: reachable=%v TLS=%v (%v), want a completed handshake", res.Reachable, res.TLS, res.Err)
			}
			if res.TLS.Valid || res.TLS.Reason != verify.ReasonNameMismatch {
				t.Errorf("TLS valid=%v reason=%q, want %q", res.TLS.Valid, res.TLS.Reason, verify.ReasonNameMismatch)
			}
			if !slices.Contains(res.TLS.Names, "other.test") {
				t.Errorf("certificate names %q: want the names it covers (other.test)", res.TLS.Names)
			}
			if !strings.Contains(res.TLS.Error, s.Hostname) {
				t.Errorf("TLS error %q does not name the host %q", res.TLS.Error, s.Hostname)
			}
			if ok, _ := res.PasswordSafe(opts); ok {
				t.Error("PasswordSafe = true for a name-mismatched certificate")
			}
			if e.port == 993 { // the server pinned below
				fingerprint = res.TLS.SHA256
			}
			lr := verify.Login(ctx, opts, s, r.Mismatch.Email(r), []byte(r.Password))
			if lr.Status != verify.LoginNotAttempted || lr.PasswordSent {
				t.Fatalf("Login = %s, PasswordSent=%v: want not-attempted with nothing sent", lr.Status, lr.PasswordSent)
			}
			if !strings.Contains(lr.Reason, "--trust-cert") {
				t.Errorf("reason %q does not say how to trust the certificate", lr.Reason)
			}
		})
	}
	time.Sleep(logSettle)
	if lines := r.loginAttempts(t, r.Mismatch.Domain, 0, 0); len(lines) > before {
		t.Fatalf("a login reached a server with a mismatched certificate:\n%s", strings.Join(lines[before:], "\n"))
	}
	if fingerprint == "" {
		t.Fatal("no certificate fingerprint to pin")
	}
	pinned := opts
	pinned.TrustCertSHA256 = []string{fingerprint}
	s := serverAt(r.Mismatch, "imap", autoconfig.IMAP, 993, autoconfig.SecurityTLS)
	lr := verify.Login(testContext(t), pinned, s, r.Mismatch.Email(r), []byte(r.Password))
	if lr.Status != verify.LoginOK || lr.TLS == nil || !lr.TLS.Pinned {
		t.Errorf("Login with the pinned certificate = %s (%s; %v), want ok and pinned", lr.Status, lr.Reason, lr.Err)
	}
}

// TestSTARTTLSOnly: a server without implicit TLS is proven and used
// through the upgrade; its missing TLS ports are unreachable, not errors of
// the certificate.
func TestSTARTTLSOnly(t *testing.T) {
	r := needServers(t)
	opts := r.options(t)
	for _, e := range every {
		s := serverAt(r.STARTTLS, e.label, e.protocol, e.port, e.security)
		t.Run(string(e.protocol)+"-"+string(e.security), func(t *testing.T) {
			ctx := testContext(t)
			res := verify.Check(ctx, opts, s)
			if e.security == autoconfig.SecurityTLS {
				if res.Reachable || res.Err == nil {
					t.Errorf("Check of a port nothing listens on: reachable=%v err=%v", res.Reachable, res.Err)
				}
				return
			}
			if res.Err != nil || res.TLS == nil || !res.TLS.Valid {
				t.Fatalf("Check: TLS=%+v err=%v, want a valid certificate after STARTTLS", res.TLS, res.Err)
			}
			if res.HasFinding(verify.FindingSTARTTLSNotAdvertised) || res.HasFinding(verify.FindingSTARTTLSFailed) {
				t.Errorf("findings %+v on a correct STARTTLS server", res.Findings)
			}
			lr := verify.Login(ctx, opts, s, r.STARTTLS.Email(r), []byte(r.Password))
			if lr.Status != verify.LoginOK {
				t.Fatalf("Login = %s (%s; server said %q; %v)", lr.Status, lr.Reason, lr.ServerText, lr.Err)
			}
		})
	}
}
