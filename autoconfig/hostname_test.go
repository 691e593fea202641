package autoconfig

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// badHostnames are the names issue 13 lists, and their kin: each must be
// refused by the model and flagged by lint.
var badHostnames = map[string]string{
	"https://imap.example.test:993":               "web address",
	"imap example.test":                           "space",
	"-bad-.test":                                  "hyphen",
	strings.Repeat("a", 300) + ".test":            "300",
	"localhost":                                   "this computer",
	"mail.localhost":                              "this computer",
	"imap.example.test\nSMTPServer=attacker.test": "line break",
	"imap.example.test:993":                       "port",
	"imap.example.test/mail":                      "path",
	"user@imap.example.test":                      "@",
	"127.0.0.1":                                   "IP address",
	"[::1]":                                       "IP address",
	"imap_1.example.test":                         "'_'",
	"imap..example.test":                          "empty part",
	"imap.example.123":                            "ends in a number",
	strings.Repeat("a.", 127) + "test":            "at most 253",
	"imap.ex\ufffdample.test":                     "cannot be part of a domain name",
	"xn--zz.example.test":                         "not a valid international name",
	"imap.example.test\x00":                       "control",
	"imap.example.test\u2028evil":                 "line break",
	"":                                            "empty",
}

func TestParseHostnameRefuses(t *testing.T) {
	for in, want := range badHostnames {
		h, err := ParseHostname(in)
		if !errors.Is(err, ErrBadHostname) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseHostname(%q) = %q, %v; want ErrBadHostname saying %q", in, h, err, want)
			continue
		}
		if strings.Contains(err.Error(), "idna") || strings.Count(err.Error(), "\n") > 0 {
			t.Errorf("ParseHostname(%q) error is not one line for people: %q", in, err)
		}
	}
}

func TestParseHostnameAccepts(t *testing.T) {
	for in, want := range map[string]string{
		"imap.example.test":               "imap.example.test",
		"IMAP.Example.TEST.":              "imap.example.test",
		"mail.bücher.test":                "mail.xn--bcher-kva.test",
		"mail.xn--bcher-kva.test":         "mail.xn--bcher-kva.test",
		"a-b.c1.example.test":             "a-b.c1.example.test",
		strings.Repeat("a", 63) + ".test": strings.Repeat("a", 63) + ".test",
		// 25 CJK characters: 75 octets in UTF-8, but an A-label of 30.
		strings.Repeat("\u4e2d", 25) + ".test": "xn--",
	} {
		if want == "xn--" {
			if got, err := ParseHostname(in); err != nil || !strings.HasPrefix(got, want) {
				t.Errorf("ParseHostname(%q) = %q, %v", in, got, err)
			}
			continue
		}
		if got, err := ParseHostname(in); err != nil || got != want {
			t.Errorf("ParseHostname(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// configWith is the example config with its IMAP host name replaced.
func configWith(host string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <displayName>Example Mail</displayName>
    <incomingServer type="imap">
      <hostname>` + xmlEscape(host) + `</hostname>
      <port>993</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.test</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
  </emailProvider>
</clientConfig>
`)
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	textEscaper.WriteString(&b, s)
	return b.String()
}

// Every reader refuses a bad host name where it stands, and Lint reports
// it as an error on the <hostname> line.
func TestReadersRefuseBadHostnames(t *testing.T) {
	for in := range badHostnames {
		if in == "" || strings.ContainsRune(in, 0) {
			continue // XML cannot carry NUL; empty is "no hostname"
		}
		p, diags, err := ReadConfig(bytes.NewReader(configWith(in)))
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if len(p.Incoming) != 1 || p.Incoming[0].Protocol != POP3 {
			t.Errorf("%q: incoming = %+v, want the IMAP server skipped", in, p.Incoming)
		}
		if len(diags) != 1 || diags[0].Severity != Error || diags[0].Line != 7 || !strings.Contains(diags[0].Message, "<hostname>") {
			t.Errorf("%q: diagnostics %v", in, diags)
		}
		rep := Lint(bytes.NewReader(configWith(in)))
		if !rep.HasErrors() || rep.Findings[0].Line != 7 {
			t.Errorf("%q: Lint = %+v", in, rep)
		}

		ad := `<Autodiscover><Response><Account><Action>settings</Action>
<Protocol><Type>IMAP</Type><Server>` + xmlEscape(in) + `</Server><Port>993</Port><SSL>on</SSL></Protocol>
</Account></Response></Autodiscover>`
		r, err := ReadAutodiscoverResponse(strings.NewReader(ad))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if _, err := r.Provider("example.test"); !errors.Is(err, ErrBadHostname) {
			t.Errorf("%q: Autodiscover Provider err = %v, want ErrBadHostname", in, err)
		}
		rep = Lint(strings.NewReader(ad))
		if !rep.HasErrors() || rep.Findings[0].Line != 2 || !strings.Contains(rep.Findings[0].Message, "<Server>") {
			t.Errorf("%q: Lint(Autodiscover) = %+v", in, rep)
		}

		// A model built elsewhere (a saved report, the serve YAML).
		prov := &Provider{ID: "example.test", Domains: []string{"example.test"},
			Incoming: []Server{{Protocol: IMAP, Hostname: in, Port: 993, Security: SecurityTLS, Auth: []AuthMethod{AuthPasswordCleartext}}}}
		if err := prov.Validate(); !errors.Is(err, ErrBadHostname) || !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: Validate = %v", in, err)
		}
	}
}

// A display name, username or link text with a line break is refused by
// Validate and left out (with an Error) by the reader: in user.js it
// would turn the next line into an active user_pref.
func TestControlCharactersInTexts(t *testing.T) {
	hostile := "Example\nuser_pref(\"network.proxy.type\", 1);"
	doc := strings.Replace(string(configWith("imap.example.test")), "<displayName>Example Mail</displayName>",
		"<displayName>"+xmlEscape(hostile)+"</displayName>", 1)
	p, diags, err := ReadConfig(strings.NewReader(doc))
	if err != nil || p.DisplayName != "" || len(diags) != 1 || diags[0].Line != 5 || !strings.Contains(diags[0].Message, "<displayName>") {
		t.Fatalf("ReadConfig = %+v, %v, %v", p, diags, err)
	}
	good := func() *Provider {
		return &Provider{ID: "example.test", Domains: []string{"example.test"}, DisplayName: "Example",
			Incoming: []Server{{Protocol: IMAP, Hostname: "imap.example.test", Port: 993, Security: SecurityTLS, Auth: []AuthMethod{AuthPasswordCleartext}, Username: PlaceholderAddress}}}
	}
	if err := good().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, spoil := range map[string]func(p *Provider){
		"display name": func(p *Provider) { p.DisplayName = hostile },
		"short name":   func(p *Provider) { p.DisplayShortName = "a\rb" },
		"username":     func(p *Provider) { p.Incoming[0].Username = "%EMAILADDRESS%\nx" },
		"link":         func(p *Provider) { p.Documentation = []Link{{URL: "https://x.test/\n"}} },
		"link text": func(p *Provider) {
			p.Enable = &Link{URL: "https://x.test/", Descriptions: []Description{{Text: "a\x7fb"}}}
		},
		"domain":        func(p *Provider) { p.Domains = []string{"Example.TEST"} },
		"host template": func(p *Provider) { p.Incoming[0].Hostname = "imap.%EMAILDOMAIN%:993" },
		"host form":     func(p *Provider) { p.Incoming[0].Hostname = "IMAP.bücher.test" },
		"oauth2":        func(p *Provider) { p.OAuth2 = &OAuth2{Issuer: "x.test", Scope: "a\nb"} },
	} {
		p := good()
		spoil(p)
		err := p.Validate()
		if !errors.Is(err, ErrMalformed) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
	if err := CheckOneLine("the name", "Jane\nDoe"); !errors.Is(err, ErrControlCharacter) || !strings.HasPrefix(err.Error(), `the name "Jane\nDoe" holds`) || !strings.Contains(err.Error(), "one line") {
		t.Errorf("CheckOneLine = %v", err)
	}
}

// A config-v1.1 file in ISO-8859-1 is read by its XML declaration.
func TestReadConfigHonoursDeclaredEncoding(t *testing.T) {
	doc := strings.Replace(string(configWith("imap.example.test")), `encoding="UTF-8"`, `encoding="ISO-8859-1"`, 1)
	doc = strings.Replace(doc, "Example Mail", "M\xfcller Mail", 1)
	p, diags, err := ReadConfig(strings.NewReader(doc))
	if err != nil || p.DisplayName != "Müller Mail" || len(diags) != 0 {
		t.Fatalf("ReadConfig = %+v, %v, %v", p, diags, err)
	}
	if rep := Lint(strings.NewReader(doc)); len(rep.Findings) != 1 || rep.Findings[0].Severity != Warning {
		t.Errorf("Lint = %+v, want only the no-SMTP warning", rep)
	}
}

// Lint flags a user's <DisplayName> with a line break on its line, and the
// Autodiscover reader's Provider refuses it.
func TestAutodiscoverDisplayNameWithLineBreak(t *testing.T) {
	ad := `<Autodiscover><Response>
<User><DisplayName>Jane&#10;user_pref("x", 1);</DisplayName></User>
<Account><Action>settings</Action>
<Protocol><Type>IMAP</Type><Server>imap.example.test</Server><Port>993</Port><SSL>on</SSL><SPA>off</SPA></Protocol>
<Protocol><Type>SMTP</Type><Server>smtp.example.test</Server><Port>465</Port><SSL>on</SSL><SPA>off</SPA></Protocol>
</Account></Response></Autodiscover>`
	rep := Lint(strings.NewReader(ad))
	if len(rep.Findings) != 1 || rep.Findings[0].Severity != Error || rep.Findings[0].Line != 2 || !strings.Contains(rep.Findings[0].Message, "<DisplayName>") {
		t.Errorf("Lint = %+v", rep)
	}
	r, err := ReadAutodiscoverResponse(strings.NewReader(ad))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Provider("example.test"); !errors.Is(err, ErrControlCharacter) || !errors.Is(err, ErrMalformed) {
		t.Errorf("Provider err = %v", err)
	}
}
