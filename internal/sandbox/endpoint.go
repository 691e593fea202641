package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// endpoint is one service of one host: a port in the address plan.
type endpoint struct {
	w    *World
	host *host
	svc  Service
	addr netip.AddrPort

	once  sync.Once
	queue *connQueue // for the IMAP and SMTP libraries, which want a listener

	mu sync.Mutex
	// refused is set once a wrong password came (FaultSilentAfterWrongPassword).
	refused bool
}

// serverConn is the server's side of a connection. It charges the latency
// model (see doc.go) on writes and taps reads for passwords.
type serverConn struct {
	net.Conn
	ep    *endpoint
	delay time.Duration

	mu        sync.Mutex
	wrote     bool
	readSince bool
	tap       tap
}

func newServerConn(ep *endpoint, raw net.Conn) *serverConn {
	c := &serverConn{Conn: raw, ep: ep, delay: ep.w.opts.Latency + ep.host.Latency}
	c.tap = tap{passwords: ep.w.passwords, hit: ep.sawPassword}
	return c
}

func (c *serverConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.readSince = true
		c.tap.feed(p[:n])
		c.mu.Unlock()
	}
	return n, err
}

// Write delays the server's first write and every write that answers
// something read since the last one: one round trip, one delay.
func (c *serverConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	charge := !c.wrote || c.readSince
	c.wrote, c.readSince = true, false
	c.mu.Unlock()
	if charge {
		if err := c.ep.w.sleep(context.Background(), c.delay); err != nil {
			return 0, err
		}
	}
	return c.Conn.Write(p)
}

func (c *serverConn) Close() error {
	c.ep.w.untrack(c)
	return c.Conn.Close()
}

// sawPassword records that a password reached this endpoint.
func (ep *endpoint) sawPassword() { ep.w.recorder.record(ep.host.Name, int(ep.addr.Port())) }

// checkLogin records the password's arrival and says whether the login is
// the scenario's account.
func (ep *endpoint) checkLogin(username, password string) bool {
	if ep.w.passwords[password] {
		ep.sawPassword()
	}
	sc := ep.host.scenario
	ok := sc != nil && username == sc.Login() && password == sc.Password
	if ep.svc.Fault == FaultSilentAfterWrongPassword {
		ep.mu.Lock()
		silent := ep.refused
		ep.refused = ep.refused || !ok
		ep.mu.Unlock()
		if silent {
			<-ep.w.done
			return false
		}
	}
	return ok
}

// accept serves one connection to this endpoint.
func (ep *endpoint) accept(raw net.Conn) {
	c := newServerConn(ep, raw)
	if !ep.w.track(c) {
		return
	}
	switch ep.svc.Fault {
	case FaultBlackhole, FaultUnreachable:
		// Read and drop whatever comes, never answer.
		io.Copy(io.Discard, c)
		c.Close()
	case FaultCloseInGreeting, FaultEndlessLine, FaultOversizedLine:
		defer c.Close()
		conn := net.Conn(c)
		if ep.svc.Security == autoconfig.SecurityTLS {
			tc := tls.Server(c, ep.tlsConfig())
			if err := tc.Handshake(); err != nil {
				return
			}
			conn = tc
		}
		ep.misgreet(conn)
	case FaultSTARTTLSFails:
		defer c.Close()
		ep.serveLiar(c)
	default:
		ep.serve(c)
	}
}

// greetingPrefix is how each protocol's first line starts.
func (ep *endpoint) greetingPrefix() string {
	switch ep.svc.Kind {
	case KindIMAP:
		return "* OK "
	case KindPOP3:
		return "+OK "
	case KindSubmission:
		return "220 " + ep.host.Name + " "
	}
	return "HTTP/1.1 200 OK\r\nX-Greeting: "
}

// misgreet plays the greeting faults.
func (ep *endpoint) misgreet(c net.Conn) {
	if ep.svc.Kind == KindWeb {
		// HTTP speaks second: wait for the request head first.
		br := bufio.NewReader(io.LimitReader(c, 64<<10))
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" || line == "\n" {
				break
			}
		}
	}
	prefix := ep.greetingPrefix()
	switch ep.svc.Fault {
	case FaultCloseInGreeting:
		io.WriteString(c, prefix[:len(prefix)/2+1])
	case FaultOversizedLine:
		io.WriteString(c, prefix+strings.Repeat("x", 1<<20)+"\r\n")
	case FaultEndlessLine:
		if _, err := io.WriteString(c, prefix); err != nil {
			return
		}
		chunk := bytes.Repeat([]byte("x"), 4096)
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}
}

// serveLiar is a server that advertises STARTTLS (STLS) and then fails it.
// Passwords sent anyway reach it, are recorded by the tap, and are refused.
func (ep *endpoint) serveLiar(c net.Conn) {
	br := bufio.NewReaderSize(c, 1024)
	say := func(lines ...string) bool {
		_, err := io.WriteString(c, strings.Join(lines, "\r\n")+"\r\n")
		return err == nil
	}
	switch ep.svc.Kind {
	case KindIMAP:
		say("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready")
	case KindPOP3:
		say("+OK POP3 ready")
	case KindSubmission:
		say("220 " + ep.host.Name + " ESMTP ready")
	default:
		return
	}
	for {
		c.SetReadDeadline(time.Now().Add(time.Minute))
		line, err := readLine(br, 1024)
		if err != nil {
			return
		}
		if !say(ep.liarAnswer(line)...) {
			return
		}
		if isQuit(ep.svc.Kind, line) {
			return
		}
	}
}

func isQuit(k Kind, line string) bool {
	f := strings.Fields(strings.ToUpper(line))
	switch {
	case k == KindIMAP:
		return len(f) >= 2 && f[1] == "LOGOUT"
	default:
		return len(f) >= 1 && f[0] == "QUIT"
	}
}

// liarAnswer is the liar's reply to one command line.
func (ep *endpoint) liarAnswer(line string) []string {
	f := strings.Fields(line)
	up := func(i int) string {
		if i < len(f) {
			return strings.ToUpper(f[i])
		}
		return ""
	}
	switch ep.svc.Kind {
	case KindIMAP:
		tag := "*"
		if len(f) > 0 {
			tag = f[0]
		}
		switch up(1) {
		case "CAPABILITY":
			return []string{"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED", tag + " OK CAPABILITY completed"}
		case "STARTTLS":
			return []string{tag + " BAD TLS is not available right now"}
		case "LOGIN", "AUTHENTICATE":
			return []string{tag + " NO [PRIVACYREQUIRED] TLS is required to log in"}
		case "LOGOUT":
			return []string{"* BYE logging out", tag + " OK LOGOUT completed"}
		case "NOOP":
			return []string{tag + " OK NOOP completed"}
		}
		return []string{tag + " BAD unknown command"}
	case KindPOP3:
		switch up(0) {
		case "CAPA":
			return []string{"+OK capabilities follow", "USER", "STLS", "SASL PLAIN", "."}
		case "STLS":
			return []string{"-ERR TLS is not available right now"}
		case "USER":
			return []string{"+OK send PASS"}
		case "PASS", "AUTH":
			return []string{"-ERR [SYS/PERM] TLS is required to log in"}
		case "QUIT":
			return []string{"+OK bye"}
		case "NOOP":
			return []string{"+OK"}
		}
		return []string{"-ERR unknown command"}
	default:
		switch up(0) {
		case "EHLO":
			return []string{"250-" + ep.host.Name, "250-PIPELINING", "250-STARTTLS", "250 AUTH PLAIN LOGIN"}
		case "HELO":
			return []string{"250 " + ep.host.Name}
		case "STARTTLS":
			return []string{"454 4.7.0 TLS not available due to temporary reason"}
		case "AUTH":
			return []string{"530 5.7.0 Must issue a STARTTLS command first"}
		case "NOOP", "RSET":
			return []string{"250 2.0.0 OK"}
		case "QUIT":
			return []string{"221 2.0.0 bye"}
		}
		return []string{"502 5.5.2 unknown command"}
	}
}

// errLineTooLong ends a connection whose peer sends an over-long line.
var errLineTooLong = errors.New("sandbox: line too long")

// readLine reads one CRLF- or LF-terminated line of at most max bytes,
// without its terminator.
func readLine(br *bufio.Reader, max int) (string, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		line = append(line, frag...)
		if len(line) > max {
			return "", errLineTooLong
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(line), "\r\n"), nil
	}
}

// serve hands a healthy connection to its protocol's server.
func (ep *endpoint) serve(c *serverConn) {
	switch ep.svc.Kind {
	case KindIMAP:
		ep.startIMAP()
		ep.queue.push(ep.wrapTLS(c))
	case KindSubmission:
		ep.startSMTP()
		ep.queue.push(ep.wrapTLS(c))
	case KindPOP3:
		defer c.Close()
		ep.servePOP3(ep.wrapTLS(c))
	case KindWeb:
		ep.w.web.queue.push(ep.wrapTLS(c))
	default:
		c.Close()
	}
}

// wrapTLS starts implicit TLS where the service has it. The libraries see a
// *tls.Conn, which is how they know a connection is protected.
func (ep *endpoint) wrapTLS(c net.Conn) net.Conn {
	if ep.svc.Security == autoconfig.SecurityTLS {
		return tls.Server(c, ep.tlsConfig())
	}
	return c
}

// connQueue is a net.Listener fed by hand, so a library server can serve
// the connections the endpoint accepted.
type connQueue struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
	addr net.Addr
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{ch: make(chan net.Conn), done: make(chan struct{}), addr: addr}
}

func (q *connQueue) push(c net.Conn) {
	select {
	case q.ch <- c:
	case <-q.done:
		c.Close()
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }
