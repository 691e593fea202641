package autoconfig

import (
	"errors"
	"testing"
)

func TestParseAddress(t *testing.T) {
	cases := []struct {
		in, local, ascii, unicode string
	}{
		{"jane@example.test", "jane", "example.test", "example.test"},
		{" Jane.Doe@Example.TEST ", "Jane.Doe", "example.test", "example.test"},
		{"jörg@bücher.test", "jörg", "xn--bcher-kva.test", "bücher.test"},
		{"jörg@xn--bcher-kva.test", "jörg", "xn--bcher-kva.test", "bücher.test"},
		{"a+tag@mail.example.test.", "a+tag", "mail.example.test", "mail.example.test"},
	}
	for _, c := range cases {
		a, err := ParseAddress(c.in)
		if err != nil {
			t.Errorf("ParseAddress(%q): %v", c.in, err)
			continue
		}
		if a.LocalPart != c.local || a.Domain != c.ascii || a.DomainUnicode != c.unicode {
			t.Errorf("ParseAddress(%q) = %+v", c.in, a)
		}
	}
}

func TestParseAddressRejects(t *testing.T) {
	for _, in := range []string{"", "jane", "@example.test", "jane@", "a@b", "alice@@demo.test",
		"x@evil.test@example.test", "jane doe@example.test", "jane@exa mple.test", "jane@-.test\n"} {
		if _, err := ParseAddress(in); !errors.Is(err, ErrBadAddress) {
			t.Errorf("ParseAddress(%q) = %v, want ErrBadAddress", in, err)
		}
	}
}

func TestExpandTemplate(t *testing.T) {
	a, _ := ParseAddress("jörg@bücher.test")
	if got := ExpandTemplate("%EMAILLOCALPART%.%EMAILDOMAIN%", a); got != "jörg.xn--bcher-kva.test" {
		t.Errorf("got %q", got)
	}
	if got := ExpandTemplate(PlaceholderAddress, a); got != "jörg@xn--bcher-kva.test" {
		t.Errorf("got %q", got)
	}
	for tmpl, ok := range map[string]bool{"%EMAILADDRESS%": true, "pre-%EMAILLOCALPART%": true, "%EMAILADDRESS": false, "%EMAIL%": false, "100%": false} {
		if err := CheckTemplate(tmpl); (err == nil) != ok {
			t.Errorf("CheckTemplate(%q) = %v", tmpl, err)
		}
	}
}
