package verify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/knadh/go-pop3"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// ErrUnsafe: Login refused to send the password; the LoginResult's Reason
// says why and what flag would allow it.
var ErrUnsafe = errors.New("the password was not sent")

// LoginStatus is the outcome of one login attempt.
type LoginStatus string

const (
	// LoginOK: the server accepted the username and password.
	LoginOK LoginStatus = "ok"
	// LoginRejected: the server refused them; Kind and Fix say why.
	LoginRejected LoginStatus = "rejected"
	// LoginNotAttempted: no password was sent; Reason says why.
	LoginNotAttempted LoginStatus = "not-attempted"
	// LoginError: the password was sent but no verdict came back (the
	// connection broke or timed out). It counts as an attempt.
	LoginError LoginStatus = "error"
)

// LoginResult is the outcome of Login.
type LoginResult struct {
	Status LoginStatus `json:"status"`
	// Reason says why the login was not attempted or what broke.
	Reason string `json:"reason,omitempty"`
	// ServerText is the server's own words on a rejection.
	ServerText string `json:"server_text,omitempty"`
	// Kind and Fix explain a rejection (Kind is "" unless rejected, or
	// KindOAuthOnly when the server offers no password mechanism).
	Kind Kind   `json:"kind,omitempty"`
	Fix  string `json:"fix,omitempty"`
	// PasswordSent is true once the password left this process: callers
	// count such attempts to stay clear of the provider's lockout.
	PasswordSent bool `json:"password_sent"`
	// Mechanism is how the password was sent: "LOGIN" (IMAP), "PLAIN" or
	// "LOGIN" (SASL), "USER" (POP3 USER/PASS).
	Mechanism string `json:"mechanism,omitempty"`
	// Address is the ip:port of the connection used.
	Address string `json:"address,omitempty"`
	// TLS is what this connection's handshake showed.
	TLS     *TLSInfo      `json:"tls,omitempty"`
	Err     error         `json:"-"`
	Elapsed time.Duration `json:"-"`
}

// Login tries username and password on one server the way a mail client
// would: IMAP LOGIN or AUTHENTICATE PLAIN (go-imap), POP3 USER/PASS or
// AUTH PLAIN (go-pop3), SMTP AUTH PLAIN or LOGIN (go-smtp, go-sasl).
//
// It makes its own connection and sends the password only when that
// connection passes Result.PasswordSafe: the certificate is judged inside
// the handshake, which is aborted when it fails, and again before the
// password is written. A plaintext server is not even dialled unless
// opts.AllowPlaintext. Login makes one attempt; it never retries.
func Login(ctx context.Context, opts Options, s autoconfig.Server, username string, password []byte) LoginResult {
	start := time.Now()
	l := &login{opts: opts, server: s, username: username, password: password}
	l.run(ctx)
	l.res.Elapsed = time.Since(start)
	if l.gate != nil {
		l.res.TLS = l.gate.info
	}
	return l.res
}

// login is one Login call in progress.
type login struct {
	opts     Options
	server   autoconfig.Server
	username string
	password []byte
	gate     *gate
	res      LoginResult
	// parent is the caller's context; watch closes the connection when
	// the current phase's deadline passes.
	parent context.Context
	watch  *watchdog
}

func (l *login) run(ctx context.Context) {
	if err := checkServer(l.server); err != nil {
		l.notAttempted(err.Error(), err)
		return
	}
	if l.username == "" {
		l.notAttempted("no username", fmt.Errorf("%w: empty username", ErrUnsafe))
		return
	}
	// A line break would end the command early and let the rest run as
	// a second command (POP3 sends USER and PASS as they are).
	if strings.ContainsAny(l.username, "\r\n\x00") || bytes.ContainsAny(l.password, "\r\n\x00") {
		l.notAttempted("the username or password contains a line break or NUL byte", fmt.Errorf("%w: control characters in the credentials", ErrUnsafe))
		return
	}
	if l.server.Security == autoconfig.SecurityPlain && !l.opts.AllowPlaintext {
		_, why := Result{Server: l.server, Reachable: true}.PasswordSafe(l.opts)
		l.notAttempted(why, fmt.Errorf("%w: %s", ErrUnsafe, why))
		return
	}
	// Three phases, each bounded: setting up (dial to the moment the
	// password would be written) by Options.Timeout; the wait in
	// BeforePassword by the caller's ctx alone; the server's verdict by
	// verdictWindow. The caller's ctx bounds them all.
	l.parent = ctx
	setup, cancel := context.WithTimeout(ctx, l.opts.timeout())
	defer cancel()
	tlsa := lookupTLSA(setup, l.opts.Env.Resolver, l.server)
	conn, addr, err := dialHost(setup, l.opts.Env, l.server.Hostname, l.server.Port)
	if err != nil {
		l.notAttempted(fmt.Sprintf("could not connect: %v", err), err)
		return
	}
	defer conn.Close()
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	l.watch = watch(conn)
	defer l.watch.stop()
	d, _ := setup.Deadline()
	l.watch.set(d)
	l.res.Address = addr
	// The mail libraries read lines of any length; cap what they may read
	// in all, so a hostile server cannot fill memory before the deadline.
	capped := &cappedConn{Conn: conn, left: maxLoginRead}
	l.gate = &gate{ctx: setup, opts: l.opts, server: l.server, tlsa: tlsa}
	switch l.server.Protocol {
	case autoconfig.IMAP:
		l.imap(capped)
	case autoconfig.POP3:
		l.pop3(capped)
	case autoconfig.SMTP:
		l.smtp(setup, capped)
	}
}

func (l *login) notAttempted(reason string, err error) {
	l.res.Status, l.res.Reason, l.res.Err = LoginNotAttempted, reason, err
}

// setupFailed records a failure before the password was sent. When the
// gate aborted the handshake, its reason is the one to show.
func (l *login) setupFailed(step string, err error) {
	if l.gate.refusal != "" {
		l.notAttempted(l.gate.refusal, fmt.Errorf("%w: %s", ErrUnsafe, l.gate.refusal))
		return
	}
	// Our own deadline ending a step is no fault of the server's.
	if ctxErr := contextDone(l.gate.ctx); ctxErr != nil || l.watch.expired() {
		if ctxErr == nil {
			ctxErr = context.DeadlineExceeded
		}
		l.notAttempted(fmt.Sprintf("%s: no answer within the time allowed", step), fmt.Errorf("%w (%w): %w", ErrTimeout, ctxErr, err))
		return
	}
	l.notAttempted(fmt.Sprintf("%s failed: %v", step, err), err)
}

// clearToSend is the last check before the password is written.
func (l *login) clearToSend() bool {
	if ok, why := l.gate.allow(); !ok {
		l.notAttempted(why, fmt.Errorf("%w: %s", ErrUnsafe, why))
		return false
	}
	if l.opts.BeforePassword != nil {
		l.watch.set(deadlineOf(l.parent))
		if err := l.opts.BeforePassword(l.parent, l.server); err != nil {
			l.notAttempted(err.Error(), err)
			return false
		}
	}
	l.watch.set(l.verdictDeadline())
	return true
}

// verdictWindow is the least time a server gets to answer the password.
// Servers slow down failures on purpose, so a per-attempt Timeout sized for
// connecting would turn a wrong password into "no answer": Dovecot waits
// auth_failure_delay (2 s) and, for repeated failures from one address,
// doubles that up to 15 s (its auth penalty: dovecot/core
// src/auth/auth-penalty.h, AUTH_PENALTY_MAX_SECS) — and
// Postfix submission asks the same Dovecot. The caller's deadline still
// bounds the wait.
const verdictWindow = 16 * time.Second

// verdictDeadline is when the server's verdict must have come: the larger
// of Options.Timeout and verdictWindow from now, within the caller's
// deadline.
func (l *login) verdictDeadline() time.Time {
	d := time.Now().Add(max(l.opts.timeout(), verdictWindow))
	if pd := deadlineOf(l.parent); !pd.IsZero() && pd.Before(d) {
		return pd
	}
	return d
}

func deadlineOf(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

func (l *login) rejected(text string, kind Kind, fix string) {
	l.res.Status, l.res.ServerText, l.res.Kind, l.res.Fix = LoginRejected, printable(text), kind, fix
}

func (l *login) broke(err error) {
	if ctxErr := contextDone(l.parent); ctxErr != nil {
		err = fmt.Errorf("%w (%w)", ctxErr, err)
	} else if l.watch.expired() {
		err = fmt.Errorf("%w: the server gave no verdict in time (%w)", context.DeadlineExceeded, err)
	}
	l.res.Status, l.res.Reason, l.res.Err = LoginError, fmt.Sprintf("no answer to the login: %v", err), err
}

// noPasswordMechanism records a server that offers no way to send a
// password; when it offers OAuth2 mechanisms, that is the reason.
func (l *login) noPasswordMechanism(offered []string) {
	for _, m := range offered {
		if m == "XOAUTH2" || m == "OAUTHBEARER" {
			l.notAttempted(fmt.Sprintf("the server offers only OAuth2 sign-in (%s)", strings.Join(offered, " ")), fmt.Errorf("%w: no password mechanism", ErrUnsafe))
			l.res.Kind, l.res.Fix = KindOAuthOnly, fixFor(KindOAuthOnly)
			return
		}
	}
	why := "the server offers no login at all"
	if len(offered) > 0 {
		why = fmt.Sprintf("the server offers no password login (mechanisms: %s)", strings.Join(offered, " "))
	}
	l.notAttempted(why, fmt.Errorf("%w: no password mechanism", ErrUnsafe))
}

// gate judges the TLS connection Login is about to send a password over.
type gate struct {
	ctx    context.Context
	opts   Options
	server autoconfig.Server
	tlsa   *tlsaLookup
	// info is what the handshake showed; set inside the handshake.
	info *TLSInfo
	// refusal is why the handshake was aborted ("" when it was not).
	refusal string
}

// tlsConfig aborts the handshake, before any application data, when the
// certificate does not make the connection safe for a password.
func (g *gate) tlsConfig() *tls.Config {
	return clientTLSConfig(g.server.Hostname, g.judge)
}

func (g *gate) judge(cs tls.ConnectionState) error {
	now := time.Now()
	info := inspect(cs, g.server.Hostname, g.opts.Env.RootCAs, g.opts, now)
	info.DANE = g.tlsa.check(g.ctx, cs.PeerCertificates, g.server.Hostname, g.opts.Env.RootCAs, info.Valid, now)
	g.info = info
	if ok, why := g.allow(); !ok {
		g.refusal = why
		return fmt.Errorf("%w: %s", ErrUnsafe, why)
	}
	return nil
}

// allow applies PasswordSafe to this connection.
func (g *gate) allow() (bool, string) {
	if g.server.Security != autoconfig.SecurityPlain && g.info == nil {
		return false, "no TLS handshake was completed"
	}
	return Result{Server: g.server, Reachable: true, TLS: g.info}.PasswordSafe(g.opts)
}

// handshake runs implicit TLS through the gate.
func (g *gate) handshake(conn net.Conn) (*tls.Conn, error) {
	tc := tls.Client(conn, g.tlsConfig())
	if err := tc.HandshakeContext(g.ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// imap logs in with go-imap's client on a connection we dialled and
// secured: implicit TLS, or STARTTLS by our own wire code.
func (l *login) imap(conn net.Conn) {
	var client *imapclient.Client
	switch l.server.Security {
	case autoconfig.SecurityTLS:
		tc, err := l.gate.handshake(conn)
		if err != nil {
			l.setupFailed("the TLS handshake", err)
			return
		}
		client = imapclient.New(tc, nil)
	case autoconfig.SecuritySTARTTLS:
		tc, err := l.imapStartTLS(conn)
		if err != nil {
			l.setupFailed("STARTTLS", err)
			return
		}
		client = imapclient.New(tc, nil)
	default:
		client = imapclient.New(conn, nil)
	}
	defer client.Close()
	if err := client.WaitGreeting(); err != nil {
		l.setupFailed("reading the IMAP greeting", err)
		return
	}
	caps := client.Caps()
	if caps == nil {
		l.setupFailed("IMAP CAPABILITY", errors.New("no capabilities"))
		return
	}
	mech := ""
	switch {
	case caps.Has(imap.AuthCap(sasl.Plain)):
		mech = sasl.Plain
	case !caps.Has(imap.CapLoginDisabled):
		mech = "LOGIN"
	default:
		l.noPasswordMechanism(caps.AuthMechanisms())
		return
	}
	if !l.clearToSend() {
		return
	}
	l.res.PasswordSent, l.res.Mechanism = true, mech
	var err error
	if mech == sasl.Plain {
		err = client.Authenticate(sasl.NewPlainClient("", l.username, string(l.password)))
	} else {
		err = client.Login(l.username, string(l.password)).Wait()
	}
	var ie *imap.Error
	switch {
	case err == nil:
		l.res.Status = LoginOK
		// Say goodbye without waiting for the answer: it would cost a
		// round trip and prove nothing more.
		client.Logout()
	case errors.As(err, &ie):
		kind, fix := classifyIMAP(ie.Code, ie.Text)
		text := ie.Text
		if ie.Code != "" {
			text = "[" + string(ie.Code) + "] " + text
		}
		l.rejected(text, kind, fix)
	default:
		l.broke(err)
	}
}

// imapStartTLS upgrades an IMAP connection (RFC 9051 §6.2.1) with our own
// bounded wire code and hands go-imap a connection that is already TLS.
// Before TLS anyone on the path can write to us, so those bytes go through
// the same size-bounded, fuzzed reader as Check rather than through the
// library's parser (whose STARTTLS hung for ever on "T1 OK\rx").
// go-imap reads a greeting first; the greeting came before TLS and was
// consumed here, so a bare one is replayed, without the capabilities seen
// in plaintext, which the library must ask again over TLS.
func (l *login) imapStartTLS(conn net.Conn) (net.Conn, error) {
	// STARTTLS goes out before the greeting has come, as go-imap's own
	// STARTTLS did: it saves a round trip, and a greeting that forbids it
	// (PREAUTH, BYE) still ends the step before any TLS.
	if _, err := io.WriteString(conn, "T1 STARTTLS\r\n"); err != nil {
		return nil, err
	}
	lr := newLineReader(conn, maxSession)
	line, err := lr.readLine()
	if err != nil {
		return nil, err
	}
	g, err := parseIMAPResponse(line)
	switch {
	case err != nil:
		return nil, err
	case g.Tag == "*" && g.Kind == "OK":
	case g.Tag == "*" && g.Kind == "PREAUTH":
		return nil, fmt.Errorf("%w: PREAUTH greeting on a connection to be upgraded", ErrSTARTTLS)
	case g.Tag == "*" && g.Kind == "BYE":
		return nil, fmt.Errorf("%w: %q", ErrRefused, printable(g.Text))
	default:
		return nil, fmt.Errorf("%w: greeting %q", ErrProtocol, printable(line))
	}
	for {
		line, err := lr.readLine()
		if err != nil {
			return nil, err
		}
		r, err := parseIMAPResponse(line)
		switch {
		case err != nil:
			return nil, err
		case r.Tag == "*" && r.Kind == "BYE":
			return nil, fmt.Errorf("%w: %q", ErrRefused, printable(r.Text))
		case r.Tag == "*":
			continue // untagged data may come at any time
		case r.Tag != "T1":
			return nil, fmt.Errorf("%w: unexpected %q", ErrProtocol, printable(line))
		case r.Kind != "OK":
			return nil, fmt.Errorf("%w: the server answered %q", ErrSTARTTLS, printable(line))
		}
		break
	}
	if lr.buffered() > 0 {
		return nil, fmt.Errorf("%w: plaintext after the STARTTLS go-ahead", ErrSTARTTLS)
	}
	tc, err := l.gate.handshake(conn)
	if err != nil {
		return nil, err
	}
	return &replayConn{Conn: tc, r: io.MultiReader(strings.NewReader("* OK TLS is on\r\n"), tc)}, nil
}

// pop3 logs in with go-pop3. The library dials through our pop3Dialer,
// which hands it a connection already secured: go-pop3 has no context, no
// STLS and no custom roots.
func (l *login) pop3(conn net.Conn) {
	d := &pop3Dialer{gate: l.gate, conn: conn}
	client := pop3.New(pop3.Opt{Host: l.server.Hostname, Port: l.server.Port, Dialer: d})
	c, err := client.NewConn()
	if err != nil {
		l.setupFailed("connecting", err)
		return
	}
	var caps, mechs []string
	capaKnown := false
	if buf, err := c.Cmd("CAPA", true); err == nil {
		caps, mechs = parsePOP3Capa(strings.Split(strings.TrimSpace(buf.String()), "\r\n"))
		capaKnown = true
	} else if isNetError(err) {
		l.setupFailed("POP3 CAPA", err)
		return
	}
	// AUTH PLAIN with an initial response (RFC 5034 §4) costs one round
	// trip where USER and PASS cost two; without CAPA, USER/PASS is the
	// one method every server has (RFC 1939 §7).
	var mech string
	switch {
	case capaKnown && hasMechanism(mechs, sasl.Plain):
		mech = sasl.Plain
	case !capaKnown || hasCapability(caps, "USER"):
		mech = "USER"
	default:
		l.noPasswordMechanism(mechs)
		return
	}
	if !l.clearToSend() {
		return
	}
	l.res.Mechanism = mech
	if mech == sasl.Plain {
		l.res.PasswordSent = true
		ir := base64.StdEncoding.EncodeToString([]byte("\x00" + l.username + "\x00" + string(l.password)))
		_, err = c.Cmd("AUTH", false, "PLAIN", ir)
	} else if err = c.User(l.username); err == nil {
		l.res.PasswordSent = true
		err = c.Pass(string(l.password))
	}
	switch {
	case err == nil:
		l.res.Status = LoginOK
		c.Send("QUIT") // without waiting for the answer
	case isNetError(err):
		if l.res.PasswordSent {
			l.broke(err)
		} else {
			l.setupFailed("POP3 USER", err)
		}
	default:
		kind, fix := classifyPOP3(err.Error())
		l.rejected(err.Error(), kind, fix)
	}
}

// isNetError tells a broken connection from a POP3 -ERR, which go-pop3
// returns as a plain error holding the server's text.
func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, ErrProtocol) || errors.Is(err, ErrTooLong) ||
		strings.HasPrefix(err.Error(), "unknown response")
}

func hasMechanism(mechs []string, m string) bool {
	for _, x := range mechs {
		if strings.EqualFold(x, m) {
			return true
		}
	}
	return false
}

// pop3Dialer gives go-pop3 the connection Login dialled, secured first:
// implicit TLS, or STLS (RFC 2595 §4) after which it replays the greeting,
// because go-pop3 reads a greeting right after dialling.
type pop3Dialer struct {
	gate *gate
	conn net.Conn
	used bool
}

func (d *pop3Dialer) Dial(network, address string) (net.Conn, error) {
	if d.used {
		return nil, errors.New("one POP3 connection per login")
	}
	d.used = true
	var conn net.Conn
	var err error
	switch d.gate.server.Security {
	case autoconfig.SecurityTLS:
		conn, err = d.gate.handshake(d.conn)
	case autoconfig.SecuritySTARTTLS:
		conn, err = d.stls()
	default:
		conn = d.conn
	}
	if err != nil {
		return nil, err
	}
	return &pop3LineGuard{Conn: conn, lineStart: true}, nil
}

// pop3LineGuard fails the read at an empty line or one longer than
// pop3MaxLine, before go-pop3 sees it. go-pop3 v1.0.0 takes an empty reply
// line for "+OK" (parseResp), so "\r\n" to PASS would pass for a login
// that worked, and it reads a long line in 4 KiB pieces (bufio.ReadLine
// with isPrefix ignored), the rest of which it would take for the next
// reply. No line of a POP3 login is empty (RFC 1939 §3).
// pop3MaxLine is go-pop3's read buffer (bufio's default size): a longer
// line it would split. RFC 2449 §4 allows POP3 replies 512 octets.
const pop3MaxLine = 4096

type pop3LineGuard struct {
	net.Conn
	lineStart bool
	lineLen   int
	err       error
}

func (g *pop3LineGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.Conn.Read(p)
	for i, b := range p[:n] {
		switch {
		case g.lineStart && (b == '\r' || b == '\n'):
			g.err = fmt.Errorf("%w: an empty line where POP3 needs +OK or -ERR", ErrProtocol)
		case b == '\n':
			g.lineStart, g.lineLen = true, 0
			continue
		case g.lineLen >= pop3MaxLine:
			g.err = fmt.Errorf("%w: a line longer than %d bytes", ErrTooLong, pop3MaxLine)
		default:
			g.lineStart = false
			g.lineLen++
			continue
		}
		// Hand over the lines before the bad one; the next Read fails.
		if i == 0 {
			return 0, g.err
		}
		return i, nil
	}
	return n, err
}

func (d *pop3Dialer) stls() (net.Conn, error) {
	lr := newLineReader(d.conn, maxSession)
	greeting, err := lr.readLine()
	if err != nil {
		return nil, err
	}
	if ok, text, err := parsePOP3Status(greeting); err != nil || !ok {
		return nil, fmt.Errorf("%w: POP3 greeting %q", ErrRefused, printable(text))
	}
	if _, err := io.WriteString(d.conn, "STLS\r\n"); err != nil {
		return nil, err
	}
	answer, err := lr.readLine()
	if err != nil {
		return nil, err
	}
	if ok, _, err := parsePOP3Status(answer); err != nil || !ok {
		return nil, fmt.Errorf("%w: the server answered STLS with %q", ErrSTARTTLS, printable(answer))
	}
	if lr.buffered() > 0 {
		return nil, fmt.Errorf("%w: plaintext after the STLS go-ahead", ErrSTARTTLS)
	}
	tc, err := d.gate.handshake(d.conn)
	if err != nil {
		return nil, err
	}
	return &replayConn{Conn: tc, r: io.MultiReader(strings.NewReader(greeting+"\r\n"), tc)}, nil
}

// replayConn reads r (a replayed greeting, then the connection) and
// writes to the connection.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// smtp authenticates with go-smtp's client over TLS we set up: implicit
// (465) or after our own STARTTLS step (587).
func (l *login) smtp(ctx context.Context, conn net.Conn) {
	var c *smtp.Client
	switch l.server.Security {
	case autoconfig.SecurityTLS:
		tc, err := l.gate.handshake(conn)
		if err != nil {
			l.setupFailed("the TLS handshake", err)
			return
		}
		c = smtp.NewClient(tc)
	case autoconfig.SecuritySTARTTLS:
		tc, err := l.smtpStartTLS(conn)
		if err != nil {
			l.setupFailed("STARTTLS", err)
			return
		}
		c = smtp.NewClient(tc)
	default:
		c = smtp.NewClient(conn)
	}
	defer c.Close()
	// go-smtp sets a deadline of CommandTimeout per command and clears it
	// afterwards; keep it within ours (the watchdog closes the connection
	// regardless).
	if d, ok := ctx.Deadline(); ok {
		c.CommandTimeout = time.Until(d)
	}
	// EHLO over TLS: what a STARTTLS server listed before TLS is
	// discarded (RFC 3207 §4.2).
	if err := c.Hello(l.opts.clientName()); err != nil {
		l.setupFailed("SMTP EHLO", err)
		return
	}
	var client sasl.Client
	switch {
	case c.SupportsAuth(sasl.Plain):
		l.res.Mechanism, client = sasl.Plain, sasl.NewPlainClient("", l.username, string(l.password))
	case c.SupportsAuth(sasl.Login):
		l.res.Mechanism, client = sasl.Login, sasl.NewLoginClient(l.username, string(l.password))
	default:
		_, params := c.Extension("AUTH")
		l.noPasswordMechanism(strings.Fields(strings.ToUpper(params)))
		return
	}
	if !l.clearToSend() {
		l.res.Mechanism = ""
		return
	}
	c.CommandTimeout = time.Until(l.verdictDeadline())
	l.res.PasswordSent = true
	err := c.Auth(client)
	var se *smtp.SMTPError
	switch {
	case err == nil:
		// No QUIT: go-smtp would wait a round trip for its answer, and
		// closing the connection ends the session just as well.
		l.res.Status = LoginOK
	case errors.As(err, &se):
		kind, fix := classifySMTP(se.Code, se.EnhancedCode, se.Message)
		text := fmt.Sprintf("%d %s", se.Code, se.Message)
		if se.EnhancedCode != smtp.EnhancedCodeNotSet && se.EnhancedCode != smtp.NoEnhancedCode {
			text = fmt.Sprintf("%d %d.%d.%d %s", se.Code, se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2], se.Message)
		}
		l.rejected(text, kind, fix)
	default:
		l.broke(err)
	}
}

// smtpStartTLS upgrades an SMTP connection (RFC 3207) with our own
// bounded wire code, for the reasons imapStartTLS gives, and hands go-smtp
// a connection that is already TLS, replaying a bare greeting for it to
// read. The EHLO before TLS is only what RFC 3207 §4 asks for; what it
// lists is discarded (RFC 3207 §4.2), and STARTTLS is tried even when it is
// not listed: Check reports that, and the gate judges the handshake.
func (l *login) smtpStartTLS(conn net.Conn) (net.Conn, error) {
	lr := newLineReader(conn, maxSession)
	greeting, err := readSMTPReply(lr)
	if err != nil {
		return nil, err
	}
	if greeting.Code != 220 {
		return nil, fmt.Errorf("%w: %d %q", ErrRefused, greeting.Code, printable(greeting.Text()))
	}
	for _, step := range []struct {
		command string
		want    int
		err     error
	}{
		{"EHLO " + l.opts.clientName(), 250, ErrRefused},
		{"STARTTLS", 220, ErrSTARTTLS},
	} {
		if _, err := io.WriteString(conn, step.command+"\r\n"); err != nil {
			return nil, err
		}
		r, err := readSMTPReply(lr)
		if err != nil {
			return nil, err
		}
		if r.Code != step.want {
			return nil, fmt.Errorf("%w: the server answered %s with %d %q", step.err, strings.Fields(step.command)[0], r.Code, printable(r.Text()))
		}
	}
	if lr.buffered() > 0 {
		return nil, fmt.Errorf("%w: plaintext after the STARTTLS go-ahead", ErrSTARTTLS)
	}
	tc, err := l.gate.handshake(conn)
	if err != nil {
		return nil, err
	}
	return &replayConn{Conn: tc, r: io.MultiReader(strings.NewReader("220 TLS is on\r\n"), tc)}, nil
}

// errCtx marks err as ErrTimeout, with the context's error, when the
// context ended the operation.
func errCtx(ctx context.Context, err error) error {
	if ctxErr := contextDone(ctx); ctxErr != nil {
		return fmt.Errorf("%w: %w (%w)", ErrTimeout, ctxErr, err)
	}
	return err
}

// contextDone is ctx.Err(), or DeadlineExceeded as soon as the deadline
// has passed: a read that hit the connection deadline (the same instant)
// may return before the context's own timer has fired.
func contextDone(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// maxLoginRead bounds the bytes a Login reads from the server, TLS
// included: a greeting, capabilities and a few replies need far less.
const maxLoginRead = 256 << 10

// cappedConn fails reads once left bytes have been read.
type cappedConn struct {
	net.Conn
	left int
}

func (c *cappedConn) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("%w: more than %d bytes during login", ErrTooLong, maxLoginRead)
	}
	if len(p) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= n
	return n, err
}

// watchdog closes a connection when its deadline passes. Login moves the
// deadline from phase to phase; the mail libraries set and clear
// connection deadlines of their own, so closing is the one bound they
// cannot undo.
type watchdog struct {
	conn  net.Conn
	mu    sync.Mutex
	timer *time.Timer
	gen   int
	fired bool
}

func watch(conn net.Conn) *watchdog { return &watchdog{conn: conn} }

// set moves the deadline to d; the zero time means none.
func (w *watchdog) set(d time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fired {
		return
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	w.gen++
	w.conn.SetDeadline(d)
	if d.IsZero() {
		return
	}
	gen := w.gen
	w.timer = time.AfterFunc(time.Until(d), func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if gen != w.gen {
			return // the deadline moved meanwhile
		}
		w.fired = true
		w.conn.Close()
	})
}

func (w *watchdog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gen++
	if w.timer != nil {
		w.timer.Stop()
	}
}

// expired reports whether the watchdog closed the connection.
func (w *watchdog) expired() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fired
}
