package verify

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/testnet"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// The test world: a private ECDSA CA, a map-based resolver and a dialer
// that maps each host's address plan (127.0.0.N:standard port) onto
// listeners on 127.0.0.1:0. Nothing here reaches beyond loopback.

const (
	testUser     = "alice@example.test"
	testPassword = "correct horse battery staple"
)

type world struct {
	t     testing.TB
	ca    *testnet.CA
	res   *netx.MockResolver
	dial  *testnet.Dialer
	hosts map[string]netip.Addr
}

func newWorld(t testing.TB) *world {
	return &world{
		t:     t,
		ca:    testnet.NewCA(t, "mailsetup test CA"),
		res:   &netx.MockResolver{Addrs: map[string][]netip.Addr{}, TLSA: map[string][]netx.TLSA{}, Authentic: map[string]bool{}, Fail: map[string]error{}},
		dial:  &testnet.Dialer{},
		hosts: map[string]netip.Addr{},
	}
}

// addr gives host its own loopback address, 127.0.0.2 onwards.
func (w *world) addr(host string) netip.Addr {
	if a, ok := w.hosts[host]; ok {
		return a
	}
	a := netip.AddrFrom4([4]byte{127, 0, 0, byte(2 + len(w.hosts))})
	w.hosts[host] = a
	w.res.Addrs[host] = append(w.res.Addrs[host], a)
	return a
}

// route serves host:port from ln.
func (w *world) route(host string, port int, ln net.Listener) {
	planned := netip.AddrPortFrom(w.addr(host), uint16(port)).String()
	w.dial.Route(planned, ln.Addr().String())
}

func (w *world) listen() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { ln.Close() })
	return ln
}

func (w *world) opts() Options {
	return Options{
		Env:        netx.Env{Resolver: w.res, Dialer: w.dial, RootCAs: w.ca.Pool()},
		Timeout:    5 * time.Second,
		ClientName: "client.test",
	}
}

// good issues a valid certificate for host.
func (w *world) good(host string) tls.Certificate {
	return w.ca.LeafValid(w.t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), host)
}

// recorder proves what reached a server: every login attempt it saw at
// the protocol level and every byte the client sent.
type recorder struct {
	mu       sync.Mutex
	logins   []string // "user:password"
	received bytes.Buffer
}

func (r *recorder) login(user, pass string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logins = append(r.logins, user+":"+pass)
}

func (r *recorder) attempts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.logins...)
}

func (r *recorder) bytesReceived() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.received.String()
}

// sawPassword reports whether the password reached the server in any form
// we can see: a recorded login or the plaintext bytes on the wire.
func (r *recorder) sawPassword() bool {
	for _, a := range r.attempts() {
		if strings.Contains(a, testPassword) {
			return true
		}
	}
	return strings.Contains(r.bytesReceived(), testPassword)
}

// recordingListener copies every byte clients send into rec.
type recordingListener struct {
	net.Listener
	rec *recorder
}

func (l recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &recordingConn{Conn: c, rec: l.rec}, nil
}

type recordingConn struct {
	net.Conn
	rec *recorder
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.rec.mu.Lock()
	c.rec.received.Write(p[:n])
	c.rec.mu.Unlock()
	return n, err
}

// --- IMAP: go-imap's imapserver with imapmemserver ---

type recordingIMAPSession struct {
	imapserver.Session
	rec    *recorder
	reject *imap.Error
}

func (s *recordingIMAPSession) Login(username, password string) error {
	s.rec.login(username, password)
	if s.reject != nil {
		return s.reject
	}
	return s.Session.Login(username, password)
}

// imapServer serves IMAP for host on the planned port with cert; security
// decides implicit TLS, STARTTLS or plaintext (insecureAuth then lets
// the server accept LOGIN without TLS).
func (w *world) imapServer(host string, port int, sec autoconfig.Security, cert tls.Certificate, insecureAuth bool, reject *imap.Error) *recorder {
	rec := &recorder{}
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(testUser, testPassword)
	user.Create("INBOX", nil)
	mem.AddUser(user)
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &recordingIMAPSession{Session: mem.NewSession(), rec: rec, reject: reject}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: insecureAuth,
		Logger:       log.New(io.Discard, "", 0),
	}
	var ln net.Listener = recordingListener{Listener: w.listen(), rec: rec}
	switch sec {
	case autoconfig.SecurityTLS:
		ln = tls.NewListener(ln, tlsConfig)
	case autoconfig.SecuritySTARTTLS:
		opts.TLSConfig = tlsConfig
	}
	srv := imapserver.New(opts)
	go srv.Serve(ln)
	w.t.Cleanup(func() { srv.Close() })
	w.route(host, port, ln)
	return rec
}

// --- SMTP: a go-smtp backend ---

type smtpBackend struct {
	rec    *recorder
	mechs  []string
	reject *smtp.SMTPError
}

func (b *smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &smtpSession{b: b}, nil
}

type smtpSession struct{ b *smtpBackend }

func (s *smtpSession) AuthMechanisms() []string { return s.b.mechs }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		s.b.rec.login(username, password)
		if s.b.reject != nil {
			return s.b.reject
		}
		if username != testUser || password != testPassword {
			return smtp.ErrAuthFailed
		}
		return nil
	}), nil
}

func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *smtpSession) Data(io.Reader) error                 { return nil }
func (s *smtpSession) Reset()                               {}
func (s *smtpSession) Logout() error                        { return nil }

func (w *world) smtpServer(host string, port int, sec autoconfig.Security, cert tls.Certificate, mechs []string, reject *smtp.SMTPError) *recorder {
	rec := &recorder{}
	srv := smtp.NewServer(&smtpBackend{rec: rec, mechs: mechs, reject: reject})
	srv.Domain = host
	srv.AllowInsecureAuth = true // the client, not the server, must refuse plaintext
	srv.ErrorLog = log.New(io.Discard, "", 0)
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	var ln net.Listener = recordingListener{Listener: w.listen(), rec: rec}
	switch sec {
	case autoconfig.SecurityTLS:
		ln = tls.NewListener(ln, tlsConfig)
	case autoconfig.SecuritySTARTTLS:
		srv.TLSConfig = tlsConfig
	}
	go srv.Serve(ln)
	w.t.Cleanup(func() { srv.Close() })
	w.route(host, port, ln)
	return rec
}

// --- POP3: a tiny scripted responder (there is no Go POP3 server library) ---

type pop3Script struct {
	stls       bool   // offer and honour STLS
	hideSTLS   bool   // honour STLS but leave it out of CAPA
	refuseSTLS string // answer STLS with this -ERR line
	passErr    string // answer PASS with this -ERR line
}

func (w *world) pop3Server(host string, port int, sec autoconfig.Security, cert tls.Certificate, script pop3Script) *recorder {
	rec := &recorder{}
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	ln := w.listen()
	var served net.Listener = recordingListener{Listener: ln, rec: rec}
	if sec == autoconfig.SecurityTLS {
		served = tls.NewListener(served, tlsConfig)
	}
	go func() {
		for {
			c, err := served.Accept()
			if err != nil {
				return
			}
			go servePOP3(c, tlsConfig, script, rec)
		}
	}()
	w.route(host, port, ln)
	return rec
}

func servePOP3(c net.Conn, tlsConfig *tls.Config, script pop3Script, rec *recorder) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	fmt.Fprint(c, "+OK POP3 ready\r\n")
	user := ""
	_, secure := c.(*tls.Conn)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		cmd, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		switch strings.ToUpper(cmd) {
		case "CAPA":
			capa := "+OK\r\nUSER\r\nSASL PLAIN\r\nUIDL\r\n"
			if script.stls && !script.hideSTLS && !secure {
				capa += "STLS\r\n"
			}
			fmt.Fprint(c, capa+".\r\n")
		case "STLS":
			if script.refuseSTLS != "" {
				fmt.Fprint(c, script.refuseSTLS+"\r\n")
				continue
			}
			fmt.Fprint(c, "+OK begin TLS\r\n")
			tc := tls.Server(c, tlsConfig)
			if tc.Handshake() != nil {
				return
			}
			c, br, secure = tc, bufio.NewReader(tc), true
		case "USER":
			user = arg
			fmt.Fprint(c, "+OK\r\n")
		case "PASS":
			rec.login(user, arg)
			switch {
			case script.passErr != "":
				fmt.Fprint(c, script.passErr+"\r\n")
			case user == testUser && arg == testPassword:
				fmt.Fprint(c, "+OK logged in\r\n")
			default:
				fmt.Fprint(c, "-ERR [AUTH] Authentication failed.\r\n")
			}
		case "AUTH":
			// RFC 5034: AUTH PLAIN with an initial response, or a "+"
			// continuation for it.
			mech, ir, _ := strings.Cut(arg, " ")
			if !strings.EqualFold(mech, "PLAIN") {
				fmt.Fprint(c, "-ERR unsupported mechanism\r\n")
				continue
			}
			if ir == "" {
				fmt.Fprint(c, "+ \r\n")
				line, err := br.ReadString('\n')
				if err != nil {
					return
				}
				ir = strings.TrimRight(line, "\r\n")
			}
			raw, err := base64.StdEncoding.DecodeString(ir)
			parts := strings.Split(string(raw), "\x00")
			if err != nil || len(parts) != 3 {
				fmt.Fprint(c, "-ERR malformed AUTH PLAIN\r\n")
				continue
			}
			user, pass := parts[1], parts[2]
			rec.login(user, pass)
			switch {
			case script.passErr != "":
				fmt.Fprint(c, script.passErr+"\r\n")
			case user == testUser && pass == testPassword:
				fmt.Fprint(c, "+OK logged in\r\n")
			default:
				fmt.Fprint(c, "-ERR [AUTH] Authentication failed.\r\n")
			}
		case "NOOP":
			fmt.Fprint(c, "+OK\r\n")
		case "QUIT":
			fmt.Fprint(c, "+OK bye\r\n")
			return
		default:
			fmt.Fprint(c, "-ERR unknown command\r\n")
		}
	}
}

// --- scripted peers for faults ---

// scripted serves host:port with a function that plays the server.
func (w *world) scripted(host string, port int, play func(c net.Conn, br *bufio.Reader)) *recorder {
	rec := &recorder{}
	ln := recordingListener{Listener: w.listen(), rec: rec}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				play(c, bufio.NewReader(c))
			}()
		}
	}()
	w.route(host, port, ln)
	return rec
}

// readCommand reads one client line, "" when the client went away.
func readCommand(br *bufio.Reader) string {
	line, err := br.ReadString('\n')
	if err != nil {
		return ""
	}
	return strings.TrimRight(line, "\r\n")
}
