package profiles

import (
	"github.com/mailsetup/mailsetup/autoconfig"
)

// davService is a calendar or contacts service as a client is set up with
// it: the URL in its parts and the login name filled in for the address.
type davService struct {
	Kind autoconfig.DAVKind
	// URL is the provider's context URL (RFC 6764 §6) as the model stores it.
	URL string
	autoconfig.DAVURL
	Username string
}

// Role is how the sheet and the notes name the service.
func (s davService) Role() string {
	if s.Kind == autoconfig.CalDAV {
		return "Calendar (CalDAV)"
	}
	return "Contacts (CardDAV)"
}

// dav returns the account's calendar service and contacts service, the
// provider's first of each kind, CalDAV first, with the login name filled
// in. A service without a username template logs in as the incoming mail
// server does: providers such as Nextcloud, SOGo, Fastmail and mailbox.org
// use the mail login for both.
func (a Account) dav() []davService {
	if a.Provider == nil {
		return nil
	}
	var out []davService
	for _, kind := range []autoconfig.DAVKind{autoconfig.CalDAV, autoconfig.CardDAV} {
		s, ok := a.Provider.FirstDAV(kind)
		if !ok {
			continue
		}
		user := autoconfig.ExpandTemplate(s.Username, a.Address)
		if s.Username == "" {
			user = a.In().Username
		}
		out = append(out, davService{Kind: kind, URL: s.URL, DAVURL: davURLParts(s.URL), Username: user})
	}
	return out
}

// DAV returns the calendar and contacts services the files set up, CalDAV
// first, with the login name filled in, for the command's summary.
func (a Account) DAV() []autoconfig.DAVService {
	var out []autoconfig.DAVService
	for _, s := range a.dav() {
		out = append(out, autoconfig.DAVService{Kind: s.Kind, URL: s.URL, Username: s.Username})
	}
	return out
}

// davURLParts splits a URL the model has checked (Provider.Validate). A
// value that is not in the model's form can only be hostile, as the model
// refuses it: it is kept whole as the host, so each writer's own escaping
// is what keeps it in its place, as for host names (the writers' second
// wall, FuzzWritersKeepTheirShape).
func davURLParts(raw string) autoconfig.DAVURL {
	if u, err := autoconfig.ParseDAVURL(raw); err == nil && u.String() == raw {
		return u
	}
	return autoconfig.DAVURL{Host: raw, Port: 443, Path: "/", TLS: true}
}

// davWords says what the files set up, for their headers and descriptions:
// "calendar and contacts", "calendar", "contacts" or "".
func davWords(services []davService) string {
	var cal, card bool
	for _, s := range services {
		cal = cal || s.Kind == autoconfig.CalDAV
		card = card || s.Kind == autoconfig.CardDAV
	}
	switch {
	case cal && card:
		return "calendar and contacts"
	case cal:
		return "calendar"
	case card:
		return "contacts"
	}
	return ""
}
