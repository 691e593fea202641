package verify

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/internal/testnet"
	"github.com/mailsetup/mailsetup/probe/netx"
)

func FuzzIMAPResponse(f *testing.F) {
	for _, s := range []string{
		"* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready",
		"A1 NO [AUTHENTICATIONFAILED] Authentication failed.",
		"* CAPABILITY IMAP4rev1 LOGINDISABLED",
		"+ ", "* BYE", "A1 OK [", "* OK []", "*  OK", "\x00 \xff [",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		r, err := parseIMAPResponse(line)
		if err != nil {
			return
		}
		if r.Tag == "" {
			t.Fatalf("parsed %q without a tag", line)
		}
		caps := parseIMAPCapabilities(r.Text + " " + r.CodeArgs)
		if len(caps) > maxCapabilities {
			t.Fatalf("%d capabilities kept", len(caps))
		}
		imapAuthMechanisms(caps)
	})
}

func FuzzSMTPReply(f *testing.F) {
	for _, s := range []string{
		"250-smtp.example.test\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n",
		"220 ready\r\n", "250-a\r\n251 b\r\n", "250\r\n", "25", "250-AUTH=PLAIN\r\n250 auth\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		lr := newLineReader(strings.NewReader(input), maxSession)
		r, err := readSMTPReply(lr)
		if err != nil {
			return
		}
		if r.Code < 200 || r.Code > 599 || len(r.Lines) > maxCapabilities {
			t.Fatalf("reply %+v from %q", r, input)
		}
		caps, mechs := parseEHLO(r.Lines)
		if len(caps) > maxCapabilities {
			t.Fatalf("%d capabilities kept", len(caps))
		}
		for _, m := range mechs {
			if m == "" || m != strings.ToUpper(m) {
				t.Fatalf("mechanism %q", m)
			}
		}
	})
}

func FuzzPOP3(f *testing.F) {
	for _, s := range []string{
		"+OK\r\nUSER\r\nSASL PLAIN LOGIN\r\nSTLS\r\n.\r\n", "-ERR [AUTH] no\r\n", "+OK\r\n..x\r\n", "+OKX\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		lr := newLineReader(strings.NewReader(input), maxSession)
		line, err := lr.readLine()
		if err != nil {
			return
		}
		if ok, _, err := parsePOP3Status(line); err != nil || !ok {
			return
		}
		lines, err := readPOP3Multiline(lr)
		if err != nil {
			return
		}
		caps, _ := parsePOP3Capa(lines)
		if len(caps) > maxCapabilities {
			t.Fatalf("%d capabilities kept", len(caps))
		}
	})
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"[AUTH] Authentication failed.", "Application-specific password required", "[SYS/TEMP", "[", "]"} {
		f.Add(s, 535, 5, 7, 8)
	}
	f.Fuzz(func(t *testing.T, text string, code, a, b, c int) {
		kinds := []Kind{}
		k, fix := classifyIMAP(imap.ResponseCode(text), text)
		kinds = append(kinds, k)
		if fix == "" {
			t.Fatal("no fix")
		}
		k, fix = classifySMTP(code, [3]int{a, b, c}, text)
		kinds = append(kinds, k)
		if fix == "" {
			t.Fatal("no fix")
		}
		k, fix = classifyPOP3(text)
		kinds = append(kinds, k)
		if fix == "" {
			t.Fatal("no fix")
		}
		for _, k := range kinds {
			switch k {
			case KindWrongPassword, KindAppPasswordRequired, KindWebLoginRequired, KindOAuthOnly, KindUnknown:
			default:
				t.Fatalf("kind %q", k)
			}
		}
	})
}

// scripted connects every dial to a peer that writes script and then
// closes, reading and discarding whatever the client sends.
func scripted(script []byte) *testnet.Dialer {
	d := &testnet.Dialer{}
	d.Script("*", script)
	return d
}

// FuzzConversation plays arbitrary server bytes to a whole plaintext
// Check of each protocol: it must end, with or without an error, and
// never panic or keep more than its bounds.
func FuzzConversation(f *testing.F) {
	for _, s := range []string{
		"* OK [CAPABILITY IMAP4rev1 LOGINDISABLED] hi\r\nA1 OK done\r\n",
		"* OK hi\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\nA1 OK\r\n",
		"+OK hi\r\n+OK\r\nUSER\r\n.\r\n",
		"220 hi\r\n250-x\r\n250 AUTH PLAIN\r\n",
		"220-a\r\n220 b\r\n250 x\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		opts := Options{Env: netx.Env{Dialer: scripted(script)}, Timeout: time.Second}
		for _, p := range []autoconfig.Protocol{autoconfig.IMAP, autoconfig.POP3, autoconfig.SMTP} {
			res := Check(context.Background(), opts, autoconfig.Server{Protocol: p, Hostname: "127.0.0.1", Port: 1, Security: autoconfig.SecurityPlain})
			if len(res.Capabilities) > maxCapabilities || len(res.Greeting) > maxText {
				t.Fatalf("%s: %d capabilities, greeting of %d bytes", p, len(res.Capabilities), len(res.Greeting))
			}
			if ok, _ := res.PasswordSafe(opts); ok {
				t.Fatalf("%s: plaintext judged safe without AllowPlaintext", p)
			}
		}
	})
}
