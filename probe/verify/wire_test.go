package verify

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func TestParseIMAPResponse(t *testing.T) {
	cases := []struct {
		line string
		want imapResponse
	}{
		{"* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.", imapResponse{Tag: "*", Kind: "OK", Code: "CAPABILITY", CodeArgs: "IMAP4rev1 STARTTLS", Text: "Dovecot ready."}},
		{"A1 no [AUTHENTICATIONFAILED] Authentication failed.", imapResponse{Tag: "A1", Kind: "NO", Code: "AUTHENTICATIONFAILED", Text: "Authentication failed."}},
		{"* CAPABILITY IMAP4rev1 AUTH=PLAIN", imapResponse{Tag: "*", Kind: "CAPABILITY", Text: "IMAP4rev1 AUTH=PLAIN"}},
		{"A2 OK", imapResponse{Tag: "A2", Kind: "OK"}},
		{"+ go ahead", imapResponse{Tag: "+", Text: "go ahead"}},
	}
	for _, tc := range cases {
		got, err := parseIMAPResponse(tc.line)
		if err != nil || got != tc.want {
			t.Errorf("parseIMAPResponse(%q) = %+v, %v; want %+v", tc.line, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", " OK", "*", "A1 OK [ALERT unterminated"} {
		if _, err := parseIMAPResponse(bad); !errors.Is(err, ErrProtocol) {
			t.Errorf("parseIMAPResponse(%q) err = %v, want ErrProtocol", bad, err)
		}
	}
}

func TestCapabilities(t *testing.T) {
	caps := parseIMAPCapabilities("IMAP4rev1 SASL-IR auth=PLAIN AUTH=XOAUTH2 LOGINDISABLED auth=plain")
	if got := imapAuthMechanisms(caps); !slices.Equal(got, []string{"PLAIN", "XOAUTH2"}) {
		t.Errorf("imapAuthMechanisms = %q", got)
	}
	if !hasCapability(caps, "logindisabled") || hasCapability(caps, "STARTTLS") {
		t.Errorf("hasCapability wrong for %q", caps)
	}
	if n := len(parseIMAPCapabilities(strings.Repeat("X ", 10000))); n != maxCapabilities {
		t.Errorf("kept %d capabilities, want the bound %d", n, maxCapabilities)
	}

	caps, mechs := parseEHLO([]string{"smtp.example.test greets you", "PIPELINING", "SIZE 35882577", "auth login PLAIN", "AUTH=LOGIN", "STARTTLS"})
	if !slices.Equal(caps, []string{"PIPELINING", "SIZE 35882577", "AUTH login PLAIN", "AUTH LOGIN", "STARTTLS"}) {
		t.Errorf("parseEHLO caps = %q", caps)
	}
	if !slices.Equal(mechs, []string{"LOGIN", "PLAIN"}) {
		t.Errorf("parseEHLO mechs = %q", mechs)
	}

	caps, mechs = parsePOP3Capa([]string{"TOP", "USER", "SASL PLAIN LOGIN", "STLS", "IMPLEMENTATION Dovecot"})
	if !hasCapability(caps, "STLS") || !slices.Equal(mechs, []string{"USER", "PLAIN", "LOGIN"}) {
		t.Errorf("parsePOP3Capa = %q, %q", caps, mechs)
	}
}

func TestSMTPReply(t *testing.T) {
	lr := newLineReader(strings.NewReader("250-first\r\n250-SIZE 10\r\n250 AUTH PLAIN\r\n"), maxSession)
	r, err := readSMTPReply(lr)
	if err != nil || r.Code != 250 || !slices.Equal(r.Lines, []string{"first", "SIZE 10", "AUTH PLAIN"}) {
		t.Fatalf("readSMTPReply = %+v, %v", r, err)
	}
	for _, bad := range []string{"250-a\r\n251 b\r\n", "25\r\n", "abc hi\r\n", "250_x\r\n", "+250 x\r\n", "999 x\r\n"} {
		if _, err := readSMTPReply(newLineReader(strings.NewReader(bad), maxSession)); !errors.Is(err, ErrProtocol) {
			t.Errorf("readSMTPReply(%q) err = %v, want ErrProtocol", bad, err)
		}
	}
}

func TestLineReaderBounds(t *testing.T) {
	long := strings.Repeat("x", maxLine+1) + "\r\n"
	if _, err := newLineReader(strings.NewReader(long), maxSession).readLine(); !errors.Is(err, ErrTooLong) {
		t.Errorf("long line: err = %v, want ErrTooLong", err)
	}
	many := strings.Repeat("+OK fine\r\n", maxSession/10+1)
	lr := newLineReader(strings.NewReader(many), maxSession)
	var err error
	for err == nil {
		_, err = lr.readLine()
	}
	if !errors.Is(err, ErrTooLong) {
		t.Errorf("endless lines: err = %v, want ErrTooLong", err)
	}
	if _, err := newLineReader(strings.NewReader("+OK no end"), maxSession).readLine(); !errors.Is(err, ErrProtocol) {
		t.Errorf("cut line: err = %v, want ErrProtocol", err)
	}
}

func TestPrintable(t *testing.T) {
	if got := printable("ok\x1b[31mred\xff "); got != "ok?[31mred?" {
		t.Errorf("printable = %q", got)
	}
	if got := printable(strings.Repeat("a", 2*maxText)); len(got) != maxText {
		t.Errorf("printable kept %d bytes", len(got))
	}
}

func TestPOP3Multiline(t *testing.T) {
	lines, err := readPOP3Multiline(newLineReader(strings.NewReader("USER\r\n..dot\r\n.\r\n"), maxSession))
	if err != nil || !slices.Equal(lines, []string{"USER", ".dot"}) {
		t.Errorf("readPOP3Multiline = %q, %v", lines, err)
	}
}

func TestClassify(t *testing.T) {
	imapCases := []struct {
		code imap.ResponseCode
		text string
		want Kind
	}{
		{imap.ResponseCodeAuthenticationFailed, "Invalid credentials (Failure)", KindWrongPassword},
		{imap.ResponseCodeAlert, "Application-specific password required: https://support.google.com/accounts/answer/185833 (Failure)", KindAppPasswordRequired},
		{imap.ResponseCodeAlert, "Please log in via your web browser: https://support.google.com/mail/accounts/answer/78754 (Failure)", KindWebLoginRequired},
		{"WEBALERT", "Sign in to continue.", KindWebLoginRequired},
		{"", "AUTHENTICATE failed.", KindUnknown},
		{imap.ResponseCodeUnavailable, "Authentication failed, try later", KindUnknown},
	}
	for _, tc := range imapCases {
		if got, fix := classifyIMAP(tc.code, tc.text); got != tc.want || fix == "" {
			t.Errorf("classifyIMAP(%s, %q) = %s, %q; want %s", tc.code, tc.text, got, fix, tc.want)
		}
	}
	smtpCases := []struct {
		code int
		enh  [3]int
		text string
		want Kind
	}{
		{535, [3]int{5, 7, 8}, "Username and Password not accepted.", KindWrongPassword},
		{535, [3]int{}, "Error: authentication failed", KindWrongPassword},
		{534, [3]int{5, 7, 9}, "Application-specific password required.", KindAppPasswordRequired},
		{534, [3]int{5, 7, 9}, "Authentication mechanism is too weak", KindUnknown},
		{534, [3]int{5, 7, 14}, "Please log in with your web browser and then try again.", KindWebLoginRequired},
		{535, [3]int{5, 7, 139}, "Authentication unsuccessful, basic authentication is disabled.", KindOAuthOnly},
		{454, [3]int{4, 7, 0}, "Temporary authentication failed", KindUnknown},
	}
	for _, tc := range smtpCases {
		if got, _ := classifySMTP(tc.code, tc.enh, tc.text); got != tc.want {
			t.Errorf("classifySMTP(%d %v %q) = %s, want %s", tc.code, tc.enh, tc.text, got, tc.want)
		}
	}
	pop3Cases := []struct {
		text string
		want Kind
	}{
		{"[AUTH] Authentication failed.", KindWrongPassword},
		{"[AUTH] Application-specific password required", KindAppPasswordRequired},
		{"[IN-USE] Mailbox locked", KindUnknown},
		{"[SYS/TEMP] Authentication failed, try later", KindUnknown},
		{"invalid password", KindWrongPassword},
	}
	for _, tc := range pop3Cases {
		if got, fix := classifyPOP3(tc.text); got != tc.want || fix == "" {
			t.Errorf("classifyPOP3(%q) = %s, want %s", tc.text, got, tc.want)
		}
	}
	if _, fix := classifyPOP3("[IN-USE] Mailbox locked"); !strings.Contains(fix, "Another program") {
		t.Errorf("IN-USE fix = %q", fix)
	}
}
