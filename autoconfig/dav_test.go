package autoconfig

import (
	"errors"
	"testing"
)

func TestParseDAVURL(t *testing.T) {
	good := map[string]string{
		"https://dav.example.test/":               "https://dav.example.test/",
		"https://DAV.Example.Test":                "https://dav.example.test/",
		"https://dav.example.test:443/dav/":       "https://dav.example.test/dav/",
		"https://dav.example.test:8443/dav/alice": "https://dav.example.test:8443/dav/alice",
		"http://dav.example.test/":                "http://dav.example.test/",
		"https://bücher.example.test/cal/":        "https://xn--bcher-kva.example.test/cal/",
	}
	for in, want := range good {
		u, err := ParseDAVURL(in)
		if err != nil || u.String() != want {
			t.Errorf("ParseDAVURL(%q) = %q, %v; want %q", in, u.String(), err, want)
		}
	}
	for _, bad := range []string{
		"", "dav.example.test", "ftp://dav.example.test/", "https://user:pw@dav.example.test/",
		"https://dav.example.test/?x=1", "https://dav.example.test/#f", "https://localhost/",
		"https://dav.example.test:0/", "https://dav.example.test:70000/", "https://dav.example.test/\nX: y",
		"https://-bad-.test/",
	} {
		if _, err := ParseDAVURL(bad); err == nil {
			t.Errorf("ParseDAVURL(%q) accepted", bad)
		}
	}
}

func TestValidateDAV(t *testing.T) {
	p := &Provider{ID: "example.test", Domains: []string{"example.test"}, Incoming: []Server{{
		Protocol: IMAP, Hostname: "imap.example.test", Port: 993, Security: SecurityTLS, Auth: []AuthMethod{AuthPasswordCleartext}, Username: PlaceholderAddress,
	}}}
	p.DAV = []DAVService{{Kind: CalDAV, URL: "https://dav.example.test/", Username: PlaceholderAddress}}
	if err := p.Validate(); err != nil {
		t.Fatalf("valid DAV refused: %v", err)
	}
	for _, bad := range []DAVService{
		{Kind: "webdav", URL: "https://dav.example.test/"},
		{Kind: CardDAV, URL: "https://DAV.example.test/"},
		{Kind: CardDAV, URL: "https://dav.example.test/", Username: "a\nb"},
		{Kind: CardDAV, URL: "https://dav.example.test/", Username: "%EMAILADDRESS"},
	} {
		p.DAV = []DAVService{bad}
		if err := p.Validate(); !errors.Is(err, ErrMalformed) {
			t.Errorf("%+v: %v, want ErrMalformed", bad, err)
		}
	}
}
