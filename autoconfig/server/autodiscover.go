package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// serveAutodiscover answers Microsoft Autodiscover POX (MS-OXDSCLI §3.2.5):
// a POST with the address in the body, at /autodiscover/autodiscover.xml on
// autodiscover.DOMAIN or DOMAIN in any letter case. The answer depends on the
// address's domain only, so the Host header is not consulted.
func (s *Server) serveAutodiscover(w http.ResponseWriter, r *http.Request, st *state) outcome {
	if r.Method != http.MethodPost {
		// Exchange answers a GET with error 600 in a 200 response.
		return outcome{status: writeAutodiscover(w, http.StatusOK,
			autoconfig.NewAutodiscoverError(autoconfig.AutodiscoverErrInvalidRequest, "Invalid Request"))}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodySize))
	if err != nil {
		if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
			return outcome{status: plainText(w, http.StatusRequestEntityTooLarge, "request body larger than 64 KiB\n")}
		}
		return outcome{status: plainText(w, http.StatusBadRequest, "the request body could not be read\n")}
	}
	req := &autoconfig.AutodiscoverRequest{}
	var ok bool
	if req.EMailAddress, req.AcceptableResponseSchema, ok = readAutodiscoverRequestFast(body); !ok {
		if req, err = autoconfig.ReadAutodiscoverRequest(bytes.NewReader(body)); err != nil {
			return outcome{status: writeAutodiscover(w, http.StatusBadRequest,
				autoconfig.NewAutodiscoverError(autoconfig.AutodiscoverErrInvalidRequest, "Invalid Request"))}
		}
	}
	out := outcome{addr: req.EMailAddress}
	if sc := req.AcceptableResponseSchema; sc != "" && sc != autoconfig.AutodiscoverOutlookSchema {
		// Mobile (ActiveSync) clients ask for the mobilesync schema: not offered.
		out.status = writeAutodiscover(w, http.StatusOK,
			autoconfig.NewAutodiscoverError(autoconfig.AutodiscoverErrNoSchema, "The requested schema is not available"))
		return out
	}
	addr, err := st.cfg.parseAddress(req.EMailAddress)
	if err != nil {
		out.status = writeAutodiscover(w, http.StatusBadRequest,
			autoconfig.NewAutodiscoverError(autoconfig.AutodiscoverErrConfig, "The e-mail address is not valid"))
		return out
	}
	out.domain = addr.Domain
	site, ok := st.cfg.sites[addr.Domain]
	switch {
	case ok && site.primary != nil:
		out.status = writeAutodiscover(w, http.StatusOK,
			autoconfig.NewAutodiscoverRedirectAddr(addr.LocalPart+"@"+site.primary.domain.ASCII))
	case ok:
		setHeader(w, "Content-Type", valueTextXML)
		w.WriteHeader(http.StatusOK)
		_ = site.autodiscover.writeTo(w, addr.LocalPart)
		out.status = http.StatusOK
	case st.cfg.generic != nil:
		out.status = writeAutodiscover(w, http.StatusOK, autoconfig.NewAutodiscoverResponse(st.cfg.generic.provider, addr))
	default:
		out.status = writeAutodiscover(w, http.StatusNotFound,
			autoconfig.NewAutodiscoverError(autoconfig.AutodiscoverErrNoAddress, "The e-mail address cannot be found"))
	}
	return out
}

func writeAutodiscover(w http.ResponseWriter, status int, resp *autoconfig.AutodiscoverResponse) int {
	var buf bytes.Buffer
	_, _ = resp.WriteTo(&buf)
	setHeader(w, "Content-Type", valueTextXML)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return status
}

// autodiscoverV1 is the one Autodiscover v2 protocol offered: a pointer back
// to the POX endpoint (there is no ActiveSync or EWS here).
const autodiscoverV1 = "AutodiscoverV1"

// serveAutodiscoverJSON answers Autodiscover v2:
// GET /autodiscover/autodiscover.json?Email=ADDR&Protocol=AutodiscoverV1 and
// GET /autodiscover/autodiscover.json/v1.0/ADDR?Protocol=AutodiscoverV1.
func (s *Server) serveAutodiscoverJSON(w http.ResponseWriter, r *http.Request, st *state) outcome {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		setHeader(w, "Allow", valueGetHead)
		return outcome{status: plainText(w, http.StatusMethodNotAllowed, "use GET\n")}
	}
	query := r.URL.Query()
	email := queryFold(query, "Email")
	switch rest := r.URL.Path[len(pathAutodiscoverJSON):]; {
	case rest == "":
	case len(rest) > len("/v1.0/") && strings.EqualFold(rest[:len("/v1.0/")], "/v1.0/"):
		email = rest[len("/v1.0/"):]
	default:
		return outcome{status: plainText(w, http.StatusNotFound, "not found\n")}
	}
	out := outcome{addr: email}
	protocol := queryFold(query, "Protocol")
	if !strings.EqualFold(protocol, autodiscoverV1) {
		if len(protocol) > 64 {
			protocol = protocol[:64]
		}
		out.status = writeJSON(w, http.StatusBadRequest, map[string]string{
			"ErrorCode":    "InvalidProtocol",
			"ErrorMessage": "The given protocol value '" + protocol + "' is invalid. Supported values are 'AutodiscoverV1'.",
		})
		return out
	}
	addr, err := st.cfg.parseAddress(email)
	if err != nil {
		out.status = writeJSON(w, http.StatusBadRequest, map[string]string{
			"ErrorCode":    "InvalidEmailAddress",
			"ErrorMessage": "Give the e-mail address as Email=name@example.com.",
		})
		return out
	}
	out.domain = addr.Domain
	site, ok := st.cfg.sites[addr.Domain]
	if !ok && st.cfg.generic == nil {
		out.status = plainText(w, http.StatusNotFound, "no settings for this domain\n")
		return out
	}
	domain := addr.Domain
	if ok && site.primary != nil {
		domain = site.primary.domain.ASCII
	}
	u := url.URL{Scheme: "https", Host: "autodiscover." + domain, Path: "/autodiscover/autodiscover.xml"}
	out.status = writeJSON(w, http.StatusOK, map[string]string{"Protocol": autodiscoverV1, "Url": u.String()})
	return out
}

// queryFold returns the first value of a query parameter named key in any
// letter case (clients send Email, email and EMAIL).
func queryFold(q url.Values, key string) string {
	if v := q.Get(key); v != "" {
		return v
	}
	for k, vs := range q {
		if strings.EqualFold(k, key) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) int {
	body, _ := json.Marshal(v)
	setHeader(w, "Content-Type", valueJSON)
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
	return status
}
