package discover

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/net/publicsuffix"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// What a request carried, for Lookup.Sent.
const (
	sentDomainOnly    = "domain only"
	sentAddressInURL  = "address in URL"
	sentAddressInBody = "address in body"
	sentPassword      = "address in body, password (HTTP Basic)"
	sentNothing       = "nothing beyond the URL"
	sentConnectOnly   = "nothing: a TCP connection only"
)

// configPath is where autoconfig lives on a host.
const (
	configPath    = "/mail/config-v1.1.xml"
	wellKnownPath = "/.well-known/autoconfig/mail/config-v1.1.xml"
)

// errNotFound marks HTTP answers that mean "nothing published here".
var errNotFound = errors.New("nothing published")

// autoconfig fetches the domain's own config over https from both places
// at once and, only when neither has one, over plain http without the
// address. A host that did not answer over https in time is not asked
// again over http: a blackholed host costs one timeout, not two.
func (r *run) autoconfig() {
	d := r.addr.Domain
	query, sent := "", sentDomainOnly
	if r.addr.LocalPart != "" && !r.opts.Private {
		// QueryEscape encodes "+" and "@" and leaves "." alone, which
		// servers that split the address need (discovery.md §5.2).
		query, sent = "?emailaddress="+url.QueryEscape(r.addr.ASCII()), sentAddressInURL
	}
	places := []struct{ method, host, path string }{
		{MethodAutoconfig, "autoconfig." + d, configPath},
		{MethodWellKnown, d, wellKnownPath},
	}
	var (
		wg      sync.WaitGroup
		found   [2]bool
		timeout [2]bool
	)
	for i, pl := range places {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			found[i], err = r.fetchConfig(pl.method, "https://"+pl.host+pl.path+query, sent, TrustDomainHTTPS)
			timeout[i] = isTimeout(err)
		}()
	}
	wg.Wait()
	if found[0] || found[1] {
		return
	}
	for i, pl := range places {
		u := "http://" + pl.host + pl.path
		switch {
		case r.ctx.Err() != nil:
			r.note(MethodAutoconfigHTTP, u, StatusCancelled, "cancelled before the plain-http fallback")
		case timeout[i]:
			r.skip(MethodAutoconfigHTTP, u, "the host did not answer over https in time")
		default:
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.fetchConfig(MethodAutoconfigHTTP, u, sentDomainOnly, TrustPlainHTTP)
			}()
		}
	}
	wg.Wait()
}

// isTimeout reports whether err is a time-out rather than a refusal.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// ispdb asks the ISPDB about the domain.
func (r *run) ispdb() {
	switch {
	case r.opts.Private:
		r.skip(MethodISPDB, r.addr.Domain, "private run: the ISPDB is a third party")
	case r.opts.ISPDBURL == "":
		r.skip(MethodISPDB, r.addr.Domain, "no ISPDB URL configured")
	default:
		r.fetchConfig(MethodISPDB, ispdbURL(r.opts.ISPDBURL, r.addr.Domain), sentDomainOnly, TrustThirdParty)
	}
}

func ispdbURL(base, domain string) string {
	return strings.TrimSuffix(base, "/") + "/" + url.PathEscape(domain)
}

// mx finds the provider behind the domain's best MX host and asks the
// ISPDB and that provider's autoconfig about it (the way Thunderbird finds
// domains hosted at big providers): first the MX host minus its first label,
// then its registrable domain.
func (r *run) mx() {
	d := r.addr.Domain
	if r.opts.Private {
		r.skip(MethodMXISPDB, d, "private run: MX-derived lookups go to third parties")
		r.skip(MethodMXAutoconfig, d, "private run: MX-derived lookups go to third parties")
		return
	}
	lk := r.begin(MethodMX, d, sentDomainOnly)
	ctx, cancel := r.attemptCtx()
	mxs, meta, err := r.opts.Env.Resolver.LookupMX(ctx, d)
	cancel()
	lk.dns(meta)
	if err != nil {
		lk.end("", err)
		return
	}
	best := bestMX(mxs)
	if best == "" {
		lk.end(StatusNone, nil)
		return
	}
	lk.end(StatusFound, nil)
	domains := mxDomains(best, d)
	if len(domains) == 0 {
		r.skip(MethodMXISPDB, best, "the MX host is in the domain itself")
		return
	}
	var wg sync.WaitGroup
	for _, md := range domains {
		if r.opts.ISPDBURL != "" {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r.fetchConfig(MethodMXISPDB, ispdbURL(r.opts.ISPDBURL, md), sentDomainOnly, TrustThirdParty)
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.fetchConfig(MethodMXAutoconfig, "https://autoconfig."+md+configPath, sentDomainOnly, TrustThirdParty)
		}()
	}
	wg.Wait()
}

// bestMX is the most preferred MX host, "" for none or a null MX (RFC 7505).
func bestMX(mxs []netx.MX) string {
	best := -1
	for i, m := range mxs {
		if best < 0 || m.Pref < mxs[best].Pref {
			best = i
		}
	}
	if best < 0 || mxs[best].Host == "." || mxs[best].Host == "" {
		return ""
	}
	return strings.ToLower(mxs[best].Host)
}

// mxDomains returns the MX host minus its first label and its registrable
// domain (publicsuffix), without duplicates and without the address's own
// domain, whose settings the other methods already ask for.
func mxDomains(host, domain string) []string {
	base, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil || base == domain {
		return nil
	}
	var out []string
	if _, sub, ok := strings.Cut(host, "."); ok && sub != base && strings.HasSuffix(sub, "."+base) && sub != domain {
		out = append(out, sub)
	}
	return append(out, base)
}

// fetchConfig GETs one config-v1.1 document, records the lookup and
// proposes its servers. It reports whether it found settings, and why not.
func (r *run) fetchConfig(method, u, sent string, trust Trust) (bool, error) {
	lk := r.begin(method, u, sent)
	ctx, cancel := r.attemptCtx()
	defer cancel()
	p, dav, err := r.getConfig(ctx, u)
	switch {
	case errors.Is(err, errNotFound):
		lk.end(StatusNone, err)
		return false, err
	case err != nil:
		lk.end("", err)
		return false, err
	}
	lk.end(StatusFound, nil)
	src := Source{Method: method, Target: u, Trust: trust}
	r.addProvider(p, src)
	r.addDAV(p, dav, src)
	return true, nil
}

// addDAV keeps the calendar and contacts services a document named: the
// model's own (once autoconfig.ReadConfig reads them) or those davElements
// found.
func (r *run) addDAV(p *autoconfig.Provider, found []PublishedDAV, src Source) {
	if len(p.DAV) > 0 {
		found = nil
		for _, s := range p.DAV {
			found = append(found, PublishedDAV{Kind: s.Kind, URL: s.URL, Username: s.Username})
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range found {
		d.Source = src
		r.dav = append(r.dav, d)
	}
}

func (r *run) getConfig(ctx context.Context, u string) (*autoconfig.Provider, []PublishedDAV, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := r.web.Do(req)
	if err != nil {
		if errors.Is(err, netx.ErrNoAddress) {
			return nil, nil, fmt.Errorf("%w: %w", errNotFound, netx.ErrNoAddress)
		}
		return nil, nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, nil, fmt.Errorf("%w: HTTP %s", errNotFound, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	body, err := netx.ReadBody(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	p, _, err := autoconfig.ReadConfig(bytes.NewReader(body))
	if err != nil {
		return nil, nil, fmt.Errorf("the document is not a usable autoconfig file: %w", err)
	}
	return p, davElements(body), nil
}
