package autoconfig

import (
	"errors"
	"strings"
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

// Issue 13: each refusal says its own reason, in words for people.
func TestParseAddressReasons(t *testing.T) {
	for in, want := range map[string]string{
		"al\x01ice@example.test":                      "control character U+0001",
		"alice\x7f@example.test":                      "control character U+007F",
		strings.Repeat("a", 65) + "@example.test":     "at most 64",
		"alice@" + strings.Repeat("a.", 127) + "test": "at most 253",
		".alice@example.test":                         "dot",
		"alice.@example.test":                         "dot",
		"al..ice@example.test":                        "two dots in a row",
		"alice@[127.0.0.1]":                           "IP address",
		"alice@127.0.0.1":                             "IP address",
		"alice@[IPv6:::1]":                            "IP address",
		"alice@ex\ufffdample.test":                    "cannot be part of a domain name",
		"alice@-bad-.test":                            "hyphen",
		"jane@exa mple.test":                          "the character ' ' cannot be part of a domain name",
	} {
		_, err := ParseAddress(in)
		if !errors.Is(err, ErrBadAddress) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseAddress(%q) = %v, want a reason with %q", in, err, want)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, "idna") || strings.Contains(msg, "characters an address cannot have") {
			t.Errorf("ParseAddress(%q) = %q: not the reason in words", in, msg)
		}
	}
	if _, err := ParseAddress(strings.Repeat("a", 64) + "@example.test"); err != nil {
		t.Errorf("a 64-octet local part: %v", err)
	}
}
