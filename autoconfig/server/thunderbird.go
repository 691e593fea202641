package server

import (
	"net/http"
	"strings"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// serveAutoconfig answers Thunderbird's GET /mail/config-v1.1.xml and the
// .well-known form. Thunderbird desktop sends ?emailaddress=; Thunderbird for
// Android, K-9 and KMail never do, so the domain then comes from the Host
// header (autoconfig.DOMAIN or DOMAIN). Either way the document keeps its
// placeholders, which the client fills in: nothing the client sent is echoed.
func (s *Server) serveAutoconfig(w http.ResponseWriter, r *http.Request, st *state) outcome {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		setHeader(w, "Allow", valueGetHead)
		return outcome{status: plainText(w, http.StatusMethodNotAllowed, "use GET\n")}
	}
	var out outcome
	var answer *site
	var ok bool
	if email := queryValue(r.URL.RawQuery, "emailaddress"); email != "" {
		addr, err := st.cfg.parseAddress(email)
		if err != nil {
			return outcome{status: plainText(w, http.StatusBadRequest, "emailaddress is not an e-mail address\n")}
		}
		out.addr, out.domain = email, addr.Domain
		answer, ok = st.cfg.sites[addr.Domain]
	} else {
		answer, out.domain, ok = st.cfg.siteForHost(hostDomain(r.Host))
	}
	if !ok {
		answer = st.cfg.generic
	}
	if answer == nil {
		out.status = plainText(w, http.StatusNotFound, "no settings for this domain\n")
		return out
	}
	setHeader(w, "Content-Type", valueXML)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(answer.autoconfigXML)
	}
	out.status = http.StatusOK
	return out
}

var valueGetHead = []string{"GET, HEAD"}

// siteForHost finds the site a Host header names: DOMAIN or
// autoconfig.DOMAIN, in any letter case and either IDN form. The exact
// spelling is tried first, without IDNA work; name is the domain asked for.
func (c *Config) siteForHost(host string) (s *site, name string, ok bool) {
	for _, name := range []string{host, strings.TrimPrefix(host, "autoconfig.")} {
		if s, ok := c.sites[name]; ok {
			return s, name, true
		}
	}
	d, err := autoconfig.ParseDomain(host)
	if err != nil {
		return nil, host, false
	}
	for _, name := range []string{d.ASCII, strings.TrimPrefix(d.ASCII, "autoconfig.")} {
		if s, ok := c.sites[name]; ok {
			return s, name, true
		}
	}
	return nil, d.ASCII, false
}
