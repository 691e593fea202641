package sandbox

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// POP3 server limits. RFC 2449 §4 bounds command lines to 255 octets; SASL
// responses (RFC 5034) may be longer, so lines get 4 KiB. Three failed
// logins end the session, as real servers do against guessing.
const (
	pop3LineMax     = 4096
	pop3MaxFailures = 3
	pop3IdleTimeout = time.Minute
)

// pop3Session is one connection to the sandbox's POP3 server: RFC 1939
// with CAPA (RFC 2449), STLS (RFC 2595) and AUTH PLAIN (RFC 5034, RFC 4616).
// The mailbox holds one message; deletions last until the session ends.
type pop3Session struct {
	ep       *endpoint
	conn     net.Conn
	br       *bufio.Reader
	isTLS    bool
	user     string // from USER, waiting for PASS
	authed   bool
	failures int
	deleted  bool
}

// servePOP3 runs a POP3 session on c until the client quits or fails.
func (ep *endpoint) servePOP3(c net.Conn) {
	_, isTLS := c.(*tls.Conn)
	s := &pop3Session{ep: ep, conn: c, br: bufio.NewReaderSize(c, 1024), isTLS: isTLS}
	if !s.reply("+OK " + ep.host.Name + " POP3 server ready") {
		return
	}
	for {
		c.SetReadDeadline(time.Now().Add(pop3IdleTimeout))
		line, err := readLine(s.br, pop3LineMax)
		if err == errLineTooLong {
			// Read the rest of the line (within reason) so the client
			// gets the answer rather than a reset.
			discardLine(s.br, 1<<20)
			s.reply("-ERR line too long")
			return
		}
		if err != nil {
			return
		}
		if !s.handle(line) {
			return
		}
	}
}

// reply writes one or more lines; false when the connection is gone.
func (s *pop3Session) reply(lines ...string) bool {
	_, err := s.conn.Write([]byte(strings.Join(lines, "\r\n") + "\r\n"))
	return err == nil
}

// canLogin is false on a STARTTLS service before STLS: passwords wait for
// TLS (RFC 2595 §2.1 lets servers refuse them until then).
func (s *pop3Session) canLogin() bool {
	return s.isTLS || s.ep.svc.Security == autoconfig.SecurityPlain
}

// handle answers one command; false ends the session.
func (s *pop3Session) handle(line string) bool {
	cmd, arg, _ := strings.Cut(line, " ")
	cmd = strings.ToUpper(cmd)
	if cmd == "QUIT" {
		s.reply("+OK bye")
		return false
	}
	if cmd == "CAPA" {
		return s.reply(s.capabilities()...)
	}
	if !s.authed {
		return s.handleAuthorization(cmd, arg)
	}
	return s.handleTransaction(cmd, arg)
}

func (s *pop3Session) capabilities() []string {
	caps := []string{"+OK capability list follows", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"}
	if !s.authed && s.canLogin() {
		caps = append(caps, "USER", "SASL PLAIN")
	}
	if !s.authed && !s.isTLS && s.ep.svc.Security == autoconfig.SecuritySTARTTLS {
		caps = append(caps, "STLS")
	}
	return append(caps, "IMPLEMENTATION mailsetup-sandbox", ".")
}

func (s *pop3Session) handleAuthorization(cmd, arg string) bool {
	switch cmd {
	case "STLS":
		if s.isTLS || s.ep.svc.Security != autoconfig.SecuritySTARTTLS {
			return s.reply("-ERR STLS not available")
		}
		if s.br.Buffered() > 0 {
			// RFC 2595 §4: nothing may follow STLS before the handshake.
			s.reply("-ERR data after STLS")
			return false
		}
		if !s.reply("+OK begin TLS negotiation") {
			return false
		}
		tc := tls.Server(s.conn, s.ep.tlsConfig())
		if err := tc.Handshake(); err != nil {
			return false
		}
		s.conn, s.isTLS = tc, true
		s.br.Reset(tc)
		s.user = ""
		return true
	case "USER":
		if !s.canLogin() {
			return s.reply("-ERR [AUTH] TLS is required: send STLS first")
		}
		if arg == "" {
			return s.reply("-ERR USER needs a name")
		}
		s.user = arg
		return s.reply("+OK send PASS")
	case "PASS":
		if !s.canLogin() {
			return s.reply("-ERR [AUTH] TLS is required: send STLS first")
		}
		if s.user == "" {
			return s.reply("-ERR send USER first")
		}
		user := s.user
		s.user = ""
		return s.login(user, arg)
	case "AUTH":
		return s.handleAuth(arg)
	case "NOOP":
		return s.reply("+OK")
	}
	return s.reply("-ERR unknown command or wrong state")
}

// handleAuth runs AUTH PLAIN, with or without an initial response.
func (s *pop3Session) handleAuth(arg string) bool {
	mech, initial, hasInitial := strings.Cut(arg, " ")
	if !strings.EqualFold(mech, "PLAIN") {
		return s.reply("-ERR unsupported SASL mechanism")
	}
	if !s.canLogin() {
		return s.reply("-ERR [AUTH] TLS is required: send STLS first")
	}
	if !hasInitial {
		if !s.reply("+ ") {
			return false
		}
		line, err := readLine(s.br, pop3LineMax)
		if err != nil {
			return false
		}
		if line == "*" {
			return s.reply("-ERR authentication cancelled")
		}
		initial = line
	}
	if initial == "=" {
		initial = ""
	}
	raw, err := base64.StdEncoding.DecodeString(initial)
	if err != nil {
		return s.reply("-ERR invalid base64")
	}
	parts := bytes.Split(raw, []byte{0})
	if len(parts) != 3 || (len(parts[0]) > 0 && !bytes.Equal(parts[0], parts[1])) {
		return s.reply("-ERR malformed PLAIN response")
	}
	return s.login(string(parts[1]), string(parts[2]))
}

func (s *pop3Session) login(user, password string) bool {
	if s.ep.checkLogin(user, password) {
		s.authed = true
		return s.reply("+OK logged in")
	}
	s.failures++
	if !s.reply("-ERR [AUTH] invalid user name or password") {
		return false
	}
	return s.failures < pop3MaxFailures
}

// The one message in every sandbox mailbox.
func (s *pop3Session) message() string {
	to := ""
	if sc := s.ep.host.scenario; sc != nil {
		to = sc.Address
	}
	return "From: postmaster@" + s.ep.host.Name + "\r\n" +
		"To: " + to + "\r\n" +
		"Subject: Welcome to the mailsetup sandbox\r\n" +
		"Message-ID: <welcome@" + s.ep.host.Name + ">\r\n" +
		"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n" +
		"\r\n" +
		"This message lives in the sandbox's in-memory POP3 server.\r\n" +
		". A line that starts with a dot is dot-stuffed on the wire.\r\n"
}

func (s *pop3Session) handleTransaction(cmd, arg string) bool {
	msg := s.message()
	count, size := 1, len(msg)
	if s.deleted {
		count, size = 0, 0
	}
	// msgArg parses a message number, which must be 1 and not deleted.
	msgArg := func(a string) bool {
		n, err := strconv.Atoi(strings.Fields(a + " x")[0])
		return err == nil && n == 1 && !s.deleted
	}
	switch cmd {
	case "STAT":
		return s.reply(fmt.Sprintf("+OK %d %d", count, size))
	case "LIST", "UIDL":
		entry := fmt.Sprintf("1 %d", size)
		if cmd == "UIDL" {
			entry = "1 welcome-1"
		}
		if arg != "" {
			if !msgArg(arg) {
				return s.reply("-ERR no such message")
			}
			return s.reply("+OK " + entry)
		}
		if count == 0 {
			return s.reply("+OK 0 messages", ".")
		}
		return s.reply("+OK 1 message", entry, ".")
	case "RETR", "TOP":
		if !msgArg(arg) {
			return s.reply("-ERR no such message")
		}
		body := msg
		if cmd == "TOP" {
			f := strings.Fields(arg)
			lines, err := 0, error(nil)
			if len(f) == 2 {
				lines, err = strconv.Atoi(f[1])
			}
			if len(f) != 2 || err != nil || lines < 0 {
				return s.reply("-ERR TOP needs a message number and a line count")
			}
			head, text, _ := strings.Cut(msg, "\r\n\r\n")
			tl := strings.SplitAfter(text, "\r\n")
			if lines < len(tl) {
				tl = tl[:lines]
			}
			body = head + "\r\n\r\n" + strings.Join(tl, "")
		}
		return s.reply("+OK message follows", dotStuff(body)+".")
	case "DELE":
		if !msgArg(arg) {
			return s.reply("-ERR no such message")
		}
		s.deleted = true
		return s.reply("+OK deleted")
	case "RSET":
		s.deleted = false
		return s.reply("+OK")
	case "NOOP":
		return s.reply("+OK")
	}
	return s.reply("-ERR unknown command or wrong state")
}

// dotStuff escapes lines that start with a dot (RFC 1939 §3). body ends in
// CRLF, so the terminating "." can follow directly.
func dotStuff(body string) string {
	lines := strings.SplitAfter(body, "\r\n")
	for i, l := range lines {
		if strings.HasPrefix(l, ".") {
			lines[i] = "." + l
		}
	}
	return strings.Join(lines, "")
}

// discardLine skips input up to the end of the current line, at most max bytes.
func discardLine(br *bufio.Reader, max int) {
	for n := 0; n < max; {
		frag, err := br.ReadSlice('\n')
		n += len(frag)
		if err != bufio.ErrBufferFull {
			return
		}
	}
}
