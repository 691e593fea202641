package autoconfig

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// golden compares got with testdata/NAME.golden, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want := readFile(t, path)
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestReadExample(t *testing.T) {
	p, diags, err := ReadConfig(bytes.NewReader(readFile(t, "../examples/example.test.xml")))
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) != 0 {
		t.Errorf("diagnostics on a clean file: %v", diags)
	}
	imap, _ := p.PreferredIncoming()
	if imap.Protocol != IMAP || imap.Hostname != "imap.example.test" || imap.Port != 993 || imap.Security != SecurityTLS {
		t.Errorf("preferred incoming = %+v", imap)
	}
	pop, _ := p.FirstIncoming(POP3)
	if pop.POP3 == nil || !pop.POP3.LeaveMessagesOnServer {
		t.Errorf("POP3 options lost: %+v", pop.POP3)
	}
	if len(p.Outgoing) != 2 || p.Outgoing[1].Security != SecuritySTARTTLS {
		t.Errorf("outgoing = %+v", p.Outgoing)
	}
	addr, _ := ParseAddress("Jane.Doe@Example.TEST")
	if got := imap.ExpandUsername(addr); got != "Jane.Doe@example.test" {
		t.Errorf("username = %q", got)
	}
}

func TestWriteConfigGolden(t *testing.T) {
	p, _, err := ReadConfig(bytes.NewReader(readFile(t, "../examples/example.test.xml")))
	if err != nil {
		t.Fatal(err)
	}
	p.Enable = &Link{URL: "https://example.test/settings?a=1&b=2", Descriptions: []Description{{Lang: "de", Text: "IMAP <einschalten> & los"}}}
	p.OAuth2 = &OAuth2{Issuer: "auth.example.test", Scope: "mail", AuthURL: "https://auth.example.test/a", TokenURL: "https://auth.example.test/t"}
	var buf bytes.Buffer
	if err := WriteConfig(&buf, p); err != nil {
		t.Fatal(err)
	}
	golden(t, "example.test.config", buf.Bytes())
}

// Each broken file is rejected, or has an Error finding, and says where.
func TestBrokenFiles(t *testing.T) {
	cases := map[string]string{
		"missing-hostname.xml":   "no <hostname>",
		"port-out-of-range.xml":  `"99300" is not a number from 1 to 65535`,
		"unknown-sockettype.xml": `"TLS" is not SSL, STARTTLS or plain`,
		"no-incoming.xml":        "no usable IMAP or POP3",
		"wrong-root.xml":         "root element must be <clientConfig>",
		"not-well-formed.xml":    "not well-formed",
		"entity-bomb.xml":        "DOCTYPE is not allowed",
		"broken-placeholder.xml": `broken placeholder "%EMAILADDRESS"`,
		"no-domain.xml":          "no valid <domain>",
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			rep := Lint(bytes.NewReader(readFile(t, filepath.Join("testdata", "bad", file))))
			if !rep.HasErrors() {
				t.Fatalf("no error found: %+v", rep.Findings)
			}
			var all []string
			for _, f := range rep.Findings {
				all = append(all, f.String())
				if f.Severity == Error && f.Line == 0 {
					t.Errorf("error without a line: %s", f)
				}
			}
			if !strings.Contains(strings.Join(all, "\n"), want) {
				t.Errorf("findings do not mention %q:\n%s", want, strings.Join(all, "\n"))
			}
		})
	}
}

func TestReadConfigErrorsAreMalformed(t *testing.T) {
	_, _, err := ReadConfig(strings.NewReader("<clientConfig/>"))
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want a ParseError wrapping ErrMalformed", err)
	}
}

func TestReadConfigBounds(t *testing.T) {
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	if _, _, err := ReadConfig(strings.NewReader(deep)); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("deep document: err = %v", err)
	}
	big := "<clientConfig>" + strings.Repeat(" ", MaxDocumentSize) + "</clientConfig>"
	if _, _, err := ReadConfig(strings.NewReader(big)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big document: err = %v", err)
	}
}

// Thunderbird takes the first supported socketType and skips a server whose
// values are all unknown, keeping the others.
func TestLenientLikeThunderbird(t *testing.T) {
	doc := `<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="x.test"><domain>X.Test</domain>
<unknownThing>ignored</unknownThing>
<incomingServer type="imap"><hostname>a.x.test</hostname><port>143</port><socketType>TLS</socketType>
  <authentication>password-cleartext</authentication><username>%EMAILLOCALPART%</username></incomingServer>
<incomingServer type="imap"><hostname> b.x.test </hostname><port>993</port><socketType>bogus</socketType><socketType>SSL</socketType>
  <authentication>bogus</authentication><authentication>plain</authentication><username>%EMAILLOCALPART%</username></incomingServer>
</emailProvider></clientConfig>`
	p, diags, err := ReadConfig(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Incoming) != 1 || p.Incoming[0].Hostname != "b.x.test" || p.Incoming[0].Security != SecurityTLS {
		t.Fatalf("incoming = %+v", p.Incoming)
	}
	if got := p.Incoming[0].Auth; len(got) != 1 || got[0] != AuthPasswordCleartext {
		t.Errorf("auth = %v, want the legacy alias plain read as password-cleartext", got)
	}
	if p.Domains[0] != "x.test" {
		t.Errorf("domain = %q, want lower case", p.Domains[0])
	}
	if len(diags) < 3 {
		t.Errorf("want findings for the skipped server and the unknown values, got %v", diags)
	}
}

func TestLintWarnings(t *testing.T) {
	doc := `<clientConfig version="1.1"><emailProvider id="w.test"><domain>w.test</domain>
<incomingServer type="pop3"><hostname>pop.w.test</hostname><port>110</port><socketType>plain</socketType>
  <authentication>password-cleartext</authentication><username>%EMAILADDRESS%</username></incomingServer>
<outgoingServer type="smtp"><hostname>smtp.w.test</hostname><port>465</port><socketType>STARTTLS</socketType>
  <authentication>password-cleartext</authentication><username>%EMAILADDRESS%</username></outgoingServer>
<incomingServer type="exchange"><hostname>ex.w.test</hostname></incomingServer>
</emailProvider></clientConfig>`
	rep := Lint(strings.NewReader(doc))
	if rep.HasErrors() {
		t.Fatalf("unexpected error: %v", rep.Findings)
	}
	var text []string
	for _, f := range rep.Findings {
		text = append(text, f.String())
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"clear text over an unencrypted", "POP3 only", "port 465 is for SSL", "exchange server ex.w.test is noted"} {
		if !strings.Contains(all, want) {
			t.Errorf("findings lack %q:\n%s", want, all)
		}
	}
}
