// Package discover finds the candidate mail servers for an address by every
// method mail clients use, all at once, within the caller's context:
//
//   - DNS SRV records (RFC 6186, RFC 8314 §5.1; selection per RFC 2782);
//   - Thunderbird autoconfig on the domain (autoconfig.DOMAIN and
//     /.well-known/autoconfig, draft-ietf-mailmaint-autoconfig), over https,
//     and over plain http only as a last resort;
//   - the ISPDB (Thunderbird's provider database), sent the domain only;
//   - the MX hosts' registrable domain (publicsuffix) asked of the ISPDB and
//     of its own autoconfig, which finds domains hosted at big providers;
//   - Microsoft Autodiscover POX (MS-OXDSCLI): POST to both URLs, the
//     HTTP-redirect method and _autodiscover._tcp SRV, following
//     redirectAddr and redirectUrl;
//   - guessing the usual host names on the standard ports, once the
//     published sources came back empty or after a short head start.
//
// Discovery proposes; it proves nothing beyond "this was published" or
// "this port answers". probe/verify proves each candidate and package probe
// ranks them. Every outbound request is recorded as a Lookup with what it
// carried, and every candidate with the sources that named it and how far
// each can be trusted.
package discover

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// Methods, as Source.Method and Lookup.Method spell them.
const (
	MethodSRV            = "srv"
	MethodAutoconfig     = "autoconfig"      // https://autoconfig.DOMAIN/mail/config-v1.1.xml
	MethodWellKnown      = "well-known"      // https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml
	MethodAutoconfigHTTP = "autoconfig-http" // both of the above over plain http
	MethodISPDB          = "ispdb"
	MethodMX             = "mx" // the MX query itself (Lookup only)
	MethodMXISPDB        = "mx-ispdb"
	MethodMXAutoconfig   = "mx-autoconfig"
	MethodAutodiscover   = "autodiscover"
	MethodGuess          = "guess"
)

// methodRank orders sources from the domain's own, authenticated
// publications to guesses; Result.Candidates are sorted by it within each
// protocol, so a caller that reads them in order sees the best-founded first.
var methodRank = map[string]int{
	MethodSRV:            0,
	MethodAutoconfig:     1,
	MethodWellKnown:      2,
	MethodAutodiscover:   3,
	MethodISPDB:          4,
	MethodMXISPDB:        5,
	MethodMXAutoconfig:   6,
	MethodAutoconfigHTTP: 7,
	MethodGuess:          8,
}

// Trust says how far a source can be believed.
type Trust string

const (
	// TrustDomainHTTPS: published by the domain itself over https with a
	// valid certificate.
	TrustDomainHTTPS Trust = "domain-https"
	// TrustDNSSEC: an SRV answer the (loopback) resolver authenticated.
	TrustDNSSEC Trust = "dnssec"
	// TrustDomainDNS: the domain's own SRV records, not authenticated.
	TrustDomainDNS Trust = "domain-dns"
	// TrustPlainHTTP: fetched over plain http, or reached through a plain
	// http redirect: anyone on the path could have written it.
	TrustPlainHTTP Trust = "plain-http"
	// TrustThirdParty: the ISPDB, the MX host's provider, or an
	// Autodiscover server outside the domain.
	TrustThirdParty Trust = "third-party"
	// TrustGuess: a usual host name whose port answered.
	TrustGuess Trust = "guess"
)

// Lookup statuses.
const (
	StatusFound     = "found"
	StatusNone      = "none"
	StatusError     = "error"
	StatusSkipped   = "skipped"
	StatusCancelled = "cancelled"
)

// Source is one method that named a candidate.
type Source struct {
	Method string `json:"method"`
	// Target is what was asked: a DNS name, a URL or host:port.
	Target string `json:"target"`
	Trust  Trust  `json:"trust"`
}

// Candidate is a server some method proposed, with every source that
// named it. Server carries the first source's username template and
// authentication methods; sources that add none of their own are only
// listed.
type Candidate struct {
	Server  autoconfig.Server `json:"server"`
	Sources []Source          `json:"sources"`
}

// Key is what candidates are merged by: protocol, host, port, security.
func (c Candidate) Key() string {
	return fmt.Sprintf("%s %s:%d %s", c.Server.Protocol, strings.ToLower(c.Server.Hostname), c.Server.Port, c.Server.Security)
}

// Lookup is one outbound request or DNS question and its outcome.
type Lookup struct {
	Method string `json:"method"`
	Target string `json:"target"`
	// Status is found, none, error, skipped or cancelled.
	Status string `json:"status"`
	// Error is the failure, or why nothing came of the lookup (an SRV
	// "not offered" answer, a 404, the reason it was skipped).
	Error   string        `json:"error,omitempty"`
	Elapsed time.Duration `json:"elapsed"`
	// Sent says what the request carried beyond the target's own name:
	// "domain only", "address in URL", "address in body", ...
	Sent string `json:"sent,omitempty"`
	// Authenticated is set on DNS lookups whose answer carried the AD bit
	// from a resolver on loopback (RFC 4035 §4.9.3; see netx.Meta).
	Authenticated bool `json:"authenticated,omitempty"`
}

// Result is everything discovery learnt.
type Result struct {
	// Candidates, merged by Candidate.Key, ordered by protocol (IMAP, POP3,
	// SMTP), then by their best source (SRV, autoconfig, well-known,
	// Autodiscover, ISPDB, MX-based, plain http, guess), then by the order
	// that source gave (RFC 2782 selection for SRV, document order for
	// XML), implicit TLS first among equals.
	Candidates []Candidate
	// Lookups in the order they were started.
	Lookups []Lookup
	// Providers holds the full settings each XML source published, keyed by
	// method (the first one found per method), so username templates,
	// authentication, POP3 options and documentation links reach the
	// recommendation.
	Providers map[string]*autoconfig.Provider
	// NotOffered lists protocols the domain's SRV records declare
	// unavailable: every SRV service of the protocol has target ".".
	NotOffered []autoconfig.Protocol
	// DAV are the calendar and contacts services the config-v1.1
	// documents named, in the order they arrived.
	DAV []PublishedDAV
	// Disagreements describe, in a sentence each, where sources prefer
	// different servers for a protocol and which one the rest support.
	Disagreements []string
}

// Options configure Run.
type Options struct {
	// Env is the network: every DNS question and connection goes through it.
	Env netx.Env
	// ISPDBURL is the ISPDB's base URL; the domain is appended as a path
	// element ("https://autoconfig.thunderbird.net/v1.1" gives
	// ".../v1.1/example.com"). Empty skips the ISPDB: this package has no
	// default, the command line supplies Thunderbird's.
	ISPDBURL string
	// Private keeps the run local to the domain: no ISPDB, no MX-derived
	// lookups, no address in any URL, no Autodiscover redirect to another
	// domain and never credentials.
	Private bool
	// AutodiscoverPassword, when not nil, is sent (HTTP Basic, with the
	// address as user name) to Autodiscover endpoints inside the address's
	// own domain over https with a valid certificate, and nowhere else.
	// Ignored when Private is set. It goes to at most
	// MaxAutodiscoverPasswords requests in a run, however the endpoints
	// redirect.
	AutodiscoverPassword []byte
	// AutodiscoverLogins, when not nil, is asked before the password goes
	// to an Autodiscover endpoint and told whether it was refused (HTTP
	// 401): on Exchange-style providers those refusals count against the
	// same lockout as the IMAP and POP3 logins, so the prober counts them
	// in the incoming direction's refusals.
	AutodiscoverLogins LoginBudget
	// GuessDelay is the head start the published sources get before
	// guessing begins anyway; 0 means 1 s, a negative value none.
	GuessDelay time.Duration
	// Rand orders SRV records of equal priority by weight (RFC 2782); nil
	// means a random seed. Tests pass a seeded one.
	Rand *rand.Rand
	// PerAttemptTimeout bounds each DNS question, HTTP request and
	// connection attempt; 0 means 5 s.
	PerAttemptTimeout time.Duration
}

const (
	defaultGuessDelay = time.Second
	defaultTimeout    = 5 * time.Second
)

// run is the state of one Run, shared by the method goroutines.
type run struct {
	ctx   context.Context
	opts  Options
	addr  autoconfig.Address
	found func(Candidate)

	web        *http.Client // follows redirects, never from https to http
	webNoRedir *http.Client // returns redirects, for Autodiscover

	randMu sync.Mutex

	mu         sync.Mutex
	cands      map[string]*candidate
	lookups    []Lookup
	providers  map[string]*autoconfig.Provider
	notOffered map[string]bool // SRV service names answered with "."
	dav        []PublishedDAV
	// passwordsSent counts the Autodiscover requests that delivered the
	// password (at most MaxAutodiscoverPasswords), passwordsOut those on
	// their way; passwordsChanged closes when either changes.
	passwordsSent, passwordsOut int
	passwordsChanged            chan struct{}
}

// LoginBudget shares the refusals a provider's lockout counts between
// discovery and the prover's logins.
type LoginBudget interface {
	// Reserve reports whether a password may go out now; each true must
	// be followed by one Settle.
	Reserve() bool
	// Settle says how the reserved attempt ended.
	Settle(refused bool)
}

// MaxAutodiscoverPasswords bounds the Autodiscover requests of one run that
// carry the password: a redirect loop inside the domain must not repeat it.
const MaxAutodiscoverPasswords = 2

// reservePassword reports whether the next Autodiscover request may carry
// the password; each true must be followed by settlePassword. While others
// are on their way and could use up the allowance it waits for them: a
// request that never reached its server (no address, refused) gives its
// place back, so which endpoint answers first does not decide which one
// gets the password.
func (r *run) reservePassword(ctx context.Context) bool {
	for {
		r.mu.Lock()
		if r.passwordsSent >= MaxAutodiscoverPasswords {
			r.mu.Unlock()
			return false
		}
		if r.passwordsSent+r.passwordsOut < MaxAutodiscoverPasswords {
			if b := r.opts.AutodiscoverLogins; b != nil && !b.Reserve() {
				r.mu.Unlock()
				return false
			}
			r.passwordsOut++
			r.mu.Unlock()
			return true
		}
		if r.passwordsChanged == nil {
			r.passwordsChanged = make(chan struct{})
		}
		changed := r.passwordsChanged
		r.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		}
	}
}

// settlePassword ends a reservation: sent says the request reached the
// server, refused that it answered 401.
func (r *run) settlePassword(sent, refused bool) {
	r.mu.Lock()
	r.passwordsOut--
	if sent {
		r.passwordsSent++
	}
	if r.passwordsChanged != nil {
		close(r.passwordsChanged)
		r.passwordsChanged = nil
	}
	r.mu.Unlock()
	if b := r.opts.AutodiscoverLogins; b != nil {
		b.Settle(sent && refused)
	}
}

// candidate is a Candidate with its position for sorting.
type candidate struct {
	Candidate
	rank  int // best method rank among its sources
	order int // position within that source's list
}

// Run discovers candidates for addr by every method at once and returns
// when all have finished. Every method honours ctx, so once ctx is done Run
// returns as soon as the methods have noticed; lookups cut short are
// recorded as cancelled. found, when not nil, is called as soon
// as a candidate appears or gains a source, with a copy; calls never
// overlap and found must not block for long. addr may be a bare domain
// (empty LocalPart): then no address is sent anywhere and Autodiscover,
// which needs one, is skipped.
func Run(ctx context.Context, opts Options, addr autoconfig.Address, found func(Candidate)) *Result {
	if opts.GuessDelay == 0 {
		opts.GuessDelay = defaultGuessDelay
	}
	if opts.PerAttemptTimeout <= 0 {
		opts.PerAttemptTimeout = defaultTimeout
	}
	if opts.Rand == nil {
		opts.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if opts.Private {
		opts.AutodiscoverPassword = nil
	}
	r := &run{
		ctx: ctx, opts: opts, addr: addr, found: found,
		web:        netx.HTTPClient(opts.Env, netx.HTTPOptions{Timeout: opts.PerAttemptTimeout}),
		webNoRedir: netx.HTTPClient(opts.Env, netx.HTTPOptions{Timeout: opts.PerAttemptTimeout, NoRedirects: true}),
		cands:      map[string]*candidate{},
		providers:  map[string]*autoconfig.Provider{},
		notOffered: map[string]bool{},
	}
	defer r.web.CloseIdleConnections()
	defer r.webNoRedir.CloseIdleConnections()

	var published sync.WaitGroup
	srvDone := make(chan struct{})
	published.Add(1)
	go func() {
		defer published.Done()
		defer close(srvDone)
		r.srv()
	}()
	for _, method := range []func(){r.autoconfig, r.ispdb, r.mx, r.autodiscover} {
		published.Add(1)
		go func() {
			defer published.Done()
			method()
		}()
	}
	publishedDone := make(chan struct{})
	go func() {
		published.Wait()
		close(publishedDone)
	}()
	guessDone := make(chan struct{})
	go func() {
		defer close(guessDone)
		r.guess(srvDone, publishedDone)
	}()
	<-publishedDone
	<-guessDone
	return r.result()
}

// pending is a lookup under way.
type pending struct {
	r     *run
	i     int
	start time.Time
}

// begin records the start of a lookup.
func (r *run) begin(method, target, sent string) pending {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups = append(r.lookups, Lookup{Method: method, Target: target, Sent: sent})
	return pending{r: r, i: len(r.lookups) - 1, start: time.Now()}
}

// end records the outcome (Lookup.Finish).
func (p pending) end(status string, err error) {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	p.r.lookups[p.i].Finish(p.r.ctx, status, err, p.start)
}

// Finish records a lookup's outcome and how long it took since start.
// Status "" decides from err: found when it is nil, cancelled when ctx is
// done, error otherwise; the error is kept in words (netx.Words).
func (l *Lookup) Finish(ctx context.Context, status string, err error, start time.Time) {
	if status == "" {
		switch {
		case err == nil:
			status = StatusFound
		case ctx.Err() != nil:
			status = StatusCancelled
		default:
			status = StatusError
		}
	}
	l.Status, l.Elapsed = status, time.Since(start)
	if err != nil {
		l.Error = netx.Words(err)
	}
}

// dns records whether a DNS answer was authenticated.
func (p pending) dns(meta netx.Meta) {
	p.r.mu.Lock()
	defer p.r.mu.Unlock()
	p.r.lookups[p.i].Authenticated = meta.Authenticated
}

// skip records a lookup that was not made, and why.
func (r *run) skip(method, target, why string) { r.note(method, target, StatusSkipped, why) }

// note records a lookup that was not made with its status and reason.
func (r *run) note(method, target, status, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lookups = append(r.lookups, Lookup{Method: method, Target: target, Status: status, Error: why})
}

// add merges one server named by src, order being its position in that
// source's list, and tells the caller.
func (r *run) add(s autoconfig.Server, src Source, order int) {
	if !s.Protocol.IsMail() || !s.Security.Valid() || s.Hostname == "" || s.Port <= 0 || s.Port > 65535 {
		return
	}
	s.Hostname = strings.TrimSuffix(strings.ToLower(s.ExpandHostname(r.addr)), ".")
	rank := methodRank[src.Method]
	r.mu.Lock()
	defer r.mu.Unlock()
	key := Candidate{Server: s}.Key()
	c, ok := r.cands[key]
	switch {
	case !ok:
		c = &candidate{Candidate: Candidate{Server: s}, rank: rank, order: order}
		r.cands[key] = c
	case slices.Contains(c.Sources, src):
		return
	default:
		if c.Server.Username == "" {
			c.Server.Username = s.Username
		}
		if len(c.Server.Auth) == 0 {
			c.Server.Auth = s.Auth
		}
		if c.Server.POP3 == nil {
			c.Server.POP3 = s.POP3
		}
		if rank < c.rank || (rank == c.rank && order < c.order) {
			c.rank, c.order = rank, order
		}
	}
	// Keep sources in method order so results do not depend on timing.
	i, _ := slices.BinarySearchFunc(c.Sources, rank, func(s Source, rank int) int { return methodRank[s.Method] - rank })
	for i < len(c.Sources) && methodRank[c.Sources[i].Method] == rank {
		i++
	}
	c.Sources = slices.Insert(c.Sources, i, src)
	if r.found != nil {
		r.found(c.snapshot())
	}
}

func (c *candidate) snapshot() Candidate {
	out := c.Candidate
	out.Server = cloneServer(c.Server)
	out.Sources = slices.Clone(c.Sources)
	return out
}

func cloneServer(s autoconfig.Server) autoconfig.Server {
	s.Auth = slices.Clone(s.Auth)
	if s.POP3 != nil {
		p := *s.POP3
		s.POP3 = &p
	}
	return s
}

// addProvider records a source's full settings and proposes its servers.
func (r *run) addProvider(p *autoconfig.Provider, src Source) {
	r.mu.Lock()
	if _, ok := r.providers[src.Method]; !ok {
		r.providers[src.Method] = p
	}
	r.mu.Unlock()
	for i, s := range p.Incoming {
		r.add(s, src, i)
	}
	for i, s := range p.Outgoing {
		r.add(s, src, i)
	}
}

// hasCandidates reports whether a published source named a server of any
// of protos.
func (r *run) hasCandidates(protos ...autoconfig.Protocol) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.cands {
		if slices.Contains(protos, c.Server.Protocol) {
			return true
		}
	}
	return false
}

func (r *run) result() *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	cands := make([]*candidate, 0, len(r.cands))
	for _, c := range r.cands {
		cands = append(cands, c)
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.Server.Protocol != b.Server.Protocol {
			return a.Server.Protocol.Preference() < b.Server.Protocol.Preference()
		}
		if a.rank != b.rank {
			return a.rank < b.rank
		}
		if a.order != b.order {
			return a.order < b.order
		}
		if a.Server.Security != b.Server.Security {
			return a.Server.Security.Preference() < b.Server.Security.Preference()
		}
		return a.Key() < b.Key()
	})
	res := &Result{
		Lookups:   slices.Clone(r.lookups),
		Providers: r.providers,
		DAV:       slices.Clone(r.dav),
	}
	for _, c := range cands {
		res.Candidates = append(res.Candidates, c.snapshot())
	}
	for _, proto := range []autoconfig.Protocol{autoconfig.IMAP, autoconfig.POP3, autoconfig.SMTP} {
		all := true
		for _, svc := range autoconfig.Services() {
			if svc.Protocol == proto && !r.notOffered[srvLabel(svc)] {
				all = false
			}
		}
		if all {
			res.NotOffered = append(res.NotOffered, proto)
		}
	}
	res.Disagreements = disagreements(res.Candidates)
	return res
}

// disagreements compares, per protocol, the server each source puts first.
// Where two or more differ it names them and the candidate the other
// sources (including a guess that answered) also name.
func disagreements(cands []Candidate) []string {
	var out []string
	for _, proto := range []autoconfig.Protocol{autoconfig.IMAP, autoconfig.POP3, autoconfig.SMTP} {
		first := map[string]string{} // method -> key of its first candidate
		var methods []string
		named := map[string][]string{} // key -> methods naming it anywhere
		for _, c := range cands {
			if c.Server.Protocol != proto {
				continue
			}
			for _, s := range c.Sources {
				if !slices.Contains(named[c.Key()], s.Method) {
					named[c.Key()] = append(named[c.Key()], s.Method)
				}
				if s.Method == MethodGuess {
					continue
				}
				if _, ok := first[s.Method]; !ok {
					first[s.Method] = c.Key()
					methods = append(methods, s.Method)
				}
			}
		}
		distinct := map[string]bool{}
		for _, k := range first {
			distinct[k] = true
		}
		if len(distinct) < 2 {
			continue
		}
		sort.Slice(methods, func(i, j int) bool { return methodRank[methods[i]] < methodRank[methods[j]] })
		var (
			keys      []string
			preferers = map[string][]string{}
		)
		for _, m := range methods {
			k := first[m]
			if preferers[k] == nil {
				keys = append(keys, k)
			}
			preferers[k] = append(preferers[k], m)
		}
		var prefs []string
		for _, k := range keys {
			verb := "prefers"
			if len(preferers[k]) > 1 {
				verb = "prefer"
			}
			prefs = append(prefs, fmt.Sprintf("%s %s %s", strings.Join(preferers[k], " and "), verb, serverText(k)))
		}
		// The best-supported of the preferred servers: named by the most
		// sources overall.
		best, bestN := "", 0
		for _, k := range keys {
			if n := len(named[k]); n > bestN {
				best, bestN = k, n
			}
		}
		line := fmt.Sprintf("%s: %s", proto.DisplayName(), strings.Join(prefs, "; "))
		if bestN > 1 {
			line += fmt.Sprintf("; the evidence supports %s, named by %s", serverText(best), strings.Join(named[best], ", "))
		}
		out = append(out, line)
	}
	return out
}

// serverText turns a Candidate.Key back into "host:port (security)".
func serverText(key string) string {
	f := strings.Fields(key)
	if len(f) != 3 {
		return key
	}
	return fmt.Sprintf("%s (%s)", f[1], f[2])
}

// attemptCtx bounds one attempt by the per-attempt timeout.
func (r *run) attemptCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.ctx, r.opts.PerAttemptTimeout)
}
