package autoconfig

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// ErrBadAddress is returned (wrapped) for anything that is not a usable
// e-mail address.
var ErrBadAddress = errors.New("autoconfig: not an e-mail address")

// Address is an e-mail address split for configuration work. The domain is
// kept twice: ASCII (A-label) for DNS and URLs, Unicode (U-label) for people.
type Address struct {
	LocalPart string
	// Domain is lower case and in A-label form ("xn--bcher-kva.test").
	Domain string
	// DomainUnicode is lower case and in U-label form ("bücher.test").
	DomainUnicode string
}

// idnaProfile follows IDNA2008 lookup rules (UTS #46 mapping), as browsers and
// mail clients do, so "Bücher.TEST" and "xn--bcher-kva.test" name one domain.
var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.Transitional(false))

// ParseAddress parses "local@domain". The local part may be UTF-8 (RFC 6531);
// the domain may be given in either IDN form.
func ParseAddress(s string) (Address, error) {
	s = strings.TrimSpace(s)
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return Address{}, fmt.Errorf("%w: %q: write it as name@example.com", ErrBadAddress, s)
	}
	local := s[:at]
	if len(local) > 64 || !utf8.ValidString(local) || strings.ContainsAny(local, " \t\r\n<>\"(),:;[]\\@") {
		return Address{}, fmt.Errorf("%w: %q: the part before @ has characters an address cannot have", ErrBadAddress, s)
	}
	d, err := ParseDomain(s[at+1:])
	if err != nil {
		return Address{}, fmt.Errorf("%w: %q: %v", ErrBadAddress, s, err)
	}
	return Address{LocalPart: local, Domain: d.ASCII, DomainUnicode: d.Unicode}, nil
}

// String is the address for people: the domain in Unicode.
func (a Address) String() string { return a.LocalPart + "@" + a.DomainUnicode }

// ASCII is the address with the domain in A-label form, for protocols and URLs.
func (a Address) ASCII() string { return a.LocalPart + "@" + a.Domain }

// Domain is a domain name in both of its IDN forms.
type Domain struct {
	ASCII   string
	Unicode string
}

// ParseDomain validates a domain name and returns both forms, lower case,
// without a trailing dot.
func ParseDomain(s string) (Domain, error) {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if s == "" {
		return Domain{}, errors.New("the domain is empty")
	}
	ascii, err := idnaProfile.ToASCII(s)
	if err != nil {
		// The idna error names its package and a code point; people get
		// what to do instead.
		return Domain{}, fmt.Errorf("domain %q has characters a domain name cannot have (spaces, symbols, misplaced hyphens)", s)
	}
	ascii = strings.ToLower(ascii)
	if len(ascii) > 253 || !strings.Contains(ascii, ".") {
		return Domain{}, fmt.Errorf("domain %q is not a full domain name such as example.com", s)
	}
	for _, label := range strings.Split(ascii, ".") {
		if label == "" || len(label) > 63 {
			return Domain{}, fmt.Errorf("domain %q has an empty or over-long label", s)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return Domain{}, fmt.Errorf("domain %q has the character %q, which a host name cannot have", s, r)
			}
		}
	}
	uni, err := idnaProfile.ToUnicode(ascii)
	if err != nil {
		uni = ascii
	}
	return Domain{ASCII: ascii, Unicode: uni}, nil
}
