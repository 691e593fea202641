package dav

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mailsetup/mailsetup/probe/netx"
)

// Result is what checking or logging in to one candidate showed.
type Result struct {
	// Reachable is true once an HTTP answer came.
	Reachable bool
	// TLS describes the verified certificate; nil when no TLS answer came.
	TLS *TLSInfo
	// Answers is true when the URL answered as the kind's resource (a
	// PROPFIND with 207 or 401, a JMAP session with 200 or 401).
	Answers bool
	// Basic says the server offers HTTP Basic (its 401 named it, or a
	// login with it worked).
	Basic bool
	// Err says why the candidate failed.
	Err error

	// PasswordSent is true once a request carried the password.
	PasswordSent bool
	// Refused is true when the server answered the password with 401 or
	// 403; ServerText is its status line.
	Refused    bool
	ServerText string
	// LoggedIn is true when the password was accepted and the principal
	// (or the JMAP session) was read.
	LoggedIn bool
	// Principal is the absolute URL of DAV:current-user-principal.
	Principal string
	// HomeSets are the absolute URLs of the principal's calendar or
	// address-book home sets.
	HomeSets []string
	// Ignored lists hrefs the server named on another origin, which the
	// password was not sent to.
	Ignored []string
	// JMAP session: the API URL, the capabilities and the username.
	APIURL       string
	Capabilities []string
	Username     string
}

// TLSInfo is the certificate of a verified https connection. Only verified
// connections carry one: netx's client refuses any other.
type TLSInfo struct {
	Version  string
	Subject  string
	Names    []string
	Issuer   string
	NotAfter time.Time
	SHA256   string
}

// ErrPlaintext is a candidate over plain http: reported, never used.
var ErrPlaintext = errors.New("dav: a service over plain http is reported only; mailsetup sends nothing there")

// Prover checks and logs in to candidates one after the other over one
// HTTP client, so that a host's connection serves every request to it.
type Prover struct {
	opts Options
	web  *http.Client
}

// NewProver returns a Prover; Close it when done.
func NewProver(opts Options) *Prover {
	return &Prover{opts: opts, web: netx.HTTPClient(opts.Env, netx.HTTPOptions{Timeout: opts.attempt(), NoRedirects: true})}
}

// Close lets the idle connections go.
func (p *Prover) Close() { p.web.CloseIdleConnections() }

// Check asks the candidate, without a password, whether it is what its
// kind says: an unauthenticated PROPFIND (DAV) or GET (JMAP).
func (p *Prover) Check(ctx context.Context, c Candidate) Result {
	return do(ctx, p.opts, p.web, c, "", nil)
}

// Login asks the candidate for the principal and home set (DAV) or the
// session (JMAP) with HTTP Basic. It sends the password only over https
// whose certificate netx verified, only to the candidate's own origin, and
// follows no redirect with it.
func (p *Prover) Login(ctx context.Context, c Candidate, username string, password []byte) Result {
	return do(ctx, p.opts, p.web, c, username, password)
}

func do(ctx context.Context, opts Options, web *http.Client, c Candidate, username string, password []byte) Result {
	var r Result
	base, err := url.Parse(c.URL)
	if err != nil || base.Host == "" {
		r.Err = fmt.Errorf("dav: %q is not a URL", c.URL)
		return r
	}
	if base.Scheme != "https" {
		r.Err = ErrPlaintext
		return r
	}
	if c.Kind == JMAP {
		jmapSession(ctx, opts, web, base, username, password, &r)
		return r
	}
	props, ok := propfind(ctx, opts, web, base, c.Kind, username, password, &r)
	if !ok || password == nil {
		return r
	}
	if len(props.Principal) == 0 {
		r.Err = errors.New("the server accepted the password but named no current-user-principal (RFC 5397)")
		return r
	}
	principal, err := sameOrigin(base, props.Principal[0])
	if err != nil {
		r.Ignored = append(r.Ignored, props.Principal[0])
		r.Err = err
		return r
	}
	r.Principal = principal.String()
	r.LoggedIn = true
	homes := props.HomeSets
	if principal.String() != base.String() || len(homes) == 0 {
		// Ask the principal itself (RFC 4791 §6.2.1, RFC 6352 §7.1.1).
		var pr Result
		p, ok := propfind(ctx, opts, web, principal, c.Kind, username, password, &pr)
		if !ok {
			r.Err = fmt.Errorf("the principal %s: %w", principal, pr.Err)
			return r
		}
		homes = p.HomeSets
	}
	for _, h := range homes {
		u, err := sameOrigin(principal, h)
		if err != nil {
			r.Ignored = append(r.Ignored, h)
			continue
		}
		if s := u.String(); !slices.Contains(r.HomeSets, s) {
			r.HomeSets = append(r.HomeSets, s)
		}
	}
	if len(r.HomeSets) == 0 {
		r.Err = fmt.Errorf("the principal %s names no %s home set", principal, c.Kind.DisplayName())
	}
	return r
}

// sameOrigin resolves href against base and refuses another scheme, host
// or port: a server's answer must not steer the password elsewhere.
func sameOrigin(base *url.URL, href string) (*url.URL, error) {
	ref, err := url.Parse(href)
	if err != nil {
		return nil, fmt.Errorf("the server named %q, which is not a URL", href)
	}
	u := base.ResolveReference(ref)
	if u.Scheme != base.Scheme || !strings.EqualFold(u.Host, base.Host) {
		return nil, fmt.Errorf("the server named %s on another origin than %s://%s; mailsetup does not send the password there", u.Redacted(), base.Scheme, base.Host)
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return u, nil
}

// propfind sends one Depth: 0 PROPFIND and reads its answer into r.
func propfind(ctx context.Context, opts Options, web *http.Client, u *url.URL, kind Kind, username string, password []byte, r *Result) (properties, bool) {
	ctx, cancel := context.WithTimeout(ctx, opts.attempt())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "PROPFIND", u.String(), strings.NewReader(propfindBody(kind)))
	if err != nil {
		r.Err = err
		return properties{}, false
	}
	req.Header.Set("Depth", "0")
	req.Header.Set("Content-Type", "application/xml; charset=utf-8")
	body, resp, ok := send(web, req, username, password, r)
	if !ok {
		return properties{}, false
	}
	switch {
	case resp.StatusCode == http.StatusMultiStatus:
		r.Answers = true
		props, err := parseMultistatus(body, kind)
		if err != nil {
			r.Err = err
			return properties{}, false
		}
		if password != nil {
			r.Basic = true
		}
		return props, true
	case resp.StatusCode == http.StatusUnauthorized && password == nil:
		r.Answers = true
		return properties{}, true
	}
	r.Err = httpError(resp, "PROPFIND")
	return properties{}, false
}

// send does one request, with the password when given, and reads the body.
// It fills the reachability, TLS, Basic and refusal fields of r.
func send(web *http.Client, req *http.Request, username string, password []byte, r *Result) ([]byte, *http.Response, bool) {
	var wrote atomic.Bool
	defer func() { r.PasswordSent = r.PasswordSent || wrote.Load() }()
	if password != nil {
		req.SetBasicAuth(username, string(password))
		// The password left once the headers were written, whatever
		// comes back (or does not) after that.
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			WroteHeaders: func() { wrote.Store(true) },
		}))
	}
	resp, err := web.Do(req)
	if err != nil {
		r.Err = err
		return nil, nil, false
	}
	defer resp.Body.Close()
	r.Reachable = true
	if resp.TLS != nil && r.TLS == nil {
		r.TLS = tlsInfo(resp.TLS)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		for _, v := range resp.Header.Values("WWW-Authenticate") {
			r.Basic = r.Basic || strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), "basic")
		}
	}
	body, err := netx.ReadBody(resp.Body)
	if err != nil {
		r.Err = err
		return nil, nil, false
	}
	// 401 is the refusal of HTTP authentication (RFC 9110 §15.5.2); a 403
	// comes after it was accepted (the URL is not the user's) and falls
	// to the caller's status checks.
	if password != nil && resp.StatusCode == http.StatusUnauthorized {
		r.Refused = true
		r.ServerText = resp.Status
		r.Err = fmt.Errorf("the server refused the username or password (HTTP %s)", resp.Status)
		return nil, nil, false
	}
	return body, resp, true
}

func httpError(resp *http.Response, method string) error {
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return fmt.Errorf("the server answered %s with a redirect (HTTP %s) to %q; the password does not follow redirects", method, resp.Status, resp.Header.Get("Location"))
	}
	return fmt.Errorf("the server answered %s with HTTP %s, not as a WebDAV server would", method, resp.Status)
}

// jmapCore is the capability every JMAP session carries (RFC 8620 §2).
const jmapCore = "urn:ietf:params:jmap:core"

// jmapSession GETs the session resource (RFC 8620 §2).
func jmapSession(ctx context.Context, opts Options, web *http.Client, u *url.URL, username string, password []byte, r *Result) {
	ctx, cancel := context.WithTimeout(ctx, opts.attempt())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		r.Err = err
		return
	}
	req.Header.Set("Accept", "application/json")
	body, resp, ok := send(web, req, username, password, r)
	if !ok {
		return
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized && password == nil:
		r.Answers = true
		return
	case resp.StatusCode != http.StatusOK:
		r.Err = fmt.Errorf("the server answered the JMAP session request with HTTP %s", resp.Status)
		return
	}
	s, err := parseSession(body)
	if err != nil {
		r.Err = err
		return
	}
	r.Answers = true
	r.Capabilities, r.Username = s.capabilities, s.username
	if api, err := sameOrigin(u, s.apiURL); err == nil {
		r.APIURL = api.String()
	} else if s.apiURL != "" {
		r.Ignored = append(r.Ignored, s.apiURL)
	}
	if password != nil {
		r.Basic, r.LoggedIn = true, true
	}
}

type session struct {
	capabilities []string
	username     string
	apiURL       string
}

// maxCapabilities bounds the capabilities kept from a session.
const maxCapabilities = 32

// parseSession reads the parts of a JMAP session object (RFC 8620 §2) the
// report shows; it must carry urn:ietf:params:jmap:core.
func parseSession(body []byte) (session, error) {
	var raw struct {
		Capabilities map[string]json.RawMessage `json:"capabilities"`
		Username     string                     `json:"username"`
		APIURL       string                     `json:"apiUrl"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return session{}, fmt.Errorf("the JMAP session is not a JSON object: %v", err)
	}
	if _, ok := raw.Capabilities[jmapCore]; !ok {
		return session{}, fmt.Errorf("the JMAP session lacks the %s capability", jmapCore)
	}
	var s session
	for k := range raw.Capabilities {
		if len(k) <= 256 && !strings.ContainsAny(k, "\x00\r\n") {
			s.capabilities = append(s.capabilities, k)
		}
	}
	slices.Sort(s.capabilities)
	if len(s.capabilities) > maxCapabilities {
		s.capabilities = s.capabilities[:maxCapabilities]
	}
	if len(raw.Username) <= 256 && !strings.ContainsAny(raw.Username, "\x00\r\n") {
		s.username = raw.Username
	}
	if len(raw.APIURL) <= maxHrefLength {
		s.apiURL = raw.APIURL
	}
	return s, nil
}

// tlsInfo describes the leaf certificate of a verified connection.
func tlsInfo(cs *tls.ConnectionState) *TLSInfo {
	if len(cs.PeerCertificates) == 0 {
		return nil
	}
	leaf := cs.PeerCertificates[0]
	sum := sha256.Sum256(leaf.Raw)
	return &TLSInfo{
		Version:  tls.VersionName(cs.Version),
		Subject:  leaf.Subject.CommonName,
		Names:    names(leaf),
		Issuer:   leaf.Issuer.CommonName,
		NotAfter: leaf.NotAfter,
		SHA256:   hex.EncodeToString(sum[:]),
	}
}

func names(c *x509.Certificate) []string {
	out := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}
