package autoconfig

import (
	"errors"
	"fmt"
	"net/netip"
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

// ParseAddress parses "local@domain". The local part may be UTF-8 (RFC 6531)
// and must be a dot-atom (RFC 5322 §3.4.1: no leading, trailing or doubled
// dot; quoted local parts are not supported) of at most 64 octets
// (RFC 5321 §4.5.3.1.1); the domain may be given in either IDN form and must
// be a domain name, not an IP address or an address literal. Control
// characters and DEL are refused anywhere: they would end up in file names
// and in the files written for the address.
func ParseAddress(s string) (Address, error) {
	s = strings.TrimSpace(s)
	bad := func(format string, args ...any) (Address, error) {
		return Address{}, fmt.Errorf("%w: %q: %s", ErrBadAddress, s, fmt.Sprintf(format, args...))
	}
	if i := strings.IndexFunc(s, isControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(s[i:])
		return bad("it holds the control character %U; type the address again, without it", r)
	}
	if !utf8.ValidString(s) {
		return bad("it is not valid text; type the address again")
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return bad("write it as name@example.com")
	}
	local, domain := s[:at], s[at+1:]
	switch {
	case len(local) > 64:
		return bad("the part before @ is %d characters long; an address allows at most 64", len(local))
	case strings.ContainsAny(local, " \t<>\"(),:;[]\\@"):
		return bad("the part before @ has characters an address cannot have (spaces, quotes, brackets, a second @)")
	case strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, ".."):
		return bad("the part before @ cannot begin or end with a dot or have two dots in a row")
	case isIPDomain(domain):
		return bad("the part after @ is an IP address; mail setup needs the provider's domain name, such as example.com")
	}
	d, err := ParseDomain(domain)
	if err != nil {
		return Address{}, fmt.Errorf("%w: %q: %v", ErrBadAddress, s, err)
	}
	return Address{LocalPart: local, Domain: d.ASCII, DomainUnicode: d.Unicode}, nil
}

// isIPDomain reports an address literal ("[127.0.0.1]", RFC 5321 §4.1.3)
// or a bare IP address where a domain belongs.
func isIPDomain(d string) bool {
	d = strings.TrimSuffix(d, ".")
	if strings.HasPrefix(d, "[") {
		return true
	}
	_, err := netip.ParseAddr(d)
	return err == nil
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
	switch {
	case s == "":
		return Domain{}, errors.New("the domain is empty")
	case strings.IndexFunc(s, isControl) >= 0:
		return Domain{}, fmt.Errorf("domain %q holds a control character; type it again, without it", s)
	case isIPDomain(s):
		return Domain{}, fmt.Errorf("%q is an IP address; give a domain name, such as example.com", s)
	case len(s) > maxHostname && isASCII(s):
		return Domain{}, fmt.Errorf("domain %q is %d characters long; a domain has at most %d", s, len(s), maxHostname)
	}
	ascii, err := idnaProfile.ToASCII(s)
	if err != nil {
		return Domain{}, fmt.Errorf("domain %q is not a valid name: %s", s, idnaWords(s))
	}
	ascii = strings.ToLower(ascii)
	if len(ascii) > maxHostname {
		return Domain{}, fmt.Errorf("domain %q is %d characters long written in ASCII; a domain has at most %d", s, len(ascii), maxHostname)
	}
	if !strings.Contains(ascii, ".") {
		return Domain{}, fmt.Errorf("domain %q is not a full domain name such as example.com", s)
	}
	for _, label := range strings.Split(ascii, ".") {
		if label == "" || len(label) > maxLabel {
			return Domain{}, fmt.Errorf("domain %q has an empty part or a part longer than %d characters", s, maxLabel)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return Domain{}, fmt.Errorf("domain %q has the character %q, which a domain name cannot have", s, r)
			}
		}
	}
	uni, err := idnaProfile.ToUnicode(ascii)
	if err != nil {
		uni = ascii
	}
	return Domain{ASCII: ascii, Unicode: uni}, nil
}
