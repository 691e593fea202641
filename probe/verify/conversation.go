package verify

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// conversation is one Check's connection: the raw TCP connection, the
// current one (raw or TLS on top of it) and a bounded reader on the
// current one.
type conversation struct {
	ctx  context.Context
	opts Options
	res  *Result
	tlsa *tlsaLookup
	raw  net.Conn
	conn net.Conn
	lr   *lineReader
}

// setConn switches to conn, carrying over what is left of the read budget.
func (c *conversation) setConn(conn net.Conn) {
	budget := maxSession
	if c.lr != nil {
		budget = c.lr.budget
	}
	c.conn, c.lr = conn, newLineReader(conn, budget)
}

func (c *conversation) send(line string) error {
	_, err := io.WriteString(c.conn, line+"\r\n")
	return err
}

// readLine reads one line and names the step when it fails.
func (c *conversation) readLine(step string) (string, error) {
	line, err := c.lr.readLine()
	if err != nil {
		return "", c.failed(step, err)
	}
	return line, nil
}

// failed wraps err with the step it broke and, when the context's
// deadline ended it, says so.
func (c *conversation) failed(step string, err error) error {
	return fmt.Errorf("%s on %s: %w", step, c.res.Server.Address(), errCtx(c.ctx, err))
}

// startTLS completes TLS on the raw connection (implicit TLS).
func (c *conversation) startTLS() error {
	tc, err := c.handshake(c.raw)
	if err != nil {
		return err
	}
	c.setConn(tc)
	return nil
}

// upgrade completes TLS after the server's go-ahead to STARTTLS or STLS.
// Bytes the server sent after its go-ahead would be read as if they came
// through TLS: that is an injection (RFC 3207 §6), and ends the check.
func (c *conversation) upgrade(verb string) error {
	if n := c.lr.buffered(); n > 0 {
		c.res.addFinding(SeverityCritical, FindingSTARTTLSInjection, "%s on %s sent %d bytes after its %s go-ahead and before TLS: they could be an injected command", c.res.Server.Protocol.DisplayName(), c.res.Server.Address(), n, verb)
		return fmt.Errorf("%w: plaintext after the %s go-ahead", ErrSTARTTLS, verb)
	}
	if err := c.startTLS(); err != nil {
		if contextDone(c.ctx) != nil {
			// Our own deadline ended the handshake (--timeout 100ms does
			// it to any server): no finding about the server.
			return fmt.Errorf("after the %s go-ahead: %w", verb, err)
		}
		c.res.addFinding(SeverityCritical, FindingSTARTTLSFailed, "%s on %s accepted %s but the TLS handshake failed: %v", c.res.Server.Protocol.DisplayName(), c.res.Server.Address(), verb, err)
		return fmt.Errorf("%w: %w", ErrSTARTTLS, err)
	}
	return nil
}

// notAdvertised records that the upgrade verb is missing from the
// capabilities a client sees before TLS.
func (c *conversation) notAdvertised(verb string) {
	c.res.addFinding(SeverityWarning, FindingSTARTTLSNotAdvertised, "%s on %s does not list %s before TLS: a client that believes the list would send the password unencrypted (or an attacker removed it)", c.res.Server.Protocol.DisplayName(), c.res.Server.Address(), verb)
}

// refusedUpgrade records that the server said no to the upgrade.
func (c *conversation) refusedUpgrade(verb, answer string) error {
	c.res.addFinding(SeverityCritical, FindingSTARTTLSFailed, "%s on %s refused %s (%q): the connection cannot be encrypted, so no password may be sent", c.res.Server.Protocol.DisplayName(), c.res.Server.Address(), verb, printable(answer))
	return fmt.Errorf("%w: the server answered %q", ErrSTARTTLS, printable(answer))
}

// imap runs the IMAP part of Check: greeting, CAPABILITY, STARTTLS and
// CAPABILITY again (RFC 9051 §6.2.1: capabilities seen before TLS are
// discarded after it).
func (c *conversation) imap() error {
	s := c.res.Server
	if s.Security == autoconfig.SecurityTLS {
		if err := c.startTLS(); err != nil {
			return err
		}
	}
	line, err := c.readLine("reading the IMAP greeting")
	if err != nil {
		return err
	}
	g, err := parseIMAPResponse(line)
	if err != nil {
		return c.failed("reading the IMAP greeting", err)
	}
	if g.Tag != "*" {
		return c.failed("reading the IMAP greeting", fmt.Errorf("%w: tagged greeting %q", ErrProtocol, printable(line)))
	}
	c.res.Greeting = printable(g.Text)
	switch g.Kind {
	case "OK":
	case "PREAUTH":
		if s.Security == autoconfig.SecuritySTARTTLS {
			c.res.addFinding(SeverityCritical, FindingPreauthPlaintext, "IMAP on %s greeted with PREAUTH before TLS, so STARTTLS is impossible (RFC 9051 §7.1.4)", s.Address())
			return fmt.Errorf("%w: PREAUTH greeting on a connection to be upgraded", ErrSTARTTLS)
		}
	case "BYE":
		return fmt.Errorf("%w: %q", ErrRefused, c.res.Greeting)
	default:
		return c.failed("reading the IMAP greeting", fmt.Errorf("%w: greeting %q", ErrProtocol, printable(line)))
	}
	var caps []string
	if g.Code == "CAPABILITY" {
		caps = parseIMAPCapabilities(g.CodeArgs)
	} else if caps, err = c.imapCapability("A1"); err != nil {
		return err
	}
	if s.Security == autoconfig.SecuritySTARTTLS {
		if !hasCapability(caps, "STARTTLS") {
			c.notAdvertised("STARTTLS")
		}
		r, _, err := c.imapCommand("A2", "STARTTLS")
		if err != nil {
			return err
		}
		if r.Kind != "OK" {
			return c.refusedUpgrade("STARTTLS", r.Kind+" "+r.Text)
		}
		if err := c.upgrade("STARTTLS"); err != nil {
			return err
		}
		if caps, err = c.imapCapability("A3"); err != nil {
			return err
		}
	}
	c.res.Capabilities = caps
	c.res.AuthMechanisms = imapAuthMechanisms(caps)
	if hasCapability(caps, "LOGINDISABLED") {
		c.res.LoginDisabled = true
		c.res.addFinding(SeverityInfo, FindingLoginDisabled, "IMAP on %s disables LOGIN on this connection; only AUTHENTICATE %v can log in", s.Address(), c.res.AuthMechanisms)
	}
	c.send("A4 LOGOUT") // courtesy; the answer does not matter
	return nil
}

// imapCommand sends one command and reads up to its tagged completion,
// keeping the capabilities of any untagged CAPABILITY response.
func (c *conversation) imapCommand(tag, command string) (imapResponse, []string, error) {
	step := "IMAP " + command
	if err := c.send(tag + " " + command); err != nil {
		return imapResponse{}, nil, c.failed(step, err)
	}
	var caps []string
	for {
		line, err := c.readLine(step)
		if err != nil {
			return imapResponse{}, nil, err
		}
		r, err := parseIMAPResponse(line)
		if err != nil {
			return r, nil, c.failed(step, err)
		}
		switch {
		case r.Tag == tag:
			return r, caps, nil
		case r.Tag == "*" && r.Kind == "CAPABILITY":
			caps = parseIMAPCapabilities(r.Text)
		case r.Tag == "*" && r.Kind == "BYE":
			return r, nil, c.failed(step, fmt.Errorf("%w: %q", ErrRefused, printable(r.Text)))
		case r.Tag == "*":
			// Other untagged data is allowed at any time; the read budget
			// bounds how much of it we accept.
		default:
			return r, nil, c.failed(step, fmt.Errorf("%w: unexpected %q", ErrProtocol, printable(line)))
		}
	}
}

// imapCapability runs CAPABILITY; a server may answer in the tagged OK's
// response code instead of an untagged response.
func (c *conversation) imapCapability(tag string) ([]string, error) {
	r, caps, err := c.imapCommand(tag, "CAPABILITY")
	if err != nil {
		return nil, err
	}
	if r.Kind != "OK" {
		return nil, c.failed("IMAP CAPABILITY", fmt.Errorf("%w: %s %q", ErrProtocol, r.Kind, printable(r.Text)))
	}
	if caps == nil && r.Code == "CAPABILITY" {
		caps = parseIMAPCapabilities(r.CodeArgs)
	}
	return caps, nil
}

// pop3 runs the POP3 part of Check: greeting, CAPA, STLS and CAPA again
// (RFC 2595 §4: the capabilities may differ after TLS).
func (c *conversation) pop3() error {
	s := c.res.Server
	if s.Security == autoconfig.SecurityTLS {
		if err := c.startTLS(); err != nil {
			return err
		}
	}
	line, err := c.readLine("reading the POP3 greeting")
	if err != nil {
		return err
	}
	ok, text, err := parsePOP3Status(line)
	if err != nil {
		return c.failed("reading the POP3 greeting", err)
	}
	c.res.Greeting = printable(text)
	if !ok {
		return fmt.Errorf("%w: %q", ErrRefused, c.res.Greeting)
	}
	caps, mechs, capaOK, err := c.pop3Capa()
	if err != nil {
		return err
	}
	if s.Security == autoconfig.SecuritySTARTTLS {
		// CAPA is optional (RFC 2449): without it, nothing was advertised
		// and nothing was stripped.
		if capaOK && !hasCapability(caps, "STLS") {
			c.notAdvertised("STLS")
		}
		if err := c.send("STLS"); err != nil {
			return c.failed("POP3 STLS", err)
		}
		line, err := c.readLine("POP3 STLS")
		if err != nil {
			return err
		}
		ok, _, err := parsePOP3Status(line)
		if err != nil {
			return c.failed("POP3 STLS", err)
		}
		if !ok {
			return c.refusedUpgrade("STLS", line)
		}
		if err := c.upgrade("STLS"); err != nil {
			return err
		}
		if caps, mechs, _, err = c.pop3Capa(); err != nil {
			return err
		}
	}
	c.res.Capabilities, c.res.AuthMechanisms = caps, mechs
	c.send("QUIT")
	return nil
}

// pop3Capa runs CAPA; ok is false when the server does not know it.
func (c *conversation) pop3Capa() (caps, mechs []string, ok bool, err error) {
	if err := c.send("CAPA"); err != nil {
		return nil, nil, false, c.failed("POP3 CAPA", err)
	}
	line, err := c.readLine("POP3 CAPA")
	if err != nil {
		return nil, nil, false, err
	}
	ok, _, err = parsePOP3Status(line)
	if err != nil || !ok {
		return nil, nil, false, err
	}
	lines, err := readPOP3Multiline(c.lr)
	if err != nil {
		return nil, nil, false, c.failed("POP3 CAPA", err)
	}
	caps, mechs = parsePOP3Capa(lines)
	return caps, mechs, true, nil
}

// smtp runs the SMTP part of Check: greeting, EHLO, STARTTLS and EHLO
// again (RFC 3207 §4.2: the client discards what it learnt before TLS).
// Submission on 465 and 587 is verified the same way.
func (c *conversation) smtp() error {
	s := c.res.Server
	if s.Security == autoconfig.SecurityTLS {
		if err := c.startTLS(); err != nil {
			return err
		}
	}
	greeting, err := readSMTPReply(c.lr)
	if err != nil {
		return c.failed("reading the SMTP greeting", err)
	}
	c.res.Greeting = printable(greeting.Text())
	if greeting.Code != 220 {
		return fmt.Errorf("%w: %d %q", ErrRefused, greeting.Code, c.res.Greeting)
	}
	caps, mechs, err := c.smtpEHLO()
	if err != nil {
		return err
	}
	if s.Security == autoconfig.SecuritySTARTTLS {
		if !hasCapability(caps, "STARTTLS") {
			c.notAdvertised("STARTTLS")
		}
		r, err := c.smtpCommand("STARTTLS")
		if err != nil {
			return err
		}
		if r.Code != 220 {
			return c.refusedUpgrade("STARTTLS", fmt.Sprintf("%d %s", r.Code, r.Text()))
		}
		if err := c.upgrade("STARTTLS"); err != nil {
			return err
		}
		if caps, mechs, err = c.smtpEHLO(); err != nil {
			return err
		}
	}
	c.res.Capabilities, c.res.AuthMechanisms = caps, mechs
	c.send("QUIT")
	return nil
}

func (c *conversation) smtpCommand(command string) (smtpReply, error) {
	step := "SMTP " + command
	if err := c.send(command); err != nil {
		return smtpReply{}, c.failed(step, err)
	}
	r, err := readSMTPReply(c.lr)
	if err != nil {
		return r, c.failed(step, err)
	}
	return r, nil
}

// smtpEHLO greets with EHLO. A server that refuses EHLO shows no
// extensions, so neither STARTTLS nor AUTH: HELO would tell us nothing.
func (c *conversation) smtpEHLO() (caps, mechs []string, err error) {
	r, err := c.smtpCommand("EHLO " + c.opts.clientName())
	if err != nil {
		return nil, nil, err
	}
	if r.Code != 250 {
		return nil, nil, fmt.Errorf("%w: EHLO answered %d %q", ErrRefused, r.Code, printable(r.Text()))
	}
	caps, mechs = parseEHLO(r.Lines)
	return caps, mechs, nil
}
