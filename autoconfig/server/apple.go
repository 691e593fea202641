package server

import (
	"bytes"
	"fmt"
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
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		setHeader(w, "Allow", valueGetHead)
		return outcome{status: plainText(w, http.StatusMethodNotAllowed, "use GET\n")}
	}
	acct, out, ok := accountFor(w, r, st)
	if !ok {
		return out
	}
	var body bytes.Buffer
	if err := profiles.AppleMobileconfig(&body, acct, profiles.AppleOptions{Signer: st.signer}); err != nil {
		s.log.Error("writing an Apple profile", "domain", out.domain, "err", err)
		out.status = plainText(w, http.StatusInternalServerError, "the profile could not be made\n")
		return out
	}
	setHeader(w, "Content-Type", valueAppleConfig)
	setHeader(w, "Cache-Control", valueNoStore)
	// FormatMediaType quotes the name, or encodes it (RFC 2231) when it is not ASCII.
	setHeader(w, "Content-Disposition", []string{mime.FormatMediaType("attachment", map[string]string{"filename": profiles.AppleFileName(acct.Address)})})
	setHeader(w, "Content-Length", []string{strconv.Itoa(body.Len())})
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body.Bytes())
	}
	out.status = http.StatusOK
	return out
}

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
