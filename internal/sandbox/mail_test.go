package sandbox

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/knadh/go-pop3"
)

func tlsFor(w *World, host string) *tls.Config {
	return &tls.Config{ServerName: host, RootCAs: w.RootCAs()}
}

func TestIMAP(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"demo", "plaintext-only"}})
	sc := scenario(t, "demo")

	// 993, implicit TLS: a wrong password is refused, the right one works.
	tc, err := dialTLS(t, w, "imap.demo.test", "993")
	if err != nil {
		t.Fatal(err)
	}
	c := imapclient.New(tc, nil)
	defer c.Close()
	if err := c.WaitGreeting(); err != nil {
		t.Fatal(err)
	}
	if !c.Caps().Has(imap.AuthCap("PLAIN")) {
		t.Errorf("993 capabilities %v lack AUTH=PLAIN", c.Caps())
	}
	if err := c.Login(sc.Address, "wrong").Wait(); err == nil {
		t.Error("a wrong password was accepted")
	}
	if w.PasswordSeenBy("imap.demo.test") {
		t.Error("a wrong password was recorded as the account's")
	}
	if err := c.Login(sc.Address, sc.Password).Wait(); err != nil {
		t.Fatalf("login on 993: %v", err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Errorf("SELECT INBOX: %v", err)
	}
	if !w.PasswordSeenAt("imap.demo.test", 993) || w.PasswordSeenAt("imap.demo.test", 143) {
		t.Errorf("sightings %v, want imap.demo.test:993 only", w.PasswordSightings())
	}

	// 143: LOGINDISABLED until STARTTLS, then AUTHENTICATE PLAIN.
	raw := dial(t, w, "imap.demo.test:143")
	c2, err := imapclient.NewStartTLS(raw, &imapclient.Options{TLSConfig: tlsFor(w, "imap.demo.test")})
	if err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	defer c2.Close()
	if err := c2.Authenticate(sasl.NewPlainClient("", sc.Address, sc.Password)); err != nil {
		t.Fatalf("AUTHENTICATE PLAIN after STARTTLS: %v", err)
	}
	plainConn := dial(t, w, "imap.demo.test:143")
	c3 := imapclient.New(plainConn, nil)
	defer c3.Close()
	if err := c3.WaitGreeting(); err != nil {
		t.Fatal(err)
	}
	if caps := c3.Caps(); !caps.Has(imap.CapStartTLS) || !caps.Has(imap.CapLoginDisabled) {
		t.Errorf("143 before TLS: capabilities %v, want STARTTLS and LOGINDISABLED", caps)
	}

	// The plaintext-only server takes the password in the clear, and the
	// recorder says so.
	pt := scenario(t, "plaintext-only")
	c4 := imapclient.New(dial(t, w, "imap.plaintext.test:143"), nil)
	defer c4.Close()
	if err := c4.Login(pt.Address, pt.Password).Wait(); err != nil {
		t.Fatalf("plaintext login: %v", err)
	}
	if !w.PasswordSeenBy("imap.plaintext.test") {
		t.Error("a plaintext login was not recorded")
	}
}

// A LOGIN sent before STARTTLS is refused by the library unread; the tap
// still records that the password arrived.
func TestPasswordBeforeSTARTTLSIsRecorded(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"starttls-only"}})
	sc := scenario(t, "starttls-only")
	c := dial(t, w, "imap.starttls-only.test:143")
	br := bufio.NewReader(c)
	br.ReadString('\n')
	fmt.Fprintf(c, "a1 LOGIN %q %q\r\n", sc.Address, sc.Password)
	line, _ := br.ReadString('\n')
	if !strings.HasPrefix(line, "a1 NO") && !strings.HasPrefix(line, "a1 BAD") {
		t.Errorf("LOGIN before STARTTLS: %q, want a refusal", line)
	}
	if !w.PasswordSeenAt("imap.starttls-only.test", 143) {
		t.Error("the password sent in the clear was not recorded")
	}

	// SMTP AUTH PLAIN in the clear: base64 on the wire, recorded all the same.
	s := dial(t, w, "smtp.starttls-only.test:587")
	sr := bufio.NewReader(s)
	sr.ReadString('\n')
	fmt.Fprintf(s, "EHLO client.test\r\n")
	for {
		l, err := sr.ReadString('\n')
		if err != nil || strings.HasPrefix(l, "250 ") {
			break
		}
	}
	ir := sasl.NewPlainClient("", sc.Address, sc.Password)
	_, resp, _ := ir.Start()
	fmt.Fprintf(s, "AUTH PLAIN %s\r\n", encodeB64(resp))
	l, _ := sr.ReadString('\n')
	if !strings.HasPrefix(l, "5") {
		t.Errorf("AUTH before STARTTLS: %q, want a refusal", l)
	}
	if !w.PasswordSeenAt("smtp.starttls-only.test", 587) {
		t.Error("a base64 password sent in the clear was not recorded")
	}
}

func TestSMTPSubmission(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"demo"}})
	sc := scenario(t, "demo")

	// 465: implicit TLS, AUTH PLAIN, then a message is accepted.
	tc, err := dialTLS(t, w, "smtp.demo.test", "465")
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClient(tc)
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatal(err)
	}
	if ok, mechs := c.Extension("AUTH"); !ok || !strings.Contains(mechs, "PLAIN") || !strings.Contains(mechs, "LOGIN") {
		t.Errorf("AUTH extension %v %q, want PLAIN and LOGIN", ok, mechs)
	}
	if err := c.Mail("alice@demo.test", nil); err == nil {
		t.Error("mail accepted before AUTH")
	}
	var smtpErr *smtp.SMTPError
	if err := c.Auth(sasl.NewPlainClient("", sc.Address, "wrong")); !errors.As(err, &smtpErr) || smtpErr.Code != 535 {
		t.Errorf("wrong password: %v, want 535", err)
	}
	if err := c.Auth(sasl.NewPlainClient("", sc.Address, sc.Password)); err != nil {
		t.Fatalf("AUTH PLAIN: %v", err)
	}
	if err := c.SendMail("alice@demo.test", []string{"bob@demo.test"}, strings.NewReader("Subject: hi\r\n\r\nhello\r\n")); err != nil {
		t.Errorf("send: %v", err)
	}

	// 587: STARTTLS, then the hand-written LOGIN mechanism.
	c2, err := smtp.NewClientStartTLS(dial(t, w, "smtp.demo.test:587"), tlsFor(w, "smtp.demo.test"))
	if err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	defer c2.Close()
	if err := c2.Auth(sasl.NewLoginClient(sc.Address, sc.Password)); err != nil {
		t.Fatalf("AUTH LOGIN: %v", err)
	}
	if !w.PasswordSeenAt("smtp.demo.test", 465) || !w.PasswordSeenAt("smtp.demo.test", 587) {
		t.Errorf("sightings %v, want both SMTP ports", w.PasswordSightings())
	}
}

func TestLoginMechanismServer(t *testing.T) {
	var gotUser, gotPass string
	auth := func(u, p string) error { gotUser, gotPass = u, p; return nil }
	// Without an initial response: Username:, Password:.
	s := &loginServer{authenticate: auth}
	if ch, done, _ := s.Next(nil); done || string(ch) != "Username:" {
		t.Fatalf("first challenge %q", ch)
	}
	if ch, done, _ := s.Next([]byte("alice")); done || string(ch) != "Password:" {
		t.Fatalf("second challenge %q", ch)
	}
	if _, done, err := s.Next([]byte("secret")); !done || err != nil || gotUser != "alice" || gotPass != "secret" {
		t.Fatalf("done %v, err %v, got %q/%q", done, err, gotUser, gotPass)
	}
	if _, _, err := s.Next([]byte("more")); err == nil {
		t.Error("a fourth step was accepted")
	}
	// With the username as the initial response.
	s = &loginServer{authenticate: auth}
	if ch, _, _ := s.Next([]byte("bob")); string(ch) != "Password:" {
		t.Fatalf("challenge after an initial response %q", ch)
	}
	s.Next([]byte("pw"))
	if gotUser != "bob" || gotPass != "pw" {
		t.Errorf("got %q/%q", gotUser, gotPass)
	}
}

// popDialer hands go-pop3 a connection from the world, with TLS (trusting
// the world's CA) or STLS done first where asked; go-pop3 then reads a
// greeting, so after STLS a synthetic one is put in front.
type popDialer struct {
	t    *testing.T
	w    *World
	mode string // "tls", "stls" or "plain"
}

func (d popDialer) Dial(network, addr string) (net.Conn, error) {
	c := dial(d.t, d.w, addr)
	host, _, _ := net.SplitHostPort(addr)
	switch d.mode {
	case "tls":
		return tls.Client(c, tlsFor(d.w, host)), nil
	case "stls":
		br := bufio.NewReader(c)
		if l, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(l, "+OK") {
			return nil, fmt.Errorf("greeting %q: %v", l, err)
		}
		fmt.Fprintf(c, "STLS\r\n")
		if l, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(l, "+OK") {
			return nil, fmt.Errorf("STLS: %q: %v", l, err)
		}
		tc := tls.Client(c, tlsFor(d.w, host))
		if err := tc.Handshake(); err != nil {
			return nil, err
		}
		return &greetedConn{Conn: tc, greeting: strings.NewReader("+OK after STLS\r\n")}, nil
	}
	return c, nil
}

type greetedConn struct {
	net.Conn
	greeting *strings.Reader
}

func (c *greetedConn) Read(p []byte) (int, error) {
	if c.greeting.Len() > 0 {
		return c.greeting.Read(p)
	}
	return c.Conn.Read(p)
}

func TestPOP3(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"demo"}})
	sc := scenario(t, "demo")

	pc := pop3.New(pop3.Opt{Host: "pop.demo.test", Port: 995, Dialer: popDialer{t, w, "tls"}})
	conn, err := pc.NewConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Auth(sc.Address, "wrong"); err == nil {
		t.Error("a wrong password was accepted")
	}
	if err := conn.Auth(sc.Address, sc.Password); err != nil {
		t.Fatalf("USER/PASS on 995: %v", err)
	}
	count, size, err := conn.Stat()
	if err != nil || count != 1 || size == 0 {
		t.Errorf("STAT = %d %d, %v", count, size, err)
	}
	// RetrRaw gives the lines as sent, so the dot-stuffing shows.
	msg, err := conn.RetrRaw(1)
	if err != nil || !strings.Contains(msg.String(), "Subject: Welcome") || !strings.Contains(msg.String(), "\r\n.. A line") {
		t.Errorf("RETR 1 = %q, %v", msg, err)
	}
	ids, err := conn.Uidl(0)
	if err != nil || len(ids) != 1 || ids[0].UID != "welcome-1" {
		t.Errorf("UIDL = %+v, %v", ids, err)
	}
	if err := conn.Dele(1); err != nil {
		t.Error(err)
	}
	if count, _, _ := conn.Stat(); count != 0 {
		t.Errorf("STAT after DELE: %d messages", count)
	}
	conn.Quit()

	// 110: CAPA before TLS offers STLS only; after STLS, AUTH PLAIN works.
	raw := dial(t, w, "pop.demo.test:110")
	br := bufio.NewReader(raw)
	br.ReadString('\n')
	fmt.Fprintf(raw, "CAPA\r\n")
	var caps []string
	for {
		l, err := br.ReadString('\n')
		if err != nil || l == ".\r\n" {
			break
		}
		caps = append(caps, strings.TrimSpace(l))
	}
	if !containsStr(caps, "STLS") || containsStr(caps, "USER") {
		t.Errorf("CAPA before TLS = %q, want STLS and no USER", caps)
	}
	fmt.Fprintf(raw, "USER %s\r\n", sc.Address)
	if l, _ := br.ReadString('\n'); !strings.HasPrefix(l, "-ERR") {
		t.Errorf("USER before STLS: %q, want -ERR", l)
	}
	pc = pop3.New(pop3.Opt{Host: "pop.demo.test", Port: 110, Dialer: popDialer{t, w, "stls"}})
	conn, err = pc.NewConn()
	if err != nil {
		t.Fatal(err)
	}
	_, resp, _ := sasl.NewPlainClient("", sc.Address, sc.Password).Start()
	if _, err := conn.Cmd("AUTH PLAIN "+encodeB64(resp), false); err != nil {
		t.Fatalf("AUTH PLAIN after STLS: %v", err)
	}
	if err := conn.Noop(); err != nil {
		t.Errorf("NOOP after AUTH: %v", err)
	}
	if !w.PasswordSeenAt("pop.demo.test", 995) || !w.PasswordSeenAt("pop.demo.test", 110) {
		t.Errorf("sightings %v, want both POP3 ports", w.PasswordSightings())
	}
}

func TestPOP3BoundsLines(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"pop3-only"}})
	tc, err := dialTLS(t, w, "pop.pop3-only.test", "995")
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(tc)
	br.ReadString('\n')
	fmt.Fprintf(tc, "USER %s\r\n", strings.Repeat("a", 10000))
	if l, _ := br.ReadString('\n'); !strings.Contains(l, "too long") {
		t.Errorf("over-long line: %q", l)
	}
	tc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadString('\n'); err == nil {
		t.Error("the server kept the connection after an over-long line")
	}
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func encodeB64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
