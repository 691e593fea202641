package server

import (
	"net/http"
	"strings"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// The RFC 6764 §5 well-known URIs. A client that knows only the address
// asks https://DOMAIN/.well-known/caldav (or carddav) with PROPFIND and
// follows the redirect to the context path, where it looks for the
// current-user-principal.
var (
	pathCalDAVWellKnown  = autoconfig.CalDAV.WellKnownPath()
	pathCardDAVWellKnown = autoconfig.CardDAV.WellKnownPath()
)

// valueDAVRedirectCache bounds how long a client or proxy keeps the
// redirect: a 301 is cacheable without limit (RFC 9110 §15.4.2), and a
// hoster who moves its DAV server and reloads the configuration should
// not wait for caches it cannot reach.
var valueDAVRedirectCache = []string{"max-age=3600"}

// serveDAVWellKnown answers /.well-known/caldav and /.well-known/carddav
// on a domain's hosts (DOMAIN, autoconfig.DOMAIN, autodiscover.DOMAIN,
// setup.DOMAIN) with a redirect to the configured context URL, for any
// method: clients send PROPFIND, browsers GET.
//
// The status is 301, the first of RFC 6764 §5's examples ("e.g., using a
// 301, 303, or 307 response") and what Nextcloud's and Radicale's own web
// server configurations answer, so the redirect every iPhone and DAVx⁵
// user already meets. DAVx⁵ sends PROPFIND through OkHttp, whose
// HttpMethod keeps PROPFIND and its body across a 301 or 302
// (redirectsWithBody and redirectsToGet single PROPFIND out), and dav4jvm
// follows redirects itself as well. 302 would mean "ask here again next
// time", which a configured URL does not need; 303 turns PROPFIND into
// GET by definition; OkHttp 3 follows a 307 for GET and HEAD only.
//
// A domain that is not configured, or configured without that service,
// gets 404, whatever unknown_domains says: another domain's calendar
// server does not know this domain's users, and a redirect there would
// send their passwords to it.
func (s *Server) serveDAVWellKnown(w http.ResponseWriter, r *http.Request, st *state, kind autoconfig.DAVKind) outcome {
	site, name, ok := st.cfg.siteForServiceHost(hostDomain(r.Host))
	out := outcome{domain: name}
	if !ok {
		out.status = plainText(w, http.StatusNotFound, "no "+kind.DisplayName()+" service for this domain\n")
		return out
	}
	svc, ok := site.provider.FirstDAV(kind)
	if !ok {
		out.status = plainText(w, http.StatusNotFound, "no "+kind.DisplayName()+" service for this domain\n")
		return out
	}
	// The URL passed ParseDAVURL and Validate when the configuration was
	// loaded: an https URL on one line, safe in a header as it stands.
	w.Header()["Location"] = []string{svc.URL}
	setHeader(w, "Cache-Control", valueDAVRedirectCache)
	out.status = plainText(w, http.StatusMovedPermanently, kind.DisplayName()+" is at "+svc.URL+"\n")
	return out
}

// davWellKnownKind is the DAV kind a well-known path names, with or
// without a final slash (some clients add one).
func davWellKnownKind(path string) (autoconfig.DAVKind, bool) {
	path = strings.TrimSuffix(path, "/")
	switch {
	case strings.EqualFold(path, pathCalDAVWellKnown):
		return autoconfig.CalDAV, true
	case strings.EqualFold(path, pathCardDAVWellKnown):
		return autoconfig.CardDAV, true
	}
	return "", false
}

// siteForServiceHost finds the configured domain (or alias) a Host header
// belongs to: DOMAIN itself or one of the names this server answers for
// it. The bare listen address and unknown names find none.
// The exact spelling is tried first, without IDNA work.
func (c *Config) siteForServiceHost(host string) (s *site, name string, ok bool) {
	if s, name, ok := c.siteWithPrefix(host); ok {
		return s, name, true
	}
	d, err := autoconfig.ParseDomain(host)
	if err != nil {
		return nil, host, false
	}
	return c.siteWithPrefix(d.ASCII)
}

var serviceHostPrefixes = [...]string{"", "autoconfig.", "autodiscover.", "setup."}

func (c *Config) siteWithPrefix(host string) (s *site, name string, ok bool) {
	for _, prefix := range serviceHostPrefixes {
		if name, cut := strings.CutPrefix(host, prefix); cut {
			if s, ok := c.sites[name]; ok {
				return s, name, true
			}
		}
	}
	return nil, host, false
}
