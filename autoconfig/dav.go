package autoconfig

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// DAVKind is a calendar or contacts service over WebDAV.
type DAVKind string

const (
	// CalDAV is calendars (RFC 4791).
	CalDAV DAVKind = "caldav"
	// CardDAV is contacts (RFC 6352).
	CardDAV DAVKind = "carddav"
)

// DisplayName is the kind as people read it in a report: "CalDAV".
func (k DAVKind) DisplayName() string {
	switch k {
	case CalDAV:
		return "CalDAV"
	case CardDAV:
		return "CardDAV"
	}
	return string(k)
}

// SRVName is the RFC 6764 §3 service label of the kind over TLS:
// "_caldavs", "_carddavs". The non-TLS labels ("_caldav", "_carddav") are
// the same without the final s.
func (k DAVKind) SRVName() string { return "_" + string(k) + "s" }

// WellKnownPath is the RFC 6764 §5 well-known URI path of the kind:
// "/.well-known/caldav".
func (k DAVKind) WellKnownPath() string { return "/.well-known/" + string(k) }

// DAVService is where a client finds a person's calendars or address books:
// the context path of RFC 6764 §6 (the URL a client sends its
// current-user-principal PROPFIND to), with the login name.
type DAVService struct {
	Kind DAVKind `json:"kind"`
	// URL is an absolute https URL (http only when the provider offers
	// nothing else; clients are never set up with it without consent),
	// such as https://dav.example.com/dav/. It has no user information,
	// query or fragment.
	URL string `json:"url"`
	// Username is a template as for mail servers (%EMAILADDRESS%, ...).
	Username string `json:"username"`
}

// DAVURL is a parsed DAVService URL.
type DAVURL struct {
	// Host is the host name in A-label form.
	Host string
	// Port is the port, 443 (or 80 for http) when the URL names none.
	Port int
	// Path is the context path, "/" at least.
	Path string
	// TLS is false for an http URL.
	TLS bool
}

// ParseDAVURL checks a calendar or contacts URL as the model stores it:
// http or https, a host name that ParseHostname accepts, an optional port,
// a path, and nothing else.
func ParseDAVURL(raw string) (DAVURL, error) {
	if err := CheckOneLine("the calendar or contacts URL", raw); err != nil {
		return DAVURL{}, err
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" {
		return DAVURL{}, fmt.Errorf("%w: the calendar or contacts URL %s is not an https URL such as https://dav.example.com/", ErrMalformed, quoteShort(raw))
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return DAVURL{}, fmt.Errorf("%w: the calendar or contacts URL %s carries a user name, query or fragment; write only https://HOST/PATH", ErrMalformed, quoteShort(raw))
	}
	host, err := ParseHostname(u.Hostname())
	if err != nil {
		return DAVURL{}, fmt.Errorf("%w: the calendar or contacts URL %s: %w", ErrMalformed, quoteShort(raw), err)
	}
	d := DAVURL{Host: host, Path: u.EscapedPath(), TLS: u.Scheme == "https", Port: 443}
	if !d.TLS {
		d.Port = 80
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return DAVURL{}, fmt.Errorf("%w: the calendar or contacts URL %s has a port outside 1 to 65535", ErrMalformed, quoteShort(raw))
		}
		d.Port = n
	}
	if d.Path == "" {
		d.Path = "/"
	}
	return d, nil
}

// String is the URL in the form the model stores: scheme, A-label host,
// the port only when it is not the scheme's default, and the path.
func (d DAVURL) String() string {
	scheme, defaultPort := "https", 443
	if !d.TLS {
		scheme, defaultPort = "http", 80
	}
	host := d.Host
	if d.Port != defaultPort {
		host += ":" + strconv.Itoa(d.Port)
	}
	return scheme + "://" + host + d.Path
}

// validate checks a DAV service as Provider.Validate does its servers.
func (s DAVService) validate() error {
	if s.Kind != CalDAV && s.Kind != CardDAV {
		return fmt.Errorf("%w: a calendar or contacts service of kind %s, which is neither caldav nor carddav", ErrMalformed, quoteShort(string(s.Kind)))
	}
	u, err := ParseDAVURL(s.URL)
	if err != nil {
		return fmt.Errorf("%s: %w", s.Kind.DisplayName(), err)
	}
	if u.String() != s.URL {
		return fmt.Errorf("%w: %s URL %q is not stored as %q (lower-case A-label host, no default port): pass it through ParseDAVURL first", ErrMalformed, s.Kind.DisplayName(), s.URL, u.String())
	}
	if err := CheckOneLine(s.Kind.DisplayName()+": the username", s.Username); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if strings.Contains(s.Username, "%") {
		if err := CheckTemplate(s.Username); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrMalformed, s.Kind.DisplayName(), err)
		}
	}
	return nil
}

// FirstDAV returns the provider's first service of kind k.
func (p *Provider) FirstDAV(k DAVKind) (DAVService, bool) {
	for _, s := range p.DAV {
		if s.Kind == k {
			return s, true
		}
	}
	return DAVService{}, false
}
