package verify

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/testnet"
)

func server(p autoconfig.Protocol, host string, port int, sec autoconfig.Security) autoconfig.Server {
	return autoconfig.Server{Protocol: p, Hostname: host, Port: port, Security: sec}
}

// serve starts a well-behaved server of protocol p with cert and returns
// its recorder.
func (w *world) serve(p autoconfig.Protocol, host string, port int, sec autoconfig.Security, cert tls.Certificate) *recorder {
	switch p {
	case autoconfig.IMAP:
		return w.imapServer(host, port, sec, cert, sec == autoconfig.SecurityPlain, nil)
	case autoconfig.POP3:
		return w.pop3Server(host, port, sec, cert, pop3Script{stls: sec == autoconfig.SecuritySTARTTLS})
	default:
		return w.smtpServer(host, port, sec, cert, []string{"PLAIN"}, nil)
	}
}

var secureServers = []struct {
	proto autoconfig.Protocol
	port  int
	sec   autoconfig.Security
	// caps must appear after TLS; mech is the login mechanism expected.
	caps []string
	mech string
}{
	{autoconfig.IMAP, 993, autoconfig.SecurityTLS, []string{"IMAP4REV1", "AUTH=PLAIN"}, "PLAIN"},
	{autoconfig.IMAP, 143, autoconfig.SecuritySTARTTLS, []string{"IMAP4REV1", "AUTH=PLAIN"}, "PLAIN"},
	{autoconfig.POP3, 995, autoconfig.SecurityTLS, []string{"USER", "SASL PLAIN"}, "PLAIN"},
	{autoconfig.POP3, 110, autoconfig.SecuritySTARTTLS, []string{"USER", "SASL PLAIN"}, "PLAIN"},
	{autoconfig.SMTP, 465, autoconfig.SecurityTLS, []string{"AUTH PLAIN"}, "PLAIN"},
	{autoconfig.SMTP, 587, autoconfig.SecuritySTARTTLS, []string{"AUTH PLAIN"}, "PLAIN"},
}

func TestValidTLSEveryProtocol(t *testing.T) {
	for _, tc := range secureServers {
		t.Run(fmt.Sprintf("%s-%d", tc.proto, tc.port), func(t *testing.T) {
			w := newWorld(t)
			host := "mail.example.test"
			rec := w.serve(tc.proto, host, tc.port, tc.sec, w.good(host))
			s := server(tc.proto, host, tc.port, tc.sec)
			opts := w.opts()

			res := Check(context.Background(), opts, s)
			if res.Err != nil {
				t.Fatalf("Check: %v", res.Err)
			}
			if !res.Reachable || res.Address != w.addr(host).String()+fmt.Sprint(":", tc.port) {
				t.Errorf("Reachable=%v Address=%q", res.Reachable, res.Address)
			}
			if res.TLS == nil || !res.TLS.Valid {
				t.Fatalf("TLS = %+v, want valid", res.TLS)
			}
			if res.TLS.Version != "TLS 1.3" || len(res.TLS.SHA256) != 64 || !slices.Contains(res.TLS.Names, host) || res.TLS.Issuer != "CN=mailsetup test CA" {
				t.Errorf("TLS details = %+v", res.TLS)
			}
			for _, c := range tc.caps {
				if !hasCapability(res.Capabilities, strings.Fields(c)[0]) || !slices.Contains(res.Capabilities, c) {
					t.Errorf("capabilities %q lack %q", res.Capabilities, c)
				}
			}
			if hasCapability(res.Capabilities, "STARTTLS") || hasCapability(res.Capabilities, "STLS") {
				t.Errorf("capabilities after TLS still offer an upgrade: %q (were they read before TLS?)", res.Capabilities)
			}
			if !slices.Contains(res.AuthMechanisms, "PLAIN") {
				t.Errorf("AuthMechanisms = %q, want PLAIN", res.AuthMechanisms)
			}
			if res.Greeting == "" {
				t.Error("no greeting recorded")
			}
			for _, f := range res.Findings {
				if f.Severity != SeverityInfo {
					t.Errorf("unexpected finding %+v", f)
				}
			}
			if ok, why := res.PasswordSafe(opts); !ok {
				t.Errorf("PasswordSafe = false (%s)", why)
			}
			if len(rec.attempts()) != 0 {
				t.Errorf("Check sent credentials: %q", rec.attempts())
			}

			lr := Login(context.Background(), opts, s, testUser, []byte(testPassword))
			if lr.Status != LoginOK || lr.Mechanism != tc.mech || !lr.PasswordSent || lr.TLS == nil || !lr.TLS.Valid {
				t.Fatalf("Login = %+v (err %v)", lr, lr.Err)
			}
			if got := rec.attempts(); !slices.Equal(got, []string{testUser + ":" + testPassword}) {
				t.Errorf("server saw logins %q", got)
			}
			if strings.Contains(rec.bytesReceived(), testPassword) {
				t.Error("the password crossed the wire unencrypted")
			}
		})
	}
}

func TestBadCertificatesRefuseLogin(t *testing.T) {
	host := "imap.example.test"
	hour := time.Hour
	cases := []struct {
		name   string
		cert   func(w *world) tls.Certificate
		reason Reason
		inErr  string
	}{
		{"name-mismatch", func(w *world) tls.Certificate {
			return w.ca.LeafValid(t, time.Now().Add(-hour), time.Now().Add(hour), "mail.hoster.test", "*.hoster.test")
		}, ReasonNameMismatch, `connect to mail.hoster.test instead`},
		{"expired", func(w *world) tls.Certificate {
			return w.ca.LeafValid(t, time.Now().Add(-48*hour), time.Now().Add(-24*hour), host)
		}, ReasonExpired, "expired on"},
		{"not-yet-valid", func(w *world) tls.Certificate {
			return w.ca.LeafValid(t, time.Now().Add(24*hour), time.Now().Add(48*hour), host)
		}, ReasonNotYetValid, "valid only from"},
		{"self-signed", func(w *world) tls.Certificate {
			return w.ca.SelfSigned(t, time.Now().Add(-hour), time.Now().Add(hour), host)
		}, ReasonSelfSigned, "self-signed"},
		{"unknown-authority", func(w *world) tls.Certificate {
			return testnet.NewCA(t, "Some Other CA").LeafValid(t, time.Now().Add(-hour), time.Now().Add(hour), host)
		}, ReasonUnknownAuthority, `"CN=Some Other CA"`},
	}
	for _, tc := range cases {
		for _, sec := range []autoconfig.Security{autoconfig.SecurityTLS, autoconfig.SecuritySTARTTLS} {
			t.Run(tc.name+"-"+string(sec), func(t *testing.T) {
				w := newWorld(t)
				port := map[autoconfig.Security]int{autoconfig.SecurityTLS: 993, autoconfig.SecuritySTARTTLS: 143}[sec]
				rec := w.imapServer(host, port, sec, tc.cert(w), false, nil)
				s := server(autoconfig.IMAP, host, port, sec)
				opts := w.opts()

				res := Check(context.Background(), opts, s)
				if res.Err != nil {
					t.Fatalf("Check: %v", res.Err)
				}
				if res.TLS == nil || res.TLS.Valid || res.TLS.Reason != tc.reason || !strings.Contains(res.TLS.Error, tc.inErr) {
					t.Fatalf("TLS = %+v, want reason %s and %q in the error", res.TLS, tc.reason, tc.inErr)
				}
				if !res.HasFinding(FindingCertificateInvalid) {
					t.Errorf("no certificate finding: %+v", res.Findings)
				}
				if ok, why := res.PasswordSafe(opts); ok || !strings.Contains(why, "--trust-cert "+res.TLS.SHA256) {
					t.Errorf("PasswordSafe = %v, %q; want false naming the pin", ok, why)
				}
				lr := Login(context.Background(), opts, s, testUser, []byte(testPassword))
				if lr.Status != LoginNotAttempted || lr.PasswordSent || !errors.Is(lr.Err, ErrUnsafe) {
					t.Fatalf("Login = %+v (err %v), want not-attempted", lr, lr.Err)
				}
				if rec.sawPassword() {
					t.Fatal("the password reached a server with an invalid certificate")
				}
			})
		}
	}
}

func TestNameMismatchOffersCoveredNames(t *testing.T) {
	w := newWorld(t)
	cert := w.ca.LeafValid(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), "mail.hoster.test", "smtp.hoster.test")
	w.smtpServer("smtp.customer.test", 465, autoconfig.SecurityTLS, cert, []string{"PLAIN"}, nil)
	res := Check(context.Background(), w.opts(), server(autoconfig.SMTP, "smtp.customer.test", 465, autoconfig.SecurityTLS))
	if res.TLS == nil || !slices.Equal(res.TLS.Names, []string{"mail.hoster.test", "smtp.hoster.test"}) {
		t.Fatalf("TLS = %+v", res.TLS)
	}
	if !slices.Equal(res.TLS.Problems, []Reason{ReasonNameMismatch}) {
		t.Errorf("Problems = %v, want only name-mismatch (the chain is fine)", res.TLS.Problems)
	}
}

func TestExpiredSelfSignedShowsBothProblems(t *testing.T) {
	w := newWorld(t)
	host := "pop.example.test"
	w.pop3Server(host, 995, autoconfig.SecurityTLS, w.ca.SelfSigned(t, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour), host), pop3Script{})
	res := Check(context.Background(), w.opts(), server(autoconfig.POP3, host, 995, autoconfig.SecurityTLS))
	if res.TLS == nil || !slices.Contains(res.TLS.Problems, ReasonExpired) || !slices.Contains(res.TLS.Problems, ReasonSelfSigned) {
		t.Fatalf("TLS = %+v, want expired and self-signed", res.TLS)
	}
}

func TestPinnedCertificateAllowsLogin(t *testing.T) {
	for _, tc := range secureServers {
		t.Run(fmt.Sprintf("%s-%d", tc.proto, tc.port), func(t *testing.T) {
			w := newWorld(t)
			host := "mail.example.test"
			rec := w.serve(tc.proto, host, tc.port, tc.sec, w.ca.SelfSigned(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), host))
			s := server(tc.proto, host, tc.port, tc.sec)
			opts := w.opts()
			res := Check(context.Background(), opts, s)
			if res.TLS == nil || res.TLS.Valid || res.TLS.Pinned {
				t.Fatalf("TLS = %+v, want invalid, not pinned", res.TLS)
			}

			// A pin of another certificate changes nothing.
			opts.TrustCertSHA256 = []string{strings.Repeat("ab", 32)}
			if lr := Login(context.Background(), opts, s, testUser, []byte(testPassword)); lr.Status != LoginNotAttempted || rec.sawPassword() {
				t.Fatalf("Login with a wrong pin = %+v", lr)
			}

			// The pin as people copy it: upper case with colons.
			fp := strings.ToUpper(res.TLS.SHA256)
			var pairs []string
			for i := 0; i < len(fp); i += 2 {
				pairs = append(pairs, fp[i:i+2])
			}
			opts.TrustCertSHA256 = []string{strings.Join(pairs, ":")}
			res = Check(context.Background(), opts, s)
			if !res.TLS.Pinned {
				t.Errorf("Pinned = false with the exact fingerprint")
			}
			if ok, why := res.PasswordSafe(opts); !ok {
				t.Errorf("PasswordSafe = false (%s)", why)
			}
			lr := Login(context.Background(), opts, s, testUser, []byte(testPassword))
			if lr.Status != LoginOK || !lr.TLS.Pinned {
				t.Fatalf("Login = %+v (err %v)", lr, lr.Err)
			}
		})
	}
}

func TestPlaintextRefusedWithoutFlag(t *testing.T) {
	ports := map[autoconfig.Protocol]int{autoconfig.IMAP: 143, autoconfig.POP3: 110, autoconfig.SMTP: 25}
	for _, p := range []autoconfig.Protocol{autoconfig.IMAP, autoconfig.POP3, autoconfig.SMTP} {
		t.Run(string(p), func(t *testing.T) {
			w := newWorld(t)
			host := "mail.example.test"
			rec := w.serve(p, host, ports[p], autoconfig.SecurityPlain, w.good(host))
			s := server(p, host, ports[p], autoconfig.SecurityPlain)
			opts := w.opts()

			res := Check(context.Background(), opts, s)
			if res.Err != nil || res.TLS != nil || !res.HasFinding(FindingPlaintext) {
				t.Fatalf("Check = %+v", res)
			}
			if ok, why := res.PasswordSafe(opts); ok || !strings.Contains(why, "--allow-plaintext") {
				t.Errorf("PasswordSafe = %v, %q", ok, why)
			}
			dialsBefore := len(w.dial.Dials())
			lr := Login(context.Background(), opts, s, testUser, []byte(testPassword))
			if lr.Status != LoginNotAttempted || lr.PasswordSent || !strings.Contains(lr.Reason, "--allow-plaintext") {
				t.Fatalf("Login = %+v", lr)
			}
			if len(w.dial.Dials()) != dialsBefore {
				t.Error("Login connected to a plaintext server it was not allowed to use")
			}
			if rec.sawPassword() {
				t.Fatal("the password reached the server")
			}

			opts.AllowPlaintext = true
			if ok, _ := res.PasswordSafe(opts); !ok {
				t.Error("PasswordSafe = false with AllowPlaintext")
			}
			lr = Login(context.Background(), opts, s, testUser, []byte(testPassword))
			if lr.Status != LoginOK {
				t.Fatalf("Login with AllowPlaintext = %+v (err %v)", lr, lr.Err)
			}
			if !rec.sawPassword() {
				t.Error("the recorder did not see the password Login was allowed to send")
			}
		})
	}
}

func TestIMAPLoginDisabledBeforeTLS(t *testing.T) {
	w := newWorld(t)
	host := "imap.example.test"
	w.imapServer(host, 143, autoconfig.SecurityPlain, w.good(host), false, nil)
	opts := w.opts()
	res := Check(context.Background(), opts, server(autoconfig.IMAP, host, 143, autoconfig.SecurityPlain))
	if !res.LoginDisabled || !res.HasFinding(FindingLoginDisabled) {
		t.Fatalf("Check = %+v, want LOGINDISABLED noted", res)
	}
	opts.AllowPlaintext = true
	lr := Login(context.Background(), opts, server(autoconfig.IMAP, host, 143, autoconfig.SecurityPlain), testUser, []byte(testPassword))
	if lr.Status != LoginNotAttempted || lr.PasswordSent {
		t.Fatalf("Login = %+v, want not-attempted: the server disables LOGIN", lr)
	}
}

// starttlsRefusers play servers that advertise the upgrade and then refuse
// it; a password must never follow.
var starttlsRefusers = []struct {
	proto autoconfig.Protocol
	port  int
	play  func(c net.Conn, br *bufio.Reader)
}{
	{autoconfig.IMAP, 143, func(c net.Conn, br *bufio.Reader) {
		fmt.Fprint(c, "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n")
		for {
			tag, cmd, _ := strings.Cut(readCommand(br), " ")
			switch strings.ToUpper(cmd) {
			case "":
				return
			case "CAPABILITY":
				fmt.Fprintf(c, "* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN\r\n%s OK done\r\n", tag)
			case "STARTTLS":
				fmt.Fprintf(c, "%s NO TLS is broken today\r\n", tag)
			default:
				fmt.Fprintf(c, "%s OK whatever\r\n", tag)
			}
		}
	}},
	{autoconfig.POP3, 110, func(c net.Conn, br *bufio.Reader) {
		fmt.Fprint(c, "+OK ready\r\n")
		for {
			switch cmd, _, _ := strings.Cut(readCommand(br), " "); strings.ToUpper(cmd) {
			case "":
				return
			case "CAPA":
				fmt.Fprint(c, "+OK\r\nSTLS\r\nUSER\r\n.\r\n")
			case "STLS":
				fmt.Fprint(c, "-ERR TLS is broken today\r\n")
			default:
				fmt.Fprint(c, "+OK\r\n")
			}
		}
	}},
	{autoconfig.SMTP, 587, func(c net.Conn, br *bufio.Reader) {
		fmt.Fprint(c, "220 smtp.example.test ESMTP\r\n")
		for {
			switch cmd, _, _ := strings.Cut(readCommand(br), " "); strings.ToUpper(cmd) {
			case "":
				return
			case "EHLO":
				fmt.Fprint(c, "250-smtp.example.test\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n")
			case "STARTTLS":
				fmt.Fprint(c, "454 4.7.0 TLS not available due to temporary reason\r\n")
			default:
				fmt.Fprint(c, "235 2.7.0 Authentication successful\r\n")
			}
		}
	}},
}

func TestSTARTTLSAdvertisedThenRefused(t *testing.T) {
	for _, tc := range starttlsRefusers {
		t.Run(string(tc.proto), func(t *testing.T) {
			w := newWorld(t)
			host := "mail.example.test"
			rec := w.scripted(host, tc.port, tc.play)
			s := server(tc.proto, host, tc.port, autoconfig.SecuritySTARTTLS)
			opts := w.opts()
			opts.AllowPlaintext = true // even so: a STARTTLS server never falls back

			res := Check(context.Background(), opts, s)
			if !errors.Is(res.Err, ErrSTARTTLS) || !res.HasFinding(FindingSTARTTLSFailed) || res.TLS != nil {
				t.Fatalf("Check = %+v (err %v)", res, res.Err)
			}
			if ok, _ := res.PasswordSafe(opts); ok {
				t.Error("PasswordSafe = true after a refused STARTTLS")
			}
			lr := Login(context.Background(), opts, s, testUser, []byte(testPassword))
			if lr.Status != LoginNotAttempted || lr.PasswordSent {
				t.Fatalf("Login = %+v", lr)
			}
			got := rec.bytesReceived()
			if strings.Contains(got, testPassword) || strings.Contains(strings.ToUpper(got), "AUTH") || strings.Contains(strings.ToUpper(got), "PASS") || strings.Contains(strings.ToUpper(got), "LOGIN ") {
				t.Fatalf("credentials were sent after a refused upgrade:\n%s", got)
			}
		})
	}
}

func TestSTARTTLSInjectionIsCritical(t *testing.T) {
	w := newWorld(t)
	host := "smtp.example.test"
	w.scripted(host, 587, func(c net.Conn, br *bufio.Reader) {
		fmt.Fprint(c, "220 smtp.example.test ESMTP\r\n")
		readCommand(br) // EHLO
		fmt.Fprint(c, "250-smtp.example.test\r\n250 STARTTLS\r\n")
		readCommand(br) // STARTTLS
		// The go-ahead and a command meant to run "inside" TLS, in one write.
		fmt.Fprint(c, "220 2.0.0 Ready\r\n250 AUTH PLAIN\r\n")
		readCommand(br)
	})
	res := Check(context.Background(), w.opts(), server(autoconfig.SMTP, host, 587, autoconfig.SecuritySTARTTLS))
	if !res.HasFinding(FindingSTARTTLSInjection) || !errors.Is(res.Err, ErrSTARTTLS) {
		t.Fatalf("Check = %+v (err %v)", res, res.Err)
	}
}

func TestSTLSNotAdvertisedIsAFinding(t *testing.T) {
	w := newWorld(t)
	host := "pop.example.test"
	w.pop3Server(host, 110, autoconfig.SecuritySTARTTLS, w.good(host), pop3Script{stls: true, hideSTLS: true})
	res := Check(context.Background(), w.opts(), server(autoconfig.POP3, host, 110, autoconfig.SecuritySTARTTLS))
	if res.Err != nil || !res.HasFinding(FindingSTARTTLSNotAdvertised) || res.TLS == nil || !res.TLS.Valid {
		t.Fatalf("Check = %+v (err %v)", res, res.Err)
	}
}

func TestOversizedAndEndlessLinesAreBounded(t *testing.T) {
	cases := []struct {
		name  string
		proto autoconfig.Protocol
		play  func(c net.Conn, br *bufio.Reader)
	}{
		{"imap-long-greeting", autoconfig.IMAP, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "* OK "+strings.Repeat("x", 1<<20))
		}},
		{"smtp-endless-ehlo", autoconfig.SMTP, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "220 hi\r\n")
			readCommand(br)
			for {
				if _, err := fmt.Fprint(c, "250-PIPELINING\r\n"); err != nil {
					return
				}
			}
		}},
		{"pop3-endless-capa", autoconfig.POP3, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "+OK hi\r\n")
			readCommand(br)
			fmt.Fprint(c, "+OK\r\n")
			for {
				if _, err := fmt.Fprint(c, "X-CAPABILITY\r\n"); err != nil {
					return
				}
			}
		}},
		{"imap-endless-line", autoconfig.IMAP, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "* OK ")
			for {
				if _, err := fmt.Fprint(c, strings.Repeat("y", 4096)); err != nil {
					return
				}
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			host := "mail.example.test"
			w.scripted(host, 25, tc.play)
			s := server(tc.proto, host, 25, autoconfig.SecurityPlain)
			opts := w.opts()
			res := Check(context.Background(), opts, s)
			if !errors.Is(res.Err, ErrTooLong) {
				t.Fatalf("Check err = %v, want ErrTooLong", res.Err)
			}
			opts.AllowPlaintext = true
			lr := Login(context.Background(), opts, s, testUser, []byte(testPassword))
			if lr.Status == LoginOK || lr.PasswordSent {
				t.Fatalf("Login = %+v", lr)
			}
		})
	}
}

func TestBlackholeBoundedByTimeout(t *testing.T) {
	w := newWorld(t)
	host := "imap.example.test"
	w.scripted(host, 993, func(c net.Conn, br *bufio.Reader) { io.Copy(io.Discard, br) }) // accepts, never speaks
	opts := w.opts()
	opts.Timeout = 200 * time.Millisecond
	s := server(autoconfig.IMAP, host, 993, autoconfig.SecurityTLS)
	res := Check(context.Background(), opts, s)
	// Our own deadline ended the handshake: a timeout, not a TLS fault.
	if res.Err == nil || !res.Reachable || !errors.Is(res.Err, ErrTimeout) || errors.Is(res.Err, ErrTLS) || len(res.Findings) > 0 {
		t.Fatalf("Check = %+v (err %v)", res, res.Err)
	}
	// The bound is Timeout; 20x leaves room for a loaded machine.
	if res.Elapsed > 4*time.Second {
		t.Errorf("Check took %v with a %v timeout", res.Elapsed, opts.Timeout)
	}
	lr := Login(context.Background(), opts, s, testUser, []byte(testPassword))
	if lr.Status != LoginNotAttempted || lr.Elapsed > 4*time.Second {
		t.Fatalf("Login = %+v", lr)
	}

	// The context's deadline bounds a Check too, when it is earlier.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	opts.Timeout = time.Hour
	if res := Check(ctx, opts, s); !errors.Is(res.Err, context.DeadlineExceeded) {
		t.Fatalf("Check err = %v, want the context's deadline", res.Err)
	}
}

func TestHappyEyeballs(t *testing.T) {
	w := newWorld(t)
	host := "imap.example.test"
	w.imapServer(host, 993, autoconfig.SecurityTLS, w.good(host), false, nil)
	// The host also has an IPv6 address that never answers, listed first.
	hole := "[fd00::1]:993"
	w.res.Addrs[host] = append([]netip.Addr{netip.MustParseAddr("fd00::1")}, w.res.Addrs[host]...)
	w.dial.Hang(hole)
	res := Check(context.Background(), w.opts(), server(autoconfig.IMAP, host, 993, autoconfig.SecurityTLS))
	if res.Err != nil || res.Address != w.addr(host).String()+":993" {
		t.Fatalf("Check = %+v (err %v)", res, res.Err)
	}
	if d := w.dial.Dials(); len(d) < 2 || d[0] != hole {
		t.Errorf("dials = %q, want IPv6 first, then IPv4", d)
	}
}

func TestNoAddressAndRefused(t *testing.T) {
	w := newWorld(t)
	res := Check(context.Background(), w.opts(), server(autoconfig.IMAP, "nowhere.example.test", 993, autoconfig.SecurityTLS))
	if !errors.Is(res.Err, ErrNoAddress) || res.Reachable {
		t.Fatalf("Check = %+v", res)
	}
	w.addr("refused.example.test")
	res = Check(context.Background(), w.opts(), server(autoconfig.IMAP, "refused.example.test", 993, autoconfig.SecurityTLS))
	if !errors.Is(res.Err, testnet.ErrRefused) || res.Reachable {
		t.Fatalf("Check = %+v", res)
	}
	res = Check(context.Background(), w.opts(), server(autoconfig.Protocol("jmap"), "x.test", 443, autoconfig.SecurityTLS))
	if !errors.Is(res.Err, ErrBadServer) {
		t.Fatalf("Check = %+v", res)
	}
}

func TestRejectionsClassified(t *testing.T) {
	host := "mail.example.test"
	cases := []struct {
		name  string
		start func(w *world) (autoconfig.Server, *recorder)
		pass  string
		kind  Kind
		text  string
	}{
		{"imap-wrong-password", func(w *world) (autoconfig.Server, *recorder) {
			return server(autoconfig.IMAP, host, 993, autoconfig.SecurityTLS), w.imapServer(host, 993, autoconfig.SecurityTLS, w.good(host), false, nil)
		}, "wrong", KindWrongPassword, "AUTHENTICATIONFAILED"},
		{"imap-app-password", func(w *world) (autoconfig.Server, *recorder) {
			return server(autoconfig.IMAP, host, 993, autoconfig.SecurityTLS), w.imapServer(host, 993, autoconfig.SecurityTLS, w.good(host), false,
				&imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAlert, Text: "Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)"})
		}, testPassword, KindAppPasswordRequired, "[ALERT] Application-specific password required"},
		{"imap-webalert", func(w *world) (autoconfig.Server, *recorder) {
			return server(autoconfig.IMAP, host, 993, autoconfig.SecurityTLS), w.imapServer(host, 993, autoconfig.SecurityTLS, w.good(host), false,
				&imap.Error{Type: imap.StatusResponseTypeNo, Code: "WEBALERT https://accounts.example.test/continue", Text: "Sign in to continue."})
		}, testPassword, KindWebLoginRequired, "WEBALERT"},
		{"smtp-wrong-password", func(w *world) (autoconfig.Server, *recorder) {
			return server(autoconfig.SMTP, host, 587, autoconfig.SecuritySTARTTLS), w.smtpServer(host, 587, autoconfig.SecuritySTARTTLS, w.good(host), []string{"PLAIN"}, nil)
		}, "wrong", KindWrongPassword, "535 5.7.8"},
		{"smtp-app-password", func(w *world) (autoconfig.Server, *recorder) {
			return server(autoconfig.SMTP, host, 465, autoconfig.SecurityTLS), w.smtpServer(host, 465, autoconfig.SecurityTLS, w.good(host), []string{"PLAIN"},
				&smtp.SMTPError{Code: 534, EnhancedCode: smtp.EnhancedCode{5, 7, 9}, Message: "Application-specific password required. Learn more at https://support.google.com/mail/?p=InvalidSecondFactor"})
		}, testPassword, KindAppPasswordRequired, "534 5.7.9"},
		{"smtp-web-login", func(w *world) (autoconfig.Server, *recorder) {
			return server(autoconfig.SMTP, host, 465, autoconfig.SecurityTLS), w.smtpServer(host, 465, autoconfig.SecurityTLS, w.good(host), []string{"PLAIN"},
				&smtp.SMTPError{Code: 534, EnhancedCode: smtp.EnhancedCode{5, 7, 14}, Message: "Please log in with your web browser and then try again."})
		}, testPassword, KindWebLoginRequired, "534 5.7.14"},
		{"smtp-basic-auth-disabled", func(w *world) (autoconfig.Server, *recorder) {
			return server(autoconfig.SMTP, host, 587, autoconfig.SecuritySTARTTLS), w.smtpServer(host, 587, autoconfig.SecuritySTARTTLS, w.good(host), []string{"PLAIN"},
				&smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 139}, Message: "Authentication unsuccessful, basic authentication is disabled."})
		}, testPassword, KindOAuthOnly, "5.7.139"},
		{"pop3-wrong-password", func(w *world) (autoconfig.Server, *recorder) {
			return server(autoconfig.POP3, host, 995, autoconfig.SecurityTLS), w.pop3Server(host, 995, autoconfig.SecurityTLS, w.good(host), pop3Script{})
		}, "wrong", KindWrongPassword, "[AUTH] Authentication failed."},
		{"pop3-web-login", func(w *world) (autoconfig.Server, *recorder) {
			return server(autoconfig.POP3, host, 110, autoconfig.SecuritySTARTTLS), w.pop3Server(host, 110, autoconfig.SecuritySTARTTLS, w.good(host), pop3Script{stls: true, passErr: "-ERR [AUTH] Web login required: https://support.example.test/login"})
		}, testPassword, KindWebLoginRequired, "Web login required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			s, rec := tc.start(w)
			lr := Login(context.Background(), w.opts(), s, testUser, []byte(tc.pass))
			if lr.Status != LoginRejected || lr.Kind != tc.kind || !strings.Contains(lr.ServerText, tc.text) || lr.Fix == "" || !lr.PasswordSent {
				t.Fatalf("Login = %+v (err %v); want rejected %s with %q", lr, lr.Err, tc.kind, tc.text)
			}
			if n := len(rec.attempts()); n != 1 {
				t.Errorf("the server saw %d attempts, want exactly 1", n)
			}
		})
	}
}

func TestOAuthOnlyServerGetsNoPassword(t *testing.T) {
	w := newWorld(t)
	host := "smtp.example.test"
	rec := w.smtpServer(host, 587, autoconfig.SecuritySTARTTLS, w.good(host), []string{"XOAUTH2", "OAUTHBEARER"}, nil)
	s := server(autoconfig.SMTP, host, 587, autoconfig.SecuritySTARTTLS)
	res := Check(context.Background(), w.opts(), s)
	if !slices.Equal(res.AuthMechanisms, []string{"XOAUTH2", "OAUTHBEARER"}) {
		t.Errorf("AuthMechanisms = %q", res.AuthMechanisms)
	}
	lr := Login(context.Background(), w.opts(), s, testUser, []byte(testPassword))
	if lr.Status != LoginNotAttempted || lr.Kind != KindOAuthOnly || lr.PasswordSent || rec.sawPassword() {
		t.Fatalf("Login = %+v", lr)
	}
}

func TestLoginRefusesLineBreaksInCredentials(t *testing.T) {
	w := newWorld(t)
	host := "pop.example.test"
	rec := w.pop3Server(host, 995, autoconfig.SecurityTLS, w.good(host), pop3Script{})
	lr := Login(context.Background(), w.opts(), server(autoconfig.POP3, host, 995, autoconfig.SecurityTLS), testUser+"\r\nDELE 1", []byte(testPassword))
	if lr.Status != LoginNotAttempted || len(rec.attempts()) != 0 {
		t.Fatalf("Login = %+v", lr)
	}
}

func TestBlackholeBoundsEveryLogin(t *testing.T) {
	for _, tc := range secureServers {
		t.Run(fmt.Sprintf("%s-%d", tc.proto, tc.port), func(t *testing.T) {
			w := newWorld(t)
			host := "mail.example.test"
			w.scripted(host, tc.port, func(c net.Conn, br *bufio.Reader) { io.Copy(io.Discard, br) })
			opts := w.opts()
			opts.Timeout = 150 * time.Millisecond
			lr := Login(context.Background(), opts, server(tc.proto, host, tc.port, tc.sec), testUser, []byte(testPassword))
			if lr.Status != LoginNotAttempted || lr.PasswordSent {
				t.Fatalf("Login = %+v", lr)
			}
			if lr.Elapsed > 4*time.Second {
				t.Errorf("Login took %v with a %v timeout", lr.Elapsed, opts.Timeout)
			}
		})
	}
}

// imapLoginOnly plays an IMAP server without AUTH=PLAIN, so that Login
// must use the LOGIN command.
func imapLoginOnly(rec *recorder) func(c net.Conn, br *bufio.Reader) {
	return func(c net.Conn, br *bufio.Reader) {
		fmt.Fprint(c, "* OK [CAPABILITY IMAP4rev1] ready\r\n")
		for {
			line := readCommand(br)
			tag, rest, _ := strings.Cut(line, " ")
			cmd, args, _ := strings.Cut(rest, " ")
			switch strings.ToUpper(cmd) {
			case "":
				return
			case "CAPABILITY":
				fmt.Fprintf(c, "* CAPABILITY IMAP4rev1\r\n%s OK done\r\n", tag)
			case "LOGIN":
				user, pass, _ := strings.Cut(args, " ")
				user, pass = strings.Trim(user, `"`), strings.Trim(pass, `"`)
				rec.login(user, pass)
				if user == testUser && pass == testPassword {
					fmt.Fprintf(c, "%s OK [CAPABILITY IMAP4rev1] Logged in\r\n", tag)
				} else {
					fmt.Fprintf(c, "%s NO [AUTHENTICATIONFAILED] Authentication failed.\r\n", tag)
				}
			case "LOGOUT":
				fmt.Fprintf(c, "* BYE\r\n%s OK bye\r\n", tag)
				return
			default:
				fmt.Fprintf(c, "%s BAD unknown\r\n", tag)
			}
		}
	}
}

func TestIMAPLoginCommand(t *testing.T) {
	w := newWorld(t)
	host := "imap.example.test"
	rec := &recorder{}
	w.scripted(host, 143, imapLoginOnly(rec))
	opts := w.opts()
	opts.AllowPlaintext = true
	s := server(autoconfig.IMAP, host, 143, autoconfig.SecurityPlain)
	lr := Login(context.Background(), opts, s, testUser, []byte(testPassword))
	if lr.Status != LoginOK || lr.Mechanism != "LOGIN" {
		t.Fatalf("Login = %+v (err %v)", lr, lr.Err)
	}
	lr = Login(context.Background(), opts, s, testUser, []byte("wrong"))
	if lr.Status != LoginRejected || lr.Kind != KindWrongPassword || lr.ServerText != "[AUTHENTICATIONFAILED] Authentication failed." {
		t.Fatalf("Login = %+v (err %v)", lr, lr.Err)
	}
	if got := rec.attempts(); len(got) != 2 {
		t.Errorf("server saw %q, want two attempts", got)
	}
}

func TestBeforePasswordGate(t *testing.T) {
	w := newWorld(t)
	host := "mail.example.test"
	rec := w.serve(autoconfig.SMTP, host, 587, autoconfig.SecuritySTARTTLS, w.good(host))
	s := server(autoconfig.SMTP, host, 587, autoconfig.SecuritySTARTTLS)
	opts := w.opts()
	withdrawn := errors.New("another server ranks higher")
	var calls []autoconfig.Server
	opts.BeforePassword = func(ctx context.Context, got autoconfig.Server) error {
		calls = append(calls, got)
		if len(rec.attempts()) != 0 {
			t.Error("BeforePassword ran after the password was sent")
		}
		return withdrawn
	}
	lr := Login(context.Background(), opts, s, testUser, []byte(testPassword))
	if lr.Status != LoginNotAttempted || lr.PasswordSent || !errors.Is(lr.Err, withdrawn) || rec.sawPassword() {
		t.Fatalf("Login = %+v (err %v)", lr, lr.Err)
	}
	if len(calls) != 1 || calls[0].Address() != s.Address() {
		t.Errorf("BeforePassword calls = %+v", calls)
	}

	opts.BeforePassword = func(context.Context, autoconfig.Server) error { return nil }
	if lr := Login(context.Background(), opts, s, testUser, []byte(testPassword)); lr.Status != LoginOK {
		t.Fatalf("Login = %+v (err %v)", lr, lr.Err)
	}

	// Never called where the password is not safe to send.
	opts.BeforePassword = func(context.Context, autoconfig.Server) error {
		t.Error("BeforePassword called for a plaintext server")
		return nil
	}
	Login(context.Background(), opts, server(autoconfig.SMTP, host, 25, autoconfig.SecurityPlain), testUser, []byte(testPassword))
}

func TestConnectionLostAfterPasswordIsAnAttempt(t *testing.T) {
	w := newWorld(t)
	host := "smtp.example.test"
	w.scripted(host, 25, func(c net.Conn, br *bufio.Reader) {
		fmt.Fprint(c, "220 smtp.example.test ESMTP\r\n")
		readCommand(br) // EHLO
		fmt.Fprint(c, "250-smtp.example.test\r\n250 AUTH PLAIN\r\n")
		readCommand(br) // AUTH PLAIN ...: hang up without a verdict
	})
	opts := w.opts()
	opts.AllowPlaintext = true
	lr := Login(context.Background(), opts, server(autoconfig.SMTP, host, 25, autoconfig.SecurityPlain), testUser, []byte(testPassword))
	if lr.Status != LoginError || !lr.PasswordSent || lr.Err == nil {
		t.Fatalf("Login = %+v, want an error after the password was sent", lr)
	}
}

func TestSTARTTLSHandshakeFailureAndPreauth(t *testing.T) {
	w := newWorld(t)
	w.scripted("imap.example.test", 143, func(c net.Conn, br *bufio.Reader) {
		fmt.Fprint(c, "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n")
		tag, _, _ := strings.Cut(readCommand(br), " ")
		fmt.Fprintf(c, "%s OK begin TLS\r\n", tag)
		readCommand(br) // the ClientHello, as far as a line goes
		fmt.Fprint(c, "this is not TLS\r\n")
	})
	w.scripted("preauth.example.test", 143, func(c net.Conn, br *bufio.Reader) {
		fmt.Fprint(c, "* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] welcome\r\n")
		readCommand(br)
	})
	res := Check(context.Background(), w.opts(), server(autoconfig.IMAP, "imap.example.test", 143, autoconfig.SecuritySTARTTLS))
	if !res.HasFinding(FindingSTARTTLSFailed) || !errors.Is(res.Err, ErrSTARTTLS) || res.TLS == nil || res.TLS.Reason != ReasonHandshake {
		t.Fatalf("Check = %+v (err %v)", res, res.Err)
	}
	res = Check(context.Background(), w.opts(), server(autoconfig.IMAP, "preauth.example.test", 143, autoconfig.SecuritySTARTTLS))
	if !res.HasFinding(FindingPreauthPlaintext) || !errors.Is(res.Err, ErrSTARTTLS) {
		t.Fatalf("Check = %+v (err %v)", res, res.Err)
	}
	for _, s := range []autoconfig.Server{
		{Protocol: autoconfig.IMAP, Port: 993, Security: autoconfig.SecurityTLS},
		{Protocol: autoconfig.IMAP, Hostname: "x.test", Port: 70000, Security: autoconfig.SecurityTLS},
		{Protocol: autoconfig.IMAP, Hostname: "x.test", Port: 993, Security: "ssl"},
	} {
		if res := Check(context.Background(), w.opts(), s); !errors.Is(res.Err, ErrBadServer) {
			t.Errorf("Check(%+v) err = %v, want ErrBadServer", s, res.Err)
		}
		if lr := Login(context.Background(), w.opts(), s, testUser, []byte(testPassword)); lr.Status != LoginNotAttempted {
			t.Errorf("Login(%+v) = %+v", s, lr)
		}
	}
}

func TestSMTPAuthLoginAndIMAPOAuthOnly(t *testing.T) {
	w := newWorld(t)
	rec := &recorder{}
	b64 := base64.StdEncoding
	w.scripted("smtp.example.test", 25, func(c net.Conn, br *bufio.Reader) {
		fmt.Fprint(c, "220 smtp.example.test ESMTP\r\n")
		readCommand(br) // EHLO
		fmt.Fprint(c, "250-smtp.example.test\r\n250 AUTH LOGIN\r\n")
		_, ir, _ := strings.Cut(readCommand(br), "AUTH LOGIN ")
		user, _ := b64.DecodeString(ir)
		fmt.Fprint(c, "334 "+b64.EncodeToString([]byte("Password:"))+"\r\n")
		pass, _ := b64.DecodeString(readCommand(br))
		rec.login(string(user), string(pass))
		fmt.Fprint(c, "235 2.7.0 Authentication successful\r\n")
		readCommand(br)
	})
	w.scripted("imap.example.test", 143, func(c net.Conn, br *bufio.Reader) {
		fmt.Fprint(c, "* OK [CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=XOAUTH2 AUTH=OAUTHBEARER] ready\r\n")
		for {
			line := readCommand(br)
			if line == "" {
				return
			}
			tag, _, _ := strings.Cut(line, " ")
			fmt.Fprintf(c, "%s BAD no\r\n", tag)
		}
	})
	opts := w.opts()
	opts.AllowPlaintext = true
	lr := Login(context.Background(), opts, server(autoconfig.SMTP, "smtp.example.test", 25, autoconfig.SecurityPlain), testUser, []byte(testPassword))
	if lr.Status != LoginOK || lr.Mechanism != "LOGIN" || !slices.Equal(rec.attempts(), []string{testUser + ":" + testPassword}) {
		t.Fatalf("SMTP AUTH LOGIN: %+v (err %v), server saw %q", lr, lr.Err, rec.attempts())
	}
	lr = Login(context.Background(), opts, server(autoconfig.IMAP, "imap.example.test", 143, autoconfig.SecurityPlain), testUser, []byte(testPassword))
	if lr.Status != LoginNotAttempted || lr.Kind != KindOAuthOnly || lr.PasswordSent || !strings.Contains(lr.Reason, "XOAUTH2") {
		t.Fatalf("IMAP OAuth only: %+v", lr)
	}
}

// Servers delay failures on purpose (Dovecot's auth_failure_delay), and a
// caller may hold a login at BeforePassword: neither is "setting up", so
// neither may run into Options.Timeout.
func TestSlowVerdictAndGateOutliveTheSetupTimeout(t *testing.T) {
	w := newWorld(t)
	slowSMTP := func(delay time.Duration) func(c net.Conn, br *bufio.Reader) {
		return func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "220 smtp.example.test ESMTP\r\n")
			readCommand(br) // EHLO
			fmt.Fprint(c, "250-smtp.example.test\r\n250 AUTH PLAIN\r\n")
			readCommand(br) // AUTH PLAIN ...
			time.Sleep(delay)
			fmt.Fprint(c, "535 5.7.8 Authentication credentials invalid\r\n")
			readCommand(br)
		}
	}
	w.scripted("slow.example.test", 25, slowSMTP(500*time.Millisecond))
	w.scripted("slower.example.test", 25, slowSMTP(3*time.Second))
	opts := w.opts()
	opts.AllowPlaintext = true
	opts.Timeout = 300 * time.Millisecond
	gated := opts
	gated.BeforePassword = func(ctx context.Context, _ autoconfig.Server) error {
		time.Sleep(400 * time.Millisecond)
		return ctx.Err()
	}
	lr := Login(context.Background(), gated, server(autoconfig.SMTP, "slow.example.test", 25, autoconfig.SecurityPlain), testUser, []byte("wrong"))
	if lr.Status != LoginRejected || lr.Kind != KindWrongPassword {
		t.Fatalf("Login = %+v (err %v), want the delayed rejection", lr, lr.Err)
	}

	// The caller's own deadline still ends the wait for a verdict.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	lr = Login(ctx, opts, server(autoconfig.SMTP, "slower.example.test", 25, autoconfig.SecurityPlain), testUser, []byte("wrong"))
	if lr.Status != LoginError || !lr.PasswordSent || !errors.Is(lr.Err, context.DeadlineExceeded) {
		t.Fatalf("Login = %+v (err %v), want an error at the caller's deadline", lr, lr.Err)
	}
}
