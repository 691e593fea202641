package discover

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/netx"
)

const (
	autodiscoverPath = "/autodiscover/autodiscover.xml"
	// maxAutodiscoverHops bounds redirectAddr, redirectUrl and HTTP
	// redirects together, per entry point (MS-OXDSCLI §3.1.5 says 10).
	maxAutodiscoverHops = 10
)

// autodiscover runs the four entry points of MS-OXDSCLI §3.1.5 at once:
// POST to https://DOMAIN/... and https://autodiscover.DOMAIN/..., the
// HTTP-redirect method, and the _autodiscover._tcp SRV record.
func (r *run) autodiscover() {
	d := r.addr.Domain
	if r.addr.LocalPart == "" {
		r.skip(MethodAutodiscover, d, "Autodiscover needs an e-mail address, not a bare domain")
		return
	}
	var wg sync.WaitGroup
	for _, entry := range []func(){
		func() { r.newChain(false).follow("https://"+d+autodiscoverPath, r.addr.ASCII()) },
		func() { r.newChain(false).follow("https://autodiscover."+d+autodiscoverPath, r.addr.ASCII()) },
		r.autodiscoverHTTPRedirect,
		r.autodiscoverSRV,
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			entry()
		}()
	}
	wg.Wait()
}

// autodiscoverHTTPRedirect is MS-OXDSCLI's "HTTP redirect method": a GET
// to http://autodiscover.DOMAIN/... (nothing sent but the URL) whose
// redirect target is then POSTed to, if it is https. What comes back is
// marked plain-http: anyone on the path could have chosen the target.
func (r *run) autodiscoverHTTPRedirect() {
	u := "http://autodiscover." + r.addr.Domain + autodiscoverPath
	lk := r.begin(MethodAutodiscover, u, sentNothing)
	ctx, cancel := r.attemptCtx()
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		lk.end("", err)
		return
	}
	resp, err := r.webNoRedir.Do(req)
	if err != nil {
		if errors.Is(err, netx.ErrNoAddress) {
			lk.end(StatusNone, err)
			return
		}
		lk.end("", err)
		return
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if !isRedirect(resp.StatusCode) || err != nil {
		lk.end(StatusNone, fmt.Errorf("HTTP %s, not a redirect", resp.Status))
		return
	}
	lk.end(StatusNone, fmt.Errorf("redirects to %s", loc.Redacted()))
	c := r.newChain(true)
	c.origin = req.URL.Hostname()
	c.follow(loc.String(), r.addr.ASCII())
}

// autodiscoverSRV looks up _autodiscover._tcp.DOMAIN and POSTs to the
// best target's https://TARGET[:PORT]/autodiscover/autodiscover.xml.
func (r *run) autodiscoverSRV() {
	name := "_autodiscover._tcp." + r.addr.Domain
	lk := r.begin(MethodAutodiscover, name, sentDomainOnly)
	ctx, cancel := r.attemptCtx()
	recs, meta, err := r.opts.Env.Resolver.LookupSRV(ctx, name)
	cancel()
	lk.dns(meta)
	if err != nil {
		lk.end("", err)
		return
	}
	usable, notOffered := usableSRV(recs)
	switch {
	case notOffered:
		lk.end(StatusNone, errNotOffered)
		return
	case len(usable) == 0:
		lk.end(StatusNone, nil)
		return
	}
	lk.end(StatusFound, nil)
	best := r.orderSRV(usable)[0]
	host := best.Target
	if best.Port != 443 {
		host = net.JoinHostPort(host, strconv.Itoa(int(best.Port)))
	}
	c := r.newChain(false)
	// An SRV answer without DNSSEC could have been forged on the way: the
	// chain it starts is no better than the record (RFC 6186 §6).
	c.viaUnauthenticatedDNS = !meta.Authenticated
	c.follow("https://"+host+autodiscoverPath, r.addr.ASCII())
}

// chain is one Autodiscover walk through redirects, with its hop budget
// and the (address, URL) pairs already visited.
type chain struct {
	r       *run
	viaHTTP bool
	// viaUnauthenticatedDNS: the chain began at an SRV record that DNSSEC
	// did not authenticate.
	viaUnauthenticatedDNS bool
	// origin is the host the chain began at: a chain that began outside
	// loopback and private space never follows a redirect into it.
	origin string
	hops   int
	seen   map[string]bool
}

func (r *run) newChain(viaHTTP bool) *chain {
	return &chain{r: r, viaHTTP: viaHTTP, seen: map[string]bool{}}
}

// follow POSTs the request for address to u and follows what comes back.
// It reports whether settings were found.
func (c *chain) follow(u, address string) bool {
	r := c.r
	target, err := url.Parse(u)
	switch {
	case err != nil || target.Host == "":
		r.skip(MethodAutodiscover, u, "not a usable URL")
		return false
	case target.Scheme != "https":
		r.skip(MethodAutodiscover, u, "refusing to send the address to a URL that is not https")
		return false
	case r.opts.Private && !inDomain(target.Hostname(), r.addr.Domain):
		r.skip(MethodAutodiscover, u, "private run: not following Autodiscover to another domain")
		return false
	case c.seen[address+" "+u]:
		r.skip(MethodAutodiscover, u, "redirect loop: this URL was already asked for "+address)
		return false
	case c.hops >= maxAutodiscoverHops:
		r.skip(MethodAutodiscover, u, fmt.Sprintf("more than %d Autodiscover redirects", maxAutodiscoverHops))
		return false
	case c.origin != "" && c.origin != target.Hostname() && !netx.HostIsPrivate(r.ctx, r.opts.Env.Resolver, c.origin) &&
		netx.HostIsPrivate(r.ctx, r.opts.Env.Resolver, target.Hostname()):
		r.skip(MethodAutodiscover, u, "refusing a redirect into loopback or private address space")
		return false
	}
	if c.origin == "" {
		c.origin = target.Hostname()
	}
	c.seen[address+" "+u] = true
	c.hops++

	// Credentials only to the address's own domain over https (the client
	// verifies the certificate): never to a redirect elsewhere.
	password := r.opts.AutodiscoverPassword
	if password != nil && (!inDomain(target.Hostname(), r.addr.Domain) || !r.reservePassword(r.ctx)) {
		password = nil
	}
	sent := sentAddressInBody
	if password != nil {
		sent = sentPassword
	}
	lk := r.begin(MethodAutodiscover, u, sent)
	ctx, cancel := r.attemptCtx()
	resp, location, status, err := r.postAutodiscover(ctx, u, address, password)
	cancel()
	if password != nil {
		// Without an answer the request reached the server only if it
		// timed out waiting for one; no address, a refused connection or
		// a failed handshake sent nothing.
		r.settlePassword(status != 0 || isTimeout(err), status == http.StatusUnauthorized)
	}
	switch {
	case errors.Is(err, errNotFound):
		lk.end(StatusNone, err)
		return false
	case err != nil:
		lk.end("", err)
		return false
	case location != "":
		lk.end(StatusNone, fmt.Errorf("HTTP redirect to %s", location))
		return c.follow(location, address)
	case resp.Error != nil:
		lk.end(StatusNone, resp.Error)
		return false
	}
	switch resp.Action {
	case autoconfig.ActionRedirectURL:
		lk.end(StatusNone, fmt.Errorf("redirectUrl to %s", resp.RedirectURL))
		return c.follow(resp.RedirectURL, address)
	case autoconfig.ActionRedirectAddr:
		lk.end(StatusNone, fmt.Errorf("redirectAddr to %s", resp.RedirectAddr))
		next, err := autoconfig.ParseAddress(resp.RedirectAddr)
		if err != nil {
			r.skip(MethodAutodiscover, resp.RedirectAddr, "redirectAddr is not an address: "+err.Error())
			return false
		}
		// Restart with the new address at its domain's two URLs
		// (MS-OXDSCLI §3.1.5.2); the hop budget carries over.
		for _, nu := range []string{"https://autodiscover." + next.Domain + autodiscoverPath, "https://" + next.Domain + autodiscoverPath} {
			if c.follow(nu, next.ASCII()) {
				return true
			}
		}
		return false
	}
	p, err := resp.Provider(r.addr.Domain)
	if err != nil {
		lk.end("", err)
		return false
	}
	lk.end(StatusFound, nil)
	trust := TrustThirdParty
	switch {
	case c.viaHTTP:
		trust = TrustPlainHTTP
	case inDomain(target.Hostname(), r.addr.Domain):
		trust = TrustDomainHTTPS
	case c.viaUnauthenticatedDNS:
		trust = TrustDomainDNS
	}
	r.addProvider(p, Source{Method: MethodAutodiscover, Target: u, Trust: trust})
	return true
}

// postAutodiscover sends the POX request. An HTTP redirect is returned as
// location for the caller to follow with a fresh POST (a 302 would turn a
// POST into a body-less GET).
func (r *run) postAutodiscover(ctx context.Context, u, address string, password []byte) (ad *autoconfig.AutodiscoverResponse, location string, status int, err error) {
	var body bytes.Buffer
	if _, err := autoconfig.NewAutodiscoverRequest(address).WriteTo(&body); err != nil {
		return nil, "", 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, &body)
	if err != nil {
		return nil, "", 0, err
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if password != nil {
		req.SetBasicAuth(r.addr.ASCII(), string(password))
	}
	resp, err := r.webNoRedir.Do(req)
	if err != nil {
		if errors.Is(err, netx.ErrNoAddress) {
			return nil, "", 0, fmt.Errorf("%w: %w", errNotFound, netx.ErrNoAddress)
		}
		return nil, "", 0, err
	}
	defer resp.Body.Close()
	status = resp.StatusCode
	switch {
	case isRedirect(resp.StatusCode):
		loc, err := resp.Location()
		if err != nil {
			return nil, "", status, fmt.Errorf("HTTP %s without a usable Location", resp.Status)
		}
		return nil, loc.String(), status, nil
	case resp.StatusCode == http.StatusUnauthorized && password == nil:
		return nil, "", status, fmt.Errorf("HTTP %s: the server wants a login, and the password goes to the domain's own Autodiscover only when you allow it", resp.Status)
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, "", status, fmt.Errorf("%w: HTTP %s", errNotFound, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, "", status, fmt.Errorf("HTTP %s", resp.Status)
	}
	data, err := netx.ReadBody(resp.Body)
	if err != nil {
		return nil, "", status, err
	}
	ad, err = autoconfig.ReadAutodiscoverResponse(bytes.NewReader(data))
	if err != nil {
		return nil, "", status, fmt.Errorf("not a usable Autodiscover response: %w", err)
	}
	return ad, "", status, nil
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// inDomain reports whether host is domain or below it.
func inDomain(host, domain string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	return host == domain || strings.HasSuffix(host, "."+domain)
}
