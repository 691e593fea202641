package probe

import (
	"slices"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/discover"
)

// NotConfirmed is why a server got no password although it was proven: it
// lies outside the address's registrable domain, only sources that anyone
// on the network path could have written named it, and the user did not
// confirm it (Options.TrustHosts). docs/password-rule.md states the rule
// and its sources (RFC 6186 §6, RFC 7817 §4, Outlook's redirect warning).
const NotConfirmed = "not confirmed: named by an unauthenticated source in another domain"

// LoginKindNotConfirmed is the LoginReport.Kind of a login skipped for want
// of the user's consent.
const LoginKindNotConfirmed = "not-confirmed"

// authenticated reports whether a source's answer could not have been
// written by someone on the path: the domain's own https (autoconfig,
// .well-known, Autodiscover), a DNSSEC-authenticated SRV answer, the ISPDB
// fetched over https (Mozilla's curated list: an attacker who forges the MX
// record can steer only to a provider the ISPDB lists), and an Autodiscover
// chain that was https with a valid certificate at every hop and did not
// begin at an unauthenticated SRV record.
func authenticated(s Source) bool {
	switch discover.Trust(s.Trust) {
	case discover.TrustDomainHTTPS, discover.TrustDNSSEC:
		return true
	case discover.TrustThirdParty:
		switch s.Method {
		case discover.MethodISPDB, discover.MethodMXISPDB:
			return strings.HasPrefix(s.Target, "https://")
		case discover.MethodAutodiscover:
			return true
		}
	}
	return false
}

// registrableDomain is host's public suffix plus one label (example.co.uk
// for imap.example.co.uk), or host itself when it has no such form.
func registrableDomain(host string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
		return d
	}
	return host
}

// consented reports whether the password may go to the candidate's host:
// it lies in the address's registrable domain, an authenticated source named
// it, or the user confirmed it. A bare domain never sends a password, so
// the question does not arise there (true).
func (e *engine) consented(c *candidate) bool {
	if e.addr == nil {
		return true
	}
	host := strings.TrimSuffix(strings.ToLower(c.server.Hostname), ".")
	if registrableDomain(host) == registrableDomain(e.addr.Domain) {
		return true
	}
	if slices.ContainsFunc(e.trustHosts, func(h string) bool {
		return strings.TrimSuffix(strings.ToLower(h), ".") == host
	}) {
		return true
	}
	return slices.ContainsFunc(c.sources, func(s source) bool { return authenticated(s.Source) })
}

// normalizeHosts lowercases the hosts the user confirmed and turns IDNs into
// their ASCII form, as candidates' hosts are.
func normalizeHosts(hosts []string) []string {
	var out []string
	for _, h := range hosts {
		if d, err := autoconfig.ParseDomain(strings.TrimSuffix(h, ".")); err == nil {
			out = append(out, d.ASCII)
		} else {
			out = append(out, strings.ToLower(h))
		}
	}
	return out
}
