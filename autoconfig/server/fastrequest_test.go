package server

import (
	"bytes"
	"testing"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// FuzzAutodiscoverRequestFast is a differential test: whenever the fast
// reader accepts a body, the full reader must accept it with the same result.
func FuzzAutodiscoverRequestFast(f *testing.F) {
	var outlook bytes.Buffer
	autoconfig.NewAutodiscoverRequest("alice@example.test").WriteTo(&outlook)
	for _, seed := range []string{
		outlook.String(),
		"<Autodiscover><Request><EMailAddress> a@b.test </EMailAddress></Request></Autodiscover>",
		"<Autodiscover xmlns='x'>\r\n<Request><EMailAddress>a\r\n@b</EMailAddress><AcceptableResponseSchema/></Request></Autodiscover>",
		"<Autodiscover><Request><EMailAddress>a<x/>b@c.test</EMailAddress></Request><Request><EMailAddress>z</EMailAddress></Request></Autodiscover>",
		"<Autodiscover><Request><EMailAddress/><EMailAddress>a@b</EMailAddress></Request></Autodiscover>",
		"<Autodiscover><Request><EMailAddress>a@b</EMailAddress></Request></Autodiscover><x/>",
		"<Autodiscover><Request><EMailAddress>a@b</EMailAddress></Request></Autodiscover >",
		"<Autodiscover a=\"1\"b=\"2\"><Request><EMailAddress>a@b</EMailAddress></Request></Autodiscover>",
		"<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover><Request><EMailAddress>a@b</EMailAddress></Request></Autodiscover>",
		"<Autodiscover><Request><EMailAddress>a@b</EMailAddress></Request></Autodiscover",
		"<Autodiscover><Request><Other><EMailAddress>x</EMailAddress></Other><EMailAddress>a@b</EMailAddress></Request></Autodiscover>",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		email, schema, ok := readAutodiscoverRequestFast(body)
		if !ok {
			return
		}
		req, err := autoconfig.ReadAutodiscoverRequest(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("fast reader accepted what the full reader refuses (%v):\n%q", err, body)
		}
		if req.EMailAddress != email || req.AcceptableResponseSchema != schema {
			t.Fatalf("fast reader read %q %q, full reader %q %q:\n%q", email, schema, req.EMailAddress, req.AcceptableResponseSchema, body)
		}
	})
}

func TestAutodiscoverRequestFastTakesOutlook(t *testing.T) {
	var outlook bytes.Buffer
	autoconfig.NewAutodiscoverRequest("alice@example.test").WriteTo(&outlook)
	email, schema, ok := readAutodiscoverRequestFast(outlook.Bytes())
	if !ok || email != "alice@example.test" || schema != autoconfig.AutodiscoverOutlookSchema {
		t.Fatalf("%q %q %v", email, schema, ok)
	}
}

func BenchmarkReadAutodiscoverRequest(b *testing.B) {
	var outlook bytes.Buffer
	autoconfig.NewAutodiscoverRequest("alice@example.test").WriteTo(&outlook)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			readAutodiscoverRequestFast(outlook.Bytes())
		}
	})
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			autoconfig.ReadAutodiscoverRequest(bytes.NewReader(outlook.Bytes()))
		}
	})
}
