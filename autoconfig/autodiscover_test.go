package autoconfig

import (
	"bytes"
	"strings"
	"testing"
)

func exampleProvider(t *testing.T) *Provider {
	t.Helper()
	p, _, err := ReadConfig(bytes.NewReader(readFile(t, "../examples/example.test.xml")))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAutodiscoverResponseGolden(t *testing.T) {
	addr, _ := ParseAddress("jane@example.test")
	var buf bytes.Buffer
	if _, err := NewAutodiscoverResponse(exampleProvider(t), addr).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "example.test.autodiscover", buf.Bytes())
}

// What we write reads back to the settings we started from.
func TestAutodiscoverRoundTrip(t *testing.T) {
	p := exampleProvider(t)
	p.Incoming[0].Security = SecuritySTARTTLS
	p.Incoming[0].Port = 143
	addr, _ := ParseAddress("jane@example.test")
	var buf bytes.Buffer
	if _, err := NewAutodiscoverResponse(p, addr).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<Type>POP3</Type>", "<SPA>off</SPA>", "<Encryption>TLS</Encryption>", "<Encryption>SSL</Encryption>"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("response lacks %s:\n%s", want, buf.String())
		}
	}
	resp, err := ReadAutodiscoverResponse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	q, err := resp.Provider("example.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Incoming) != 2 || len(q.Outgoing) != 1 {
		t.Fatalf("read back %d incoming, %d outgoing", len(q.Incoming), len(q.Outgoing))
	}
	for i, want := range []Server{p.Incoming[0], p.Incoming[1], p.Outgoing[0]} {
		got := append(q.Incoming, q.Outgoing...)[i]
		if got.Protocol != want.Protocol || got.Hostname != want.Hostname || got.Port != want.Port ||
			got.Security != want.Security || got.Username != "jane@example.test" || got.PreferredAuth() != AuthPasswordCleartext {
			t.Errorf("entry %d: got %+v, want %+v", i, got, want)
		}
	}
}

func TestAutodiscoverRequestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if _, err := NewAutodiscoverRequest("jane@example.test").WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	req, err := ReadAutodiscoverRequest(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if req.EMailAddress != "jane@example.test" || req.AcceptableResponseSchema != AutodiscoverOutlookSchema {
		t.Errorf("request = %+v", req)
	}
}

func TestAutodiscoverRedirectsAndErrors(t *testing.T) {
	for _, resp := range []*AutodiscoverResponse{
		NewAutodiscoverRedirectAddr("jane@other.test"),
		NewAutodiscoverRedirectURL("https://autodiscover.other.test/autodiscover/autodiscover.xml"),
		NewAutodiscoverError(AutodiscoverErrInvalidRequest, "Invalid Request"),
	} {
		var buf bytes.Buffer
		if _, err := resp.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		got, err := ReadAutodiscoverResponse(&buf)
		if err != nil {
			t.Fatalf("%v\n%s", err, buf.String())
		}
		if got.Action != resp.Action || got.RedirectAddr != resp.RedirectAddr || got.RedirectURL != resp.RedirectURL ||
			(resp.Error != nil && (got.Error == nil || *got.Error != *resp.Error)) {
			t.Errorf("read back %+v, wrote %+v", got, resp)
		}
	}
}

// SSL on without Encryption means STARTTLS on the STARTTLS ports, as
// Thunderbird reads it; Encryption, when present, wins.
func TestAutodiscoverSecurityRules(t *testing.T) {
	cases := []struct {
		p    AutodiscoverProtocol
		want Security
	}{
		{AutodiscoverProtocol{Port: 143, SSL: true}, SecuritySTARTTLS},
		{AutodiscoverProtocol{Port: 993, SSL: true}, SecurityTLS},
		{AutodiscoverProtocol{Port: 587, SSL: true}, SecuritySTARTTLS},
		{AutodiscoverProtocol{Port: 993, SSL: false}, SecurityPlain},
		{AutodiscoverProtocol{Port: 587, SSL: true, Encryption: "SSL"}, SecurityTLS},
		{AutodiscoverProtocol{Port: 993, SSL: true, Encryption: "TLS"}, SecuritySTARTTLS},
		{AutodiscoverProtocol{Port: 993, SSL: true, Encryption: "None"}, SecurityPlain},
	}
	for _, c := range cases {
		if got := c.p.Security(); got != c.want {
			t.Errorf("%+v: security %s, want %s", c.p, got, c.want)
		}
	}
}

func TestLintAutodiscover(t *testing.T) {
	doc := `<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
<Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"><Account>
<AccountType>email</AccountType><Action>settings</Action>
<Protocol><Type>POP</Type><Server>pop.x.test</Server><Port>995</Port><SSL>on</SSL></Protocol>
</Account></Response></Autodiscover>`
	rep := Lint(strings.NewReader(doc))
	if rep.Kind != KindAutodiscover {
		t.Fatalf("kind = %q", rep.Kind)
	}
	var all []string
	for _, f := range rep.Findings {
		all = append(all, f.String())
	}
	text := strings.Join(all, "\n")
	for _, want := range []string{"write POP3", "SPA on", "no SMTP <Protocol>"} {
		if !strings.Contains(text, want) {
			t.Errorf("findings lack %q:\n%s", want, text)
		}
	}
}
