package dav

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/discover"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// finder collects candidates and lookups from concurrent goroutines.
type finder struct {
	ctx     context.Context
	opts    Options
	web     *http.Client
	mu      sync.Mutex
	cands   []Candidate
	lookups []Lookup
}

// lookup is one recorded request in progress.
type lookup struct {
	f     *finder
	i     int
	start time.Time
}

func (f *finder) begin(method, target string) lookup {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups = append(f.lookups, Lookup{Method: method, Target: target, Sent: "domain only"})
	return lookup{f: f, i: len(f.lookups) - 1, start: time.Now()}
}

func (l lookup) end(status string, err error) {
	l.f.mu.Lock()
	defer l.f.mu.Unlock()
	l.f.lookups[l.i].Finish(l.f.ctx, status, err, l.start)
}

func (l lookup) authenticated(meta netx.Meta) {
	l.f.mu.Lock()
	defer l.f.mu.Unlock()
	l.f.lookups[l.i].Authenticated = meta.Authenticated
}

// add merges a candidate by kind and URL, keeping every source.
func (f *finder) add(c Candidate) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.cands {
		if f.cands[i].Kind == c.Kind && f.cands[i].URL == c.URL {
			for _, s := range c.Sources {
				if !slices.Contains(f.cands[i].Sources, s) {
					f.cands[i].Sources = append(f.cands[i].Sources, s)
				}
			}
			if f.cands[i].Username == "" {
				f.cands[i].Username = c.Username
			}
			return
		}
	}
	f.cands = append(f.cands, c)
}

// Discover asks DNS and the domain's web server about calendars, contacts
// and JMAP, all at once, and returns the candidates in a fixed order
// (kind, then source: SRV, well-known, autoconfig; https before http) and
// the lookups in the order they were started. published are the services
// the domain's autoconfig named (discover.Result.DAV).
func Discover(ctx context.Context, opts Options, domain string) ([]Candidate, []Lookup) {
	f := &finder{ctx: ctx, opts: opts, web: wellKnownClient(opts)}
	defer f.web.CloseIdleConnections()
	var wg sync.WaitGroup
	for _, k := range []Kind{CalDAV, CardDAV} {
		wg.Go(func() { f.srv(k, domain, true) })
		wg.Go(func() { f.srv(k, domain, false) })
		wg.Go(func() { f.wellKnown(k, domain) })
	}
	wg.Go(func() { f.srv(JMAP, domain, true) })
	wg.Go(func() { f.wellKnown(JMAP, domain) })
	wg.Wait()
	return sorted(f.cands), sortedLookups(f.lookups)
}

// Published turns the services a config-v1.1 document named into
// candidates, with a lookup for each one whose URL is unusable.
func Published(published []discover.PublishedDAV) ([]Candidate, []Lookup) {
	f := &finder{}
	for _, p := range published {
		u, err := autoconfig.ParseDAVURL(p.URL)
		if err != nil {
			f.mu.Lock()
			f.lookups = append(f.lookups, Lookup{Method: MethodAutoconfig, Target: p.Source.Target, Status: discover.StatusError,
				Error: fmt.Sprintf("its %s URL is unusable: %v", Kind(p.Kind).DisplayName(), err)})
			f.mu.Unlock()
			continue
		}
		src := p.Source
		src.Method = MethodAutoconfig
		f.add(Candidate{Kind: Kind(p.Kind), URL: u.String(), Username: p.Username, Sources: []discover.Source{src}})
	}
	return sorted(f.cands), f.lookups
}

// Merge joins candidate lists, merging the sources of equal ones, in
// Discover's order.
func Merge(lists ...[]Candidate) []Candidate {
	f := &finder{}
	for _, l := range lists {
		for _, c := range l {
			c.Sources = slices.Clone(c.Sources)
			f.add(c)
		}
	}
	return sorted(f.cands)
}

// sortedLookups orders lookups by method and target: they ran at once, and
// the report lists them the same way every run.
func sortedLookups(ls []Lookup) []Lookup {
	slices.SortStableFunc(ls, func(a, b Lookup) int {
		if d := strings.Compare(a.Method, b.Method); d != 0 {
			return d
		}
		return strings.Compare(a.Target, b.Target)
	})
	return ls
}

// GuessHost proposes the mail host itself for the kinds that no source
// named: its well-known URI when it redirects, else its root.
func GuessHost(ctx context.Context, opts Options, host string, kinds []Kind) ([]Candidate, []Lookup) {
	f := &finder{ctx: ctx, opts: opts, web: wellKnownClient(opts)}
	defer f.web.CloseIdleConnections()
	var wg sync.WaitGroup
	for _, k := range kinds {
		wg.Go(func() {
			target := "https://" + host + wellKnownPath(k)
			lk := f.begin(MethodGuess, target)
			ctx, cancel := context.WithTimeout(ctx, opts.attempt())
			defer cancel()
			final, err := resolveWellKnown(ctx, f.web, target)
			src := discover.Source{Method: MethodGuess, Target: target, Trust: discover.TrustGuess}
			switch {
			case errors.Is(err, errNotFound):
				lk.end(discover.StatusNone, err)
				if k != JMAP {
					f.add(Candidate{Kind: k, URL: "https://" + host + "/", Sources: []discover.Source{src}})
				}
			case err != nil:
				lk.end("", err)
			default:
				lk.end(discover.StatusFound, nil)
				f.add(Candidate{Kind: k, URL: final, Sources: []discover.Source{src}})
			}
		})
	}
	wg.Wait()
	return sorted(f.cands), sortedLookups(f.lookups)
}

func wellKnownPath(k Kind) string { return "/.well-known/" + string(k) }

// srvName is the RFC 6764 §3 (RFC 8620 §2.2 for JMAP) service label.
func srvName(k Kind, tls bool) string {
	if k == JMAP {
		return "_jmap"
	}
	if tls {
		return "_" + string(k) + "s"
	}
	return "_" + string(k)
}

// srv asks the SRV record of a kind and, for DAV, the TXT path= record
// beside it (RFC 6764 §4). A target "." says the service is not offered.
func (f *finder) srv(k Kind, domain string, tls bool) {
	name := srvName(k, tls) + "._tcp." + domain
	lk := f.begin(MethodSRV, name)
	ctx, cancel := context.WithTimeout(f.ctx, f.opts.attempt())
	defer cancel()
	recs, meta, err := f.opts.Env.Resolver.LookupSRV(ctx, name)
	lk.authenticated(meta)
	if err != nil {
		lk.end("", err)
		return
	}
	recs = slices.DeleteFunc(recs, func(s netx.SRV) bool { return s.Target == "" || s.Target == "." || s.Port == 0 })
	if len(recs) == 0 {
		lk.end(discover.StatusNone, nil)
		return
	}
	lk.end(discover.StatusFound, nil)
	// RFC 2782: lowest priority first; equal priorities keep the answer's
	// order here, as only the first is used and all are reported.
	slices.SortStableFunc(recs, func(a, b netx.SRV) int { return int(a.Priority) - int(b.Priority) })
	trust := discover.TrustDomainDNS
	if meta.Authenticated {
		trust = discover.TrustDNSSEC
	}
	path := ""
	if k != JMAP {
		path = f.txtPath(ctx, name)
	}
	scheme := "https"
	if !tls {
		scheme = "http"
	}
	for _, r := range recs {
		host, err := autoconfig.ParseHostname(r.Target)
		if err != nil {
			continue
		}
		u := url.URL{Scheme: scheme, Host: host, Path: path}
		if (tls && r.Port != 443) || (!tls && r.Port != 80) {
			u.Host = host + ":" + strconv.Itoa(int(r.Port))
		}
		src := discover.Source{Method: MethodSRV, Target: name, Trust: trust}
		switch {
		case k == JMAP:
			u.Path = wellKnownPath(JMAP)
		case path == "" && tls:
			// No path= record: the well-known URI on the target (RFC 6764 §6,
			// step 3), where a server redirects to its context path.
			u.Path = wellKnownPath(k)
			final, err := resolveWellKnown(ctx, f.web, u.String())
			if err == nil {
				f.add(Candidate{Kind: k, URL: final, Sources: []discover.Source{src}})
				continue
			}
			u.Path = "/"
		case path == "":
			u.Path = "/"
		}
		f.add(Candidate{Kind: k, URL: canonical(u.String()), Sources: []discover.Source{src}})
	}
}

// maxPathLength bounds a TXT path= value.
const maxPathLength = 1024

// txtPath reads the path= key of the TXT records at name (RFC 6764 §4:
// "path=/dav/"), or "" when there is none usable.
func (f *finder) txtPath(ctx context.Context, name string) string {
	lk := f.begin(MethodTXT, name)
	txts, meta, err := netx.LookupTXT(ctx, f.opts.Env.Resolver, name)
	lk.authenticated(meta)
	if err != nil {
		lk.end("", err)
		return ""
	}
	for _, t := range txts {
		v, ok := strings.CutPrefix(strings.TrimSpace(t), "path=")
		if !ok {
			continue
		}
		if !strings.HasPrefix(v, "/") || len(v) > maxPathLength || strings.ContainsAny(v, "?#\\ \t\r\n") {
			lk.end(discover.StatusError, fmt.Errorf("the TXT record's path %q is not an absolute path such as path=/dav/", v))
			return ""
		}
		lk.end(discover.StatusFound, nil)
		return v
	}
	lk.end(discover.StatusNone, nil)
	return ""
}

// wellKnown GETs https://DOMAIN/.well-known/KIND (RFC 6764 §5, RFC 8620
// §2.2), following redirects under netx's rules (https only, at most
// netx.MaxRedirects, never from a public host into private space).
func (f *finder) wellKnown(k Kind, domain string) {
	target := "https://" + domain + wellKnownPath(k)
	lk := f.begin(MethodWellKnown, target)
	ctx, cancel := context.WithTimeout(f.ctx, f.opts.attempt())
	defer cancel()
	final, err := resolveWellKnown(ctx, f.web, target)
	switch {
	case errors.Is(err, errNotFound):
		lk.end(discover.StatusNone, err)
	case err != nil:
		lk.end("", err)
	default:
		lk.end(discover.StatusFound, nil)
		f.add(Candidate{Kind: k, URL: final, Sources: []discover.Source{{Method: MethodWellKnown, Target: target, Trust: discover.TrustDomainHTTPS}}})
	}
}

var errNotFound = errors.New("not published")

// wellKnownClient follows redirects under netx's rules as long as they
// come from a well-known URI, and stops at the first URL outside
// /.well-known/: that is the context path (RFC 6764 §5), and what it
// answers to a GET (Radicale sends its web interface) is no business of
// discovery.
func wellKnownClient(opts Options) *http.Client {
	c := netx.HTTPClient(opts.Env, netx.HTTPOptions{Timeout: opts.attempt()})
	inner := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !strings.HasPrefix(via[len(via)-1].URL.Path, "/.well-known/") {
			return http.ErrUseLastResponse
		}
		return inner(req, via)
	}
	return c
}

// resolveWellKnown GETs a well-known URI and returns where it led: the URL
// of the last redirect's target when there was one, else the URI itself
// when the server answers it as a DAV or JMAP resource (207, 401, or 200
// for JMAP's session). Anything else is errNotFound.
func resolveWellKnown(ctx context.Context, web *http.Client, target string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return "", err
	}
	resp, err := web.Do(req)
	if err != nil {
		if errors.Is(err, netx.ErrNoAddress) {
			return "", fmt.Errorf("%w: %w", errNotFound, netx.ErrNoAddress)
		}
		return "", err
	}
	defer resp.Body.Close()
	if _, err := netx.ReadBody(resp.Body); err != nil {
		return "", err
	}
	final := resp.Request.URL
	if final.String() != target {
		if final.Scheme != "https" {
			return "", fmt.Errorf("the redirect leads to %q, not to an https URL", final.Redacted())
		}
		final.RawQuery, final.Fragment, final.User = "", "", nil
		// The redirect's target is the context path whatever it answers
		// to a GET without a password (RFC 6764 §5).
		return canonical(final.String()), nil
	}
	switch resp.StatusCode {
	case http.StatusMultiStatus, http.StatusUnauthorized, http.StatusOK:
		return canonical(target), nil
	}
	return "", fmt.Errorf("%w: HTTP %s", errNotFound, resp.Status)
}

// canonical is a URL in the model's stored form (autoconfig.ParseDAVURL),
// or raw when it has none.
func canonical(raw string) string {
	if u, err := autoconfig.ParseDAVURL(raw); err == nil {
		return u.String()
	}
	return raw
}

// sourceRank orders the candidates' best sources.
var sourceRank = map[string]int{MethodSRV: 0, MethodWellKnown: 1, MethodAutoconfig: 2, MethodGuess: 3}

var kindRank = map[Kind]int{CalDAV: 0, CardDAV: 1, JMAP: 2}

// sorted orders candidates by kind, https first, best source, then URL,
// so that the same world gives the same list whatever answered first.
func sorted(cands []Candidate) []Candidate {
	best := func(c Candidate) int {
		r := len(sourceRank)
		for _, s := range c.Sources {
			if v, ok := sourceRank[s.Method]; ok && v < r {
				r = v
			}
		}
		return r
	}
	slices.SortStableFunc(cands, func(a, b Candidate) int {
		if d := kindRank[a.Kind] - kindRank[b.Kind]; d != 0 {
			return d
		}
		at, bt := strings.HasPrefix(a.URL, "https:"), strings.HasPrefix(b.URL, "https:")
		if at != bt {
			if at {
				return -1
			}
			return 1
		}
		if d := best(a) - best(b); d != 0 {
			return d
		}
		return strings.Compare(a.URL, b.URL)
	})
	for i := range cands {
		slices.SortStableFunc(cands[i].Sources, func(a, b discover.Source) int {
			if d := sourceRank[a.Method] - sourceRank[b.Method]; d != 0 {
				return d
			}
			return strings.Compare(a.Target, b.Target)
		})
	}
	return cands
}
