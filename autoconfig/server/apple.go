package server

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"

	"github.com/mailsetup/mailsetup/profiles"
)

// signer signs Apple profiles (profiles.Signer, CMS SignedData).
type signer = profiles.Signer

func loadSigner(sc *SigningConfig) (*signer, error) {
	read := func(name string) ([]byte, error) {
		if name == "" {
			return nil, nil
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("%w: signing: %v", ErrConfig, err)
		}
		return data, nil
	}
	cert, err := read(sc.CertFile)
	if err != nil {
		return nil, err
	}
	key, err := read(sc.KeyFile)
	if err != nil {
		return nil, err
	}
	chain, err := read(sc.ChainFile)
	if err != nil {
		return nil, err
	}
	sg, err := profiles.NewSigner(cert, key, chain)
	if err != nil {
		return nil, fmt.Errorf("%w: signing: %v", ErrConfig, err)
	}
	return sg, nil
}

// serveMobileconfig answers GET /mail.mobileconfig?emailaddress=ADDR with an
// Apple configuration profile, signed when a signing certificate is
// configured. The address is required: the profile names the account.
func (s *Server) serveMobileconfig(w http.ResponseWriter, r *http.Request, st *state) outcome {
	return s.serveDownload(w, r, st, download{kind: renderMobileconfig, what: "an Apple profile",
		write: func(w io.Writer, acct profiles.Account) error {
			return profiles.AppleMobileconfig(w, acct, profiles.AppleOptions{Signer: st.signer})
		},
		contentType: valueAppleConfig,
		// FormatMediaType quotes the name, or encodes it (RFC 2231) when it is not ASCII.
		disposition: func(acct profiles.Account) []string {
			return []string{mime.FormatMediaType("attachment", map[string]string{"filename": profiles.AppleFileName(acct.Address)})}
		}})
}

// writeRendered answers 200 with a rendered answer; csp, when set, is the
// Content-Security-Policy of a page.
func writeRendered(w http.ResponseWriter, r *http.Request, contentType []string, body []byte, csp []string) {
	setHeader(w, "Content-Type", contentType)
	setHeader(w, "Cache-Control", valueNoStore)
	if csp != nil {
		setHeader(w, "Content-Security-Policy", csp)
	}
	setHeader(w, "Content-Length", []string{strconv.Itoa(len(body))})
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// statusClientGone is logged and counted for a request whose client went
// away before its answer was rendered (nginx's 499); nothing is sent.
const statusClientGone = 499

// renderFailed answers a request whose answer could not be rendered: 503
// when every render slot stayed busy, nothing when the client is gone, 500
// otherwise. The error is logged with the address redacted as the logging
// settings say, since writers quote the address they refuse.
func (s *Server) renderFailed(w http.ResponseWriter, r *http.Request, st *state, out outcome, what string, err error) outcome {
	switch {
	case errors.Is(err, errRenderBusy):
		setHeader(w, "Retry-After", valueRetryAfterBusy)
		out.status = plainText(w, http.StatusServiceUnavailable, "busy: try again in a few seconds\n")
	case r.Context().Err() != nil:
		out.status = statusClientGone
	default:
		s.log.Error("rendering "+what, "domain", out.domain, "err", redactError(err, out.addr, st.cfg.Log.FullAddresses))
		out.status = plainText(w, http.StatusInternalServerError, what+" could not be made\n")
	}
	return out
}

var valueRetryAfterBusy = []string{"2"}

// accountFor reads ?emailaddress= and finds the account's settings; when it
// cannot, it has answered the request and ok is false.
func accountFor(w http.ResponseWriter, r *http.Request, st *state) (acct profiles.Account, out outcome, ok bool) {
	email := queryValue(r.URL.RawQuery, "emailaddress")
	out.addr = email
	if email == "" {
		out.status = plainText(w, http.StatusBadRequest, "give the address: ?emailaddress=name@example.com\n")
		return acct, out, false
	}
	addr, err := st.cfg.parseAddress(email)
	if err != nil {
		out.status = plainText(w, http.StatusBadRequest, "emailaddress is not an e-mail address\n")
		return acct, out, false
	}
	out.domain = addr.Domain
	site, found := st.cfg.sites[addr.Domain]
	if !found {
		site = st.cfg.generic
	}
	if site == nil {
		out.status = plainText(w, http.StatusNotFound, "no settings for this domain\n")
		return acct, out, false
	}
	acct, err = profiles.NewAccount(site.provider, addr, "", "")
	if err != nil {
		out.status = plainText(w, http.StatusInternalServerError, "no settings for this address\n")
		return acct, out, false
	}
	return acct, out, true
}
