// Package dav finds and proves a provider's calendar and contacts services
// and its JMAP session resource, beside the mail servers that the rest of
// package probe handles:
//
//   - discovery per RFC 6764: the SRV records _caldavs._tcp and
//     _carddavs._tcp (§3) with their TXT path= records (§4), the non-TLS
//     _caldav and _carddav records (reported, never used), and the
//     well-known URIs /.well-known/caldav and /.well-known/carddav (§5) on
//     the domain, followed through redirects over https only;
//   - JMAP per RFC 8620 §2.2: the _jmap._tcp SRV record and
//     /.well-known/jmap;
//   - verification: an unauthenticated PROPFIND (RFC 4918 §9.1) that a DAV
//     server answers with 207 or 401 over verified TLS; with a password,
//     HTTP Basic (RFC 7617) asks for DAV:current-user-principal (RFC 5397
//     §3), then the principal's CALDAV:calendar-home-set (RFC 4791 §6.2.1)
//     or CARDDAV:addressbook-home-set (RFC 6352 §7.1.1); for JMAP, the
//     session resource (RFC 8620 §2).
//
// Every request goes through netx's HTTP client (netx.Env, its redirect
// rules and TLS roots); every body is read through netx.ReadBody (1 MiB);
// every request is bounded by the attempt timeout. A password is never sent
// over plain http, never follows a redirect, and never goes to a host that
// a server's answer named: the principal and home sets are asked of the
// context URL's own origin only. Who may receive the password at all (the
// address's domain, an authenticated source, the user's consent) is package
// probe's decision, made before Login is called.
package dav

import (
	"time"

	"github.com/mailsetup/mailsetup/probe/discover"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// Kind is what a candidate serves.
type Kind string

const (
	// CalDAV is calendars (RFC 4791); the value equals autoconfig.CalDAV.
	CalDAV Kind = "caldav"
	// CardDAV is contacts (RFC 6352); the value equals autoconfig.CardDAV.
	CardDAV Kind = "carddav"
	// JMAP is a JMAP session resource (RFC 8620).
	JMAP Kind = "jmap"
)

// DisplayName is the kind as people read it.
func (k Kind) DisplayName() string {
	switch k {
	case CalDAV:
		return "CalDAV"
	case CardDAV:
		return "CardDAV"
	case JMAP:
		return "JMAP"
	}
	return string(k)
}

// Methods, as Source.Method and Lookup.Method spell them: discovery's own
// (srv, well-known, autoconfig, guess) name the kind in the lookup target.
const (
	MethodSRV        = "dav-srv"        // _caldavs._tcp.DOMAIN, _carddavs._tcp.DOMAIN, _jmap._tcp.DOMAIN
	MethodTXT        = "dav-txt"        // the TXT path= record beside an SRV record
	MethodWellKnown  = "dav-well-known" // https://DOMAIN/.well-known/caldav, carddav, jmap
	MethodAutoconfig = "dav-autoconfig" // the provider's config-v1.1 <calendar>/<addressBook>
	MethodGuess      = "dav-guess"      // the mail host itself
)

// Candidate is a URL some source named for a kind.
type Candidate struct {
	Kind Kind
	// URL is the RFC 6764 context URL for CalDAV and CardDAV, the session
	// resource's URL for JMAP. It is http only for the non-TLS SRV
	// records, which are reported and never used.
	URL     string
	Sources []discover.Source
	// Username is the login name template the source gave (autoconfig
	// only).
	Username string
}

// Options configure discovery and verification.
type Options struct {
	Env netx.Env
	// AttemptTimeout bounds each DNS question and HTTP request; 0 means 5 s.
	AttemptTimeout time.Duration
}

func (o Options) attempt() time.Duration {
	if o.AttemptTimeout <= 0 {
		return 5 * time.Second
	}
	return o.AttemptTimeout
}

// Lookup is discover's record of one request.
type Lookup = discover.Lookup
