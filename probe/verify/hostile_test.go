package verify

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// hangBound is how long past its deadline a Login may take before a test
// calls it hung: generous, since the faults it catches never end at all.
const hangBound = 20 * time.Second

// mailLibraries are the frames of the mail libraries' client code: no
// goroutine running it may outlive a Login. (Their servers, which other
// tests of this package run, are no concern here.)
var mailLibraries = []string{"go-imap/v2/imapclient.", "knadh/go-pop3.", "emersion/go-smtp.(*Client)"}

// loginWithin runs Login and fails the test when it has not returned by
// hangBound after its deadline, or when a mail library's goroutine is still
// running hangBound after it returned (a reader spinning for ever).
func loginWithin(t *testing.T, ctx context.Context, opts Options, s autoconfig.Server) LoginResult {
	t.Helper()
	done := make(chan LoginResult, 1)
	go func() { done <- Login(ctx, opts, s, testUser, []byte(testPassword)) }()
	bound := opts.timeout() + hangBound
	if d, ok := ctx.Deadline(); ok {
		bound = time.Until(d) + hangBound
	}
	var lr LoginResult
	select {
	case lr = <-done:
	case <-time.After(bound):
		t.Fatalf("Login to %s still runs %v after its deadline", s.Address(), hangBound)
	}
	noLibraryGoroutines(t)
	return lr
}

// noLibraryGoroutines waits until no goroutine runs mail library code.
func noLibraryGoroutines(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(hangBound)
	buf := make([]byte, 1<<20)
	for {
		stacks := string(buf[:runtime.Stack(buf, true)])
		left := ""
		for _, lib := range mailLibraries {
			if strings.Contains(stacks, lib) {
				left = lib
			}
		}
		if left == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a goroutine of %s still runs %v after Login returned:\n%s", left, hangBound, stacks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hold keeps a connection open and unanswered until the client leaves.
func hold(br *bufio.Reader) { io.Copy(io.Discard, br) }

// TestHostileRepliesEndLogin: the replies that hung go-imap v2.0.0-beta.8
// for ever (issue 11), and the same class of reply to POP3 and SMTP, end
// every Login by its deadline, with no password sent and no goroutine of a
// mail library left running.
func TestHostileRepliesEndLogin(t *testing.T) {
	type hostile struct {
		name  string
		proto autoconfig.Protocol
		port  int
		sec   autoconfig.Security
		tls   bool // the peer speaks TLS first (implicit TLS)
		play  func(c net.Conn, br *bufio.Reader)
	}
	cases := []hostile{
		{"imap STARTTLS OK then a stray byte", autoconfig.IMAP, 143, autoconfig.SecuritySTARTTLS, false, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n")
			tag, _, _ := strings.Cut(readCommand(br), " ")
			fmt.Fprintf(c, "%s OK\rx", tag)
			hold(br)
		}},
		{"imap plaintext CAPABILITY(", autoconfig.IMAP, 143, autoconfig.SecurityPlain, false, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "* OK hi\r\n")
			readCommand(br)
			fmt.Fprint(c, "* CAPABILITY(\r\n")
			hold(br)
		}},
		{"imap TLS CAPABILITY(", autoconfig.IMAP, 993, autoconfig.SecurityTLS, true, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "* OK hi\r\n")
			readCommand(br)
			fmt.Fprint(c, "* CAPABILITY(\r\n")
			hold(br)
		}},
		{"imap TLS greeting [CAPABILITY(]", autoconfig.IMAP, 993, autoconfig.SecurityTLS, true, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "* OK [CAPABILITY(] hi\r\n")
			hold(br)
		}},
		{"imap TLS ENABLED(", autoconfig.IMAP, 993, autoconfig.SecurityTLS, true, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "* OK hi\r\n* ENABLED(\r\n")
			hold(br)
		}},
		{"pop3 STLS OK then a stray byte", autoconfig.POP3, 110, autoconfig.SecuritySTARTTLS, false, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "+OK hi\r\n")
			readCommand(br)
			fmt.Fprint(c, "+OK\rx")
			hold(br)
		}},
		{"pop3 CAPA never ends", autoconfig.POP3, 110, autoconfig.SecurityPlain, false, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "+OK hi\r\n")
			readCommand(br)
			fmt.Fprint(c, "+OK\r\nUSER\r\n")
			hold(br)
		}},
		{"pop3 endless CAPA", autoconfig.POP3, 995, autoconfig.SecurityTLS, true, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "+OK hi\r\n")
			readCommand(br)
			fmt.Fprint(c, "+OK\r\n")
			for {
				if _, err := fmt.Fprint(c, "SASL PLAIN\r\n"); err != nil {
					return
				}
			}
		}},
		{"pop3 USER answered without a line end", autoconfig.POP3, 110, autoconfig.SecurityPlain, false, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "+OK hi\r\n")
			readCommand(br)
			fmt.Fprint(c, "-ERR no CAPA\r\n")
			readCommand(br)
			fmt.Fprint(c, "+OK\r")
			hold(br)
		}},
		{"smtp STARTTLS 220 then a stray byte", autoconfig.SMTP, 587, autoconfig.SecuritySTARTTLS, false, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "220 hi\r\n")
			readCommand(br)
			fmt.Fprint(c, "250-hi\r\n250 STARTTLS\r\n")
			readCommand(br)
			fmt.Fprint(c, "220 go\rx")
			hold(br)
		}},
		{"smtp endless greeting", autoconfig.SMTP, 465, autoconfig.SecurityTLS, true, func(c net.Conn, br *bufio.Reader) {
			for {
				if _, err := fmt.Fprint(c, "220-still greeting\r\n"); err != nil {
					return
				}
			}
		}},
		{"smtp EHLO continues for ever", autoconfig.SMTP, 587, autoconfig.SecurityPlain, false, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "220 hi\r\n")
			readCommand(br)
			fmt.Fprint(c, "250-hi\r\n250-AUTH PLAIN\r\n")
			hold(br)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			host := "mail.example.test"
			cert := w.good(host)
			w.scripted(host, tc.port, func(c net.Conn, br *bufio.Reader) {
				if tc.tls {
					tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
					if tc.Handshake() != nil {
						return
					}
					c, br = tc, bufio.NewReader(tc)
				}
				tc.play(c, br)
			})
			opts := w.opts()
			opts.Timeout = 300 * time.Millisecond
			opts.AllowPlaintext = true
			// The caller's deadline bounds the wait for a verdict too.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			lr := loginWithin(t, ctx, opts, server(tc.proto, host, tc.port, tc.sec))
			if lr.Status == LoginOK || lr.PasswordSent {
				t.Fatalf("Login = %+v", lr)
			}
		})
	}
}

// TestCheckEndsOnHostileUpgrade: Check's own wire code is bounded by its
// deadline when the STARTTLS go-ahead is followed by a stray byte.
func TestCheckEndsOnHostileUpgrade(t *testing.T) {
	w := newWorld(t)
	host := "imap.example.test"
	w.scripted(host, 143, func(c net.Conn, br *bufio.Reader) {
		fmt.Fprint(c, "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n")
		tag, _, _ := strings.Cut(readCommand(br), " ")
		fmt.Fprintf(c, "%s OK\rx", tag)
		hold(br)
	})
	opts := w.opts()
	opts.Timeout = 300 * time.Millisecond
	res := Check(context.Background(), opts, server(autoconfig.IMAP, host, 143, autoconfig.SecuritySTARTTLS))
	if res.Err == nil || res.Elapsed > hangBound {
		t.Fatalf("Check = %+v (err %v)", res, res.Err)
	}
}

// TestOwnTimeoutIsNoFinding: when our own deadline ends the handshake
// after a STARTTLS go-ahead (--timeout 100ms), the result says so as a
// timeout and holds no security finding about the server.
func TestOwnTimeoutIsNoFinding(t *testing.T) {
	w := newWorld(t)
	host := "imap.example.test"
	w.scripted(host, 143, func(c net.Conn, br *bufio.Reader) {
		fmt.Fprint(c, "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n")
		for {
			line := readCommand(br)
			tag, cmd, _ := strings.Cut(line, " ")
			switch cmd {
			case "CAPABILITY":
				fmt.Fprintf(c, "* CAPABILITY IMAP4rev1 STARTTLS\r\n%s OK\r\n", tag)
			case "STARTTLS":
				fmt.Fprintf(c, "%s OK begin TLS\r\n", tag)
				hold(br) // a handshake that never ends
				return
			default:
				return
			}
		}
	})
	opts := w.opts()
	opts.Timeout = 100 * time.Millisecond
	s := server(autoconfig.IMAP, host, 143, autoconfig.SecuritySTARTTLS)
	res := Check(context.Background(), opts, s)
	if len(res.Findings) > 0 || !errors.Is(res.Err, ErrTimeout) || !errors.Is(res.Err, context.DeadlineExceeded) {
		t.Fatalf("Check = %+v (err %v), want a timeout and no finding", res, res.Err)
	}
	if res.TLS == nil || strings.Contains(res.TLS.Error, "failed") {
		t.Errorf("TLS = %+v, want a handshake that did not finish in time", res.TLS)
	}
	lr := Login(context.Background(), opts, s, testUser, []byte(testPassword))
	if lr.Status != LoginNotAttempted || !errors.Is(lr.Err, ErrTimeout) || !strings.Contains(lr.Reason, "no answer within the time allowed") {
		t.Fatalf("Login = %+v (err %v)", lr, lr.Err)
	}
}

// FuzzLoginEndsByDeadline plays arbitrary server bytes to a whole Login of
// each protocol, in plaintext (through the mail libraries) and with
// STARTTLS (through our own wire code, then the libraries over TLS):
// every Login must end by its deadline, leave no goroutine of a mail
// library running, and never send the password before TLS when TLS was
// asked for.
func FuzzLoginEndsByDeadline(f *testing.F) {
	for _, s := range []string{
		// issue 11: go-imap v2.0.0-beta.8 hung for ever on these.
		"* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\nT1 OK\rx",
		"* OK hi\r\n* CAPABILITY(\r\n",
		"* OK [CAPABILITY(] hi\r\n",
		"* OK hi\r\n* ENABLED(\r\n",
		"* OK hi\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nT1 OK\r\n+ \r\nT2 OK\r\n",
		"+OK hi\r\n+OK\rx",
		"+OK hi\r\n+OK\r\nUSER\r\n",
		"+OK hi\r\n-ERR\r\n+OK\r\n+OK\r\n",
		"220 hi\r\n250-hi\r\n250 STARTTLS\r\n220 go\rx",
		"220 hi\r\n250-hi\r\n250-AUTH PLAIN\r\n",
		"220 hi\r\n250-hi\r\n250 AUTH PLAIN LOGIN\r\n334 \r\n235 ok\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		for _, p := range []autoconfig.Protocol{autoconfig.IMAP, autoconfig.POP3, autoconfig.SMTP} {
			for _, sec := range []autoconfig.Security{autoconfig.SecurityPlain, autoconfig.SecuritySTARTTLS} {
				opts := Options{Env: netx.Env{Dialer: scripted(script)}, Timeout: time.Second, AllowPlaintext: true}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				s := autoconfig.Server{Protocol: p, Hostname: "127.0.0.1", Port: 1, Security: sec}
				lr := loginWithin(t, ctx, opts, s)
				cancel()
				if sec == autoconfig.SecuritySTARTTLS && lr.PasswordSent {
					t.Fatalf("%s %s: password sent without TLS: %+v", p, sec, lr)
				}
			}
		}
	})
}

// TestLoginRefusesSTARTTLSInjection: plaintext sent after the go-ahead and
// before the handshake (RFC 3207 §6, CVE-2011-0411) ends Login's own
// STARTTLS step for every protocol, as it ends Check.
func TestLoginRefusesSTARTTLSInjection(t *testing.T) {
	for _, tc := range []struct {
		proto autoconfig.Protocol
		port  int
		play  func(c net.Conn, br *bufio.Reader)
	}{
		{autoconfig.IMAP, 143, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "* OK hi\r\n")
			tag, _, _ := strings.Cut(readCommand(br), " ")
			fmt.Fprintf(c, "%s OK begin TLS\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n", tag)
			hold(br)
		}},
		{autoconfig.POP3, 110, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "+OK hi\r\n")
			readCommand(br)
			fmt.Fprint(c, "+OK begin TLS\r\n+OK injected\r\n")
			hold(br)
		}},
		{autoconfig.SMTP, 587, func(c net.Conn, br *bufio.Reader) {
			fmt.Fprint(c, "220 hi\r\n")
			readCommand(br)
			fmt.Fprint(c, "250-hi\r\n250 STARTTLS\r\n")
			readCommand(br)
			fmt.Fprint(c, "220 go ahead\r\n250 AUTH PLAIN injected\r\n")
			hold(br)
		}},
	} {
		t.Run(string(tc.proto), func(t *testing.T) {
			w := newWorld(t)
			host := "mail.example.test"
			rec := w.scripted(host, tc.port, tc.play)
			lr := loginWithin(t, context.Background(), w.opts(), server(tc.proto, host, tc.port, autoconfig.SecuritySTARTTLS))
			if lr.Status != LoginNotAttempted || !errors.Is(lr.Err, ErrSTARTTLS) || rec.sawPassword() {
				t.Fatalf("Login = %+v (err %v)", lr, lr.Err)
			}
		})
	}
}

// TestPOP3RepliesGoPOP3Misreads: go-pop3 v1.0.0 takes an empty line for
// +OK and splits lines over 4 KiB into replies of their own; Login must
// not report either as a login that worked.
func TestPOP3RepliesGoPOP3Misreads(t *testing.T) {
	for name, reply := range map[string]string{
		"empty line to PASS":   "\r\n",
		"long -ERR then +OK":   "-ERR " + strings.Repeat("x", 5000) + "\r\n+OK\r\n",
		"bare LF empty line":   "\n",
		"+OK after empty line": "\r\n+OK\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			host := "pop.example.test"
			cert := w.good(host)
			w.scripted(host, 995, func(c net.Conn, _ *bufio.Reader) {
				tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
				br := bufio.NewReader(tc)
				fmt.Fprint(tc, "+OK hi\r\n")
				readCommand(br) // CAPA
				fmt.Fprint(tc, "+OK\r\nUSER\r\n.\r\n")
				readCommand(br) // USER
				fmt.Fprint(tc, "+OK\r\n")
				readCommand(br) // PASS
				fmt.Fprint(tc, reply)
				hold(br)
			})
			lr := loginWithin(t, context.Background(), w.opts(), server(autoconfig.POP3, host, 995, autoconfig.SecurityTLS))
			if lr.Status == LoginOK || !lr.PasswordSent {
				t.Fatalf("Login = %+v (err %v)", lr, lr.Err)
			}
		})
	}
}
