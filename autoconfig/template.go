package autoconfig

import (
	"fmt"
	"strings"
)

// The placeholders config-v1.1 defines for usernames and host names.
const (
	PlaceholderAddress   = "%EMAILADDRESS%"
	PlaceholderLocalPart = "%EMAILLOCALPART%"
	PlaceholderDomain    = "%EMAILDOMAIN%"
)

// ExpandTemplate replaces the placeholders in tmpl with parts of addr. The
// domain is written in ASCII form: usernames and host names travel in protocols.
func ExpandTemplate(tmpl string, addr Address) string {
	if !strings.Contains(tmpl, "%") {
		return tmpl
	}
	return strings.NewReplacer(
		PlaceholderAddress, addr.ASCII(),
		PlaceholderLocalPart, addr.LocalPart,
		PlaceholderDomain, addr.Domain,
	).Replace(tmpl)
}

// CheckTemplate reports a placeholder that is misspelled or not closed, such
// as "%EMAILADDRESS" (which the ISPDB itself ships once). A client would send
// such a template to the server literally.
func CheckTemplate(tmpl string) error {
	rest := tmpl
	for {
		i := strings.IndexByte(rest, '%')
		if i < 0 {
			return nil
		}
		rest = rest[i:]
		switch {
		case strings.HasPrefix(rest, PlaceholderAddress):
			rest = rest[len(PlaceholderAddress):]
		case strings.HasPrefix(rest, PlaceholderLocalPart):
			rest = rest[len(PlaceholderLocalPart):]
		case strings.HasPrefix(rest, PlaceholderDomain):
			rest = rest[len(PlaceholderDomain):]
		case strings.HasPrefix(rest, "%REALNAME%"):
			rest = rest[len("%REALNAME%"):]
		default:
			end := strings.IndexByte(rest[1:], '%')
			bad := rest
			if end >= 0 {
				bad = rest[:end+2]
			}
			return fmt.Errorf("broken placeholder %q in %q: use %s, %s or %s", bad, tmpl,
				PlaceholderAddress, PlaceholderLocalPart, PlaceholderDomain)
		}
	}
}
