package verify

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Bounds on what a server may send us. A hostile or broken peer can send an
// endless line or an endless multi-line reply; these bounds, together with
// the connection deadline, make every read finite.
const (
	// maxLine bounds one protocol line. RFC 5321 §4.5.3.1.5 allows 512-byte
	// SMTP reply lines; IMAP capability lines of real servers stay under
	// 2 KiB. 8 KiB leaves room for verbose servers.
	maxLine = 8 << 10
	// maxSession bounds everything read in one conversation before the
	// password step: greeting, capabilities and STARTTLS replies.
	maxSession = 64 << 10
	// maxCapabilities bounds how many capabilities we keep from one server.
	maxCapabilities = 128
	// maxText bounds server text kept in a Result (greeting, refusals).
	maxText = 512
)

// lineReader reads CRLF-terminated protocol lines, no longer than maxLine
// each and no more than budget bytes in total.
type lineReader struct {
	br     *bufio.Reader
	budget int
}

func newLineReader(r io.Reader, budget int) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, maxLine), budget: budget}
}

// readLine returns the next line without its line ending.
func (lr *lineReader) readLine() (string, error) {
	b, err := lr.br.ReadSlice('\n')
	lr.budget -= len(b)
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", fmt.Errorf("%w: a line longer than %d bytes", ErrTooLong, maxLine)
	case err == io.EOF && len(b) > 0:
		return "", fmt.Errorf("%w: connection closed in the middle of a line", ErrProtocol)
	case err != nil:
		return "", err
	case lr.budget < 0:
		return "", fmt.Errorf("%w: more than %d bytes before login", ErrTooLong, maxSession)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// buffered reports how many bytes the peer sent that we have not read yet.
// After a STARTTLS go-ahead it must be zero: bytes sent before the TLS
// handshake but read after it would be injected plaintext (CVE-2011-0411).
func (lr *lineReader) buffered() int { return lr.br.Buffered() }

// printable makes server text safe to show and store: control and non-ASCII
// bytes become '?', and the text is cut to maxText bytes.
func printable(s string) string {
	if len(s) > maxText {
		s = s[:maxText]
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return strings.TrimSpace(string(b))
}

// imapResponse is one parsed IMAP response line (RFC 9051 §7.1): a status
// response "TAG OK [CODE args] text", an untagged "* CAPABILITY ..." or a
// continuation "+ ...".
type imapResponse struct {
	Tag      string // "*" for untagged, "+" for a continuation request
	Kind     string // OK, NO, BAD, PREAUTH, BYE, or a data name (CAPABILITY)
	Code     string // response code atom, upper case ("" when none)
	CodeArgs string // the rest of the bracketed code
	Text     string // human-readable text
}

// parseIMAPResponse parses one IMAP response line leniently: it needs a tag
// and a status or data name, and tolerates missing text.
func parseIMAPResponse(line string) (imapResponse, error) {
	var r imapResponse
	tag, rest, _ := strings.Cut(line, " ")
	if tag == "" {
		return r, fmt.Errorf("%w: IMAP response without a tag: %q", ErrProtocol, printable(line))
	}
	r.Tag = tag
	if tag == "+" {
		r.Text = rest
		return r, nil
	}
	kind, rest, _ := strings.Cut(rest, " ")
	if kind == "" {
		return r, fmt.Errorf("%w: IMAP response without a status: %q", ErrProtocol, printable(line))
	}
	r.Kind = strings.ToUpper(kind)
	switch r.Kind {
	case "OK", "NO", "BAD", "PREAUTH", "BYE":
	default:
		// Untagged data such as "* CAPABILITY IMAP4rev1 STARTTLS":
		// the rest is its payload.
		r.Text = rest
		return r, nil
	}
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return r, fmt.Errorf("%w: unterminated IMAP response code: %q", ErrProtocol, printable(line))
		}
		code, args, _ := strings.Cut(rest[1:end], " ")
		r.Code, r.CodeArgs = strings.ToUpper(code), args
		rest = strings.TrimPrefix(rest[end+1:], " ")
	}
	r.Text = rest
	return r, nil
}

// parseIMAPCapabilities splits a capability list (RFC 9051 §7.2.2) into its
// atoms, upper-cased because capability names are case-insensitive.
func parseIMAPCapabilities(s string) []string {
	var caps []string
	for _, f := range strings.Fields(s) {
		if len(caps) == maxCapabilities {
			break
		}
		caps = append(caps, strings.ToUpper(printable(f)))
	}
	return caps
}

// imapAuthMechanisms picks the SASL mechanisms out of IMAP capabilities
// ("AUTH=PLAIN" -> "PLAIN").
func imapAuthMechanisms(caps []string) []string {
	var mechs []string
	for _, c := range caps {
		if m, ok := strings.CutPrefix(c, "AUTH="); ok && m != "" {
			mechs = appendUnique(mechs, m)
		}
	}
	return mechs
}

// smtpReply is one complete SMTP reply (RFC 5321 §4.2), possibly multi-line.
type smtpReply struct {
	Code  int
	Lines []string // text of each line, without code and separator
}

// Text joins the reply's lines for people.
func (r smtpReply) Text() string { return strings.Join(r.Lines, " ") }

// parseSMTPLine parses "250-text" or "250 text"; more is true for a '-'.
func parseSMTPLine(line string) (code int, more bool, text string, err error) {
	if len(line) < 3 {
		return 0, false, "", fmt.Errorf("%w: SMTP reply too short: %q", ErrProtocol, printable(line))
	}
	code, convErr := strconv.Atoi(line[:3])
	if convErr != nil || code < 200 || code > 599 || line[0] == '+' {
		return 0, false, "", fmt.Errorf("%w: SMTP reply without a code: %q", ErrProtocol, printable(line))
	}
	if len(line) == 3 {
		return code, false, "", nil
	}
	switch line[3] {
	case ' ':
		return code, false, line[4:], nil
	case '-':
		return code, true, line[4:], nil
	}
	return 0, false, "", fmt.Errorf("%w: SMTP reply with a bad separator: %q", ErrProtocol, printable(line))
}

// readSMTPReply reads one whole reply; every line must carry the same code.
func readSMTPReply(lr *lineReader) (smtpReply, error) {
	var r smtpReply
	for {
		line, err := lr.readLine()
		if err != nil {
			return r, err
		}
		code, more, text, err := parseSMTPLine(line)
		if err != nil {
			return r, err
		}
		if r.Code != 0 && code != r.Code {
			return r, fmt.Errorf("%w: SMTP reply changes its code from %d to %d", ErrProtocol, r.Code, code)
		}
		r.Code = code
		if len(r.Lines) < maxCapabilities {
			r.Lines = append(r.Lines, text)
		}
		if !more {
			return r, nil
		}
	}
}

// parseEHLO turns the lines of a 250 EHLO reply into extension lines (the
// first line is the server's name, RFC 5321 §4.1.1.1) and the SASL
// mechanisms of its AUTH extension (RFC 4954 §3; "AUTH=" is the pre-standard
// spelling some servers still send).
func parseEHLO(lines []string) (caps, mechs []string) {
	for i, l := range lines {
		if i == 0 {
			continue
		}
		l = printable(l)
		if l == "" {
			continue
		}
		keyword, params, _ := strings.Cut(l, " ")
		keyword = strings.ToUpper(keyword)
		if k, p, ok := strings.Cut(keyword, "="); ok && k == "AUTH" {
			keyword, params = k, p+" "+params
		}
		caps = append(caps, strings.TrimSpace(keyword+" "+params))
		if keyword == "AUTH" {
			for _, m := range strings.Fields(params) {
				mechs = appendUnique(mechs, strings.ToUpper(m))
			}
		}
	}
	return caps, mechs
}

// parsePOP3Status parses a POP3 status line (RFC 1939 §3): "+OK text" or
// "-ERR text".
func parsePOP3Status(line string) (ok bool, text string, err error) {
	switch {
	case line == "+OK" || strings.HasPrefix(line, "+OK "):
		return true, strings.TrimPrefix(strings.TrimPrefix(line, "+OK"), " "), nil
	case line == "-ERR" || strings.HasPrefix(line, "-ERR "):
		return false, strings.TrimPrefix(strings.TrimPrefix(line, "-ERR"), " "), nil
	}
	return false, "", fmt.Errorf("%w: POP3 reply is neither +OK nor -ERR: %q", ErrProtocol, printable(line))
}

// readPOP3Multiline reads the body of a multi-line POP3 response up to the
// terminating "." line, undoing dot-stuffing (RFC 1939 §3).
func readPOP3Multiline(lr *lineReader) ([]string, error) {
	var lines []string
	for {
		line, err := lr.readLine()
		if err != nil {
			return nil, err
		}
		if line == "." {
			return lines, nil
		}
		if len(lines) < maxCapabilities {
			lines = append(lines, strings.TrimPrefix(line, "."))
		}
	}
}

// parsePOP3Capa turns CAPA lines (RFC 2449 §5) into capabilities and the
// login methods they allow: the SASL mechanisms, plus "USER" for RFC 1939
// USER/PASS.
func parsePOP3Capa(lines []string) (caps, mechs []string) {
	for _, l := range lines {
		l = printable(l)
		if l == "" {
			continue
		}
		name, params, _ := strings.Cut(l, " ")
		name = strings.ToUpper(name)
		caps = append(caps, strings.TrimSpace(name+" "+params))
		switch name {
		case "SASL":
			for _, m := range strings.Fields(params) {
				mechs = appendUnique(mechs, strings.ToUpper(m))
			}
		case "USER":
			mechs = appendUnique(mechs, "USER")
		}
	}
	return caps, mechs
}

// hasCapability reports whether caps holds name as a whole keyword,
// ignoring letter case and parameters ("SIZE 1000" has "SIZE").
func hasCapability(caps []string, name string) bool {
	for _, c := range caps {
		keyword, _, _ := strings.Cut(c, " ")
		if strings.EqualFold(keyword, name) {
			return true
		}
	}
	return false
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
