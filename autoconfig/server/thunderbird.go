package server

import (
	"net/http"
	"strings"
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
	var domain string
	if email := queryValue(r.URL.RawQuery, "emailaddress"); email != "" {
		addr, err := st.cfg.parseAddress(email)
		if err != nil {
			return outcome{status: plainText(w, http.StatusBadRequest, "emailaddress is not an e-mail address\n")}
		}
		out.addr, domain = email, addr.Domain
	} else {
		domain = hostDomain(r.Host)
	}
	site, ok := st.cfg.lookup(domain)
	if !ok && out.addr == "" {
		if rest, cut := strings.CutPrefix(domain, "autoconfig."); cut {
			domain = rest
			site, ok = st.cfg.lookup(domain)
		}
	}
	out.domain = domain
	if !ok {
		site = st.cfg.generic
	}
	if site == nil {
		out.status = plainText(w, http.StatusNotFound, "no settings for this domain\n")
		return out
	}
	setHeader(w, "Content-Type", valueXML)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(site.autoconfigXML)
	}
	out.status = http.StatusOK
	return out
}

var valueGetHead = []string{"GET, HEAD"}
