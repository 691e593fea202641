package autoconfig

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrBadHostname is returned (wrapped) for a server name that is not a
// real host name.
var ErrBadHostname = errors.New("autoconfig: not a host name")

// maxHostname and maxLabel are DNS's limits in octets of the A-label form
// (RFC 1035 §2.3.4; 253 leaves room for the root label and length bytes).
const (
	maxHostname = 253
	maxLabel    = 63
)

// ParseHostname is the one check of a mail server's host name, whatever
// named it: a config-v1.1 or Autodiscover file, an SRV target, a saved
// report, the serve YAML or a batch row. Every value it accepts can be
// written into any client file as it is.
//
// It accepts LDH labels (letters, digits, inner hyphens; RFC 1123 §2.1,
// RFC 5890 §2.3.1) and IDN labels, which it returns in lower-case A-label
// form ("Bücher.TEST" → "xn--bcher-kva.test"), without a trailing dot. It
// refuses anything else with an error that quotes s and says what to write:
// a URL or anything with a scheme, port, path, user or white space; control
// characters; a label over 63 or a name over 253 octets; a name of one
// label, such as "localhost", and names under .localhost (RFC 6761 §6.3);
// IP addresses, which no certificate a mail client trusts names.
func ParseHostname(s string) (string, error) {
	bad := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("%w: %s %s", ErrBadHostname, quoteShort(s), fmt.Sprintf(format, args...))
	}
	switch {
	case s == "":
		return "", fmt.Errorf("%w: the host name is empty; write the server's name, such as imap.example.com", ErrBadHostname)
	case !utf8.ValidString(s):
		return bad("is not valid text; write the server's name, such as imap.example.com")
	case strings.IndexFunc(s, isControl) >= 0:
		return bad("holds a line break or control character; write the server's name alone, on one line")
	case strings.IndexFunc(s, unicode.IsSpace) >= 0:
		return bad("holds a space; write the server's name alone, such as imap.example.com")
	case strings.Contains(s, "://"):
		return bad("is a web address; write only the server's name, such as imap.example.com, and the port apart")
	case strings.ContainsAny(s, "/?#"):
		return bad("has a path; write only the server's name, such as imap.example.com")
	case strings.Contains(s, "@"):
		return bad("holds an @: write the server's name, not an e-mail address")
	}
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return bad("is an IP address; write the server's host name, the name its certificate carries")
	}
	if host, port, ok := strings.Cut(s, ":"); ok {
		return bad("carries a port; write the host name %q alone and the port %q in its own field", host, port)
	}
	name := strings.TrimSuffix(s, ".")
	for _, r := range name {
		if r < utf8.RuneSelf && !(isLDH(byte(r)) || r == '.') {
			return bad("has the character %q, which a host name cannot have; use only letters, digits, hyphens and dots", r)
		}
	}
	for _, l := range strings.Split(name, ".") {
		if msg := labelProblem(l); msg != "" {
			return bad("%s", msg)
		}
	}
	if len(name) > maxHostname && isASCII(name) {
		return bad("is %d characters long; a host name has at most %d", len(name), maxHostname)
	}
	ascii, err := idnaProfile.ToASCII(name)
	if err != nil {
		return bad("is not a valid international name: %s", idnaWords(name))
	}
	ascii = strings.ToLower(ascii)
	labels := strings.Split(ascii, ".")
	for _, l := range labels {
		if msg := labelProblem(l); msg != "" {
			return bad("%s", msg)
		}
	}
	if len(ascii) > maxHostname {
		return bad("is %d characters long; a host name has at most %d", len(ascii), maxHostname)
	}
	tld := labels[len(labels)-1]
	switch {
	case len(labels) == 1 || tld == "localhost":
		return bad("names this computer or a local network, not a mail server on the Internet; write its full name, such as imap.example.com")
	case strings.Trim(tld, "0123456789") == "":
		return bad("ends in a number, so it is no host name; write the server's full name, such as imap.example.com")
	}
	return ascii, nil
}

// quoteShort quotes s with %q, cut after 60 bytes so that a hostile
// value of kilobytes does not flood the one-line message that names it.
func quoteShort(s string) string {
	const keep = 60
	if len(s) <= keep+20 {
		return fmt.Sprintf("%q", s)
	}
	cut := keep
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d characters)", s[:cut], len(s))
}

// labelProblem says what is wrong with one label, or "". Labels with
// non-ASCII letters are judged by IDNA, then again in A-label form.
func labelProblem(l string) string {
	switch {
	case l == "":
		return "has an empty part between dots; write it as imap.example.com"
	case len(l) > maxLabel && isASCII(l): // a U-label is judged by its A-label
		return fmt.Sprintf("has a part of %d characters; each part between dots has at most %d", len(l), maxLabel)
	case l[0] == '-' || l[len(l)-1] == '-':
		return "has a part that begins or ends with a hyphen, which a host name cannot have"
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func isLDH(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

// isControl is true for C0 and C1 control characters, DEL, and the
// Unicode line and paragraph separators: each can end a line in some file
// a mail client reads.
func isControl(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// idnaWords explains, for people, why name is not a valid international
// domain name: the idna package's own errors ("idna: disallowed rune
// U+2603") are written for programmers.
func idnaWords(name string) string {
	for _, label := range strings.Split(name, ".") {
		if _, err := idnaProfile.ToASCII(label); err == nil {
			continue
		}
		if msg := labelProblem(label); msg != "" {
			return fmt.Sprintf("the part %q %s", label, strings.TrimPrefix(msg, "has a part that "))
		}
		for _, r := range label {
			if r < utf8.RuneSelf && !isLDH(byte(r)) && r != '_' {
				return fmt.Sprintf("the character %q cannot be part of a domain name", r)
			}
			if r >= utf8.RuneSelf {
				if _, err := idnaProfile.ToASCII(string(r)); err != nil {
					return fmt.Sprintf("the character %q (%U) cannot be part of a domain name", r, r)
				}
			}
		}
		if strings.HasPrefix(strings.ToLower(label), "xn--") {
			return fmt.Sprintf("the part %q is not a correctly encoded international name; check its spelling", label)
		}
		return fmt.Sprintf("the part %q mixes scripts or directions in a way domain names forbid; check its spelling", label)
	}
	return "check its spelling"
}

// ErrControlCharacter is wrapped by CheckOneLine's errors.
var ErrControlCharacter = errors.New("autoconfig: a control character in a value")

// textError is a sentence for people that wraps ErrControlCharacter
// without repeating its text.
type textError struct{ msg string }

func (e *textError) Error() string { return e.msg }
func (e *textError) Unwrap() error { return ErrControlCharacter }

// CheckOneLine refuses a value that will be written into a file on one
// line (a display name, a username, a URL) when it holds a line break or
// another control character: in a user.js comment, a .prf or .reg line or
// a plist, such a character could start a setting of its own. what names
// the value for people ("the display name"); the error quotes the value
// and says what to do, and wraps ErrControlCharacter.
func CheckOneLine(what, value string) error {
	if i := strings.IndexFunc(value, isControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(value[i:])
		return &textError{fmt.Sprintf("%s %s holds the control character %U (a line break, a tab or the like); write it on one line, without such characters", what, quoteShort(value), r)}
	}
	if !utf8.ValidString(value) {
		return &textError{fmt.Sprintf("%s %s is not valid UTF-8 text; save it as UTF-8", what, quoteShort(value))}
	}
	return nil
}
