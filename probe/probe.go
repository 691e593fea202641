// Package probe finds, proves and ranks a mail provider's servers for one
// address and recommends the settings to use (mailsetup issues 4 and 5).
//
// Run starts discovery (package discover: RFC 6186/8314 SRV, Thunderbird
// autoconfig, the ISPDB, MX-based lookups, Microsoft Autodiscover
// MS-OXDSCLI, guessing), verifies every candidate as it streams in
// (package verify: TLS per RFC 8314, certificates, capabilities), logs in
// one attempt at a time in ranking order when given a password, and stops as
// soon as nothing still running could outrank what is in hand. The ranking
// keys, in order: proven with a valid certificate, IMAP over POP3, implicit
// TLS over STARTTLS (RFC 8314 §5.1), a successful login, and the source
// (the domain's autoconfig and SRV, Autodiscover, the ISPDB, MX-based, a
// guess). The Report is the documented output of `mailsetup probe --json`
// (docs/json-schema.md).
package probe

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/dav"
	"github.com/mailsetup/mailsetup/probe/discover"
	"github.com/mailsetup/mailsetup/probe/netx"
	"github.com/mailsetup/mailsetup/probe/verify"
)

// DefaultTimeout is the total budget of one probe when Options.Timeout is 0.
const DefaultTimeout = 15 * time.Second

// maxAttemptTimeout bounds one DNS question, HTTP request, check or login
// when Options.AttemptTimeout is 0: a blackholed host costs this once.
const maxAttemptTimeout = 5 * time.Second

// ErrBadInput is returned (wrapped) when the input is neither an e-mail
// address nor a domain.
var ErrBadInput = errors.New("probe: not an e-mail address or domain")

// Options configure Run.
type Options struct {
	// Env is the network: every DNS question and connection goes through it.
	Env netx.Env
	// ISPDBURL is the ISPDB's base URL; empty skips the ISPDB (the command
	// line supplies Thunderbird's public one).
	ISPDBURL string
	// Private keeps the run local to the domain: no ISPDB, no MX-derived
	// third-party lookups, no address in any URL, no password to
	// Autodiscover.
	Private bool
	// Timeout is the total budget (DefaultTimeout when 0).
	Timeout time.Duration
	// AttemptTimeout bounds each lookup, check and login; 0 means a third
	// of the budget, at most 5 s.
	AttemptTimeout time.Duration
	// Password, when not nil, is tried on the best servers, one attempt at
	// a time, at most two refused attempts per direction.
	Password []byte
	// AllowPlaintext (--allow-plaintext) lets a password go over an
	// unencrypted connection.
	AllowPlaintext bool
	// TrustCertSHA256 (--trust-cert) pins certificates that do not verify.
	TrustCertSHA256 []string
	// AutodiscoverAuth (--autodiscover-auth) sends the password to the
	// domain's own Autodiscover over valid https; never under Private.
	AutodiscoverAuth bool
	// Username is a login name the user knows; it is tried first on every
	// server (then the template, the address, the local part).
	Username string
	// TrustHosts are hosts the user confirmed for the password although
	// they lie outside the address's registrable domain and no
	// authenticated source named them (docs/password-rule.md).
	TrustHosts []string
	// Progress, when not nil, is told what happens as it happens, for a
	// live display. Calls never overlap and must not block for long.
	Progress func(Event)
	// Rand orders SRV records of equal priority (RFC 2782); nil means a
	// random seed. Tests pass a seeded one.
	Rand *rand.Rand
	// GuessDelay is the head start published sources get before guessing
	// begins anyway; 0 means discover's default (1 s).
	GuessDelay time.Duration
	// SkipDAV leaves calendars, contacts and JMAP out of the probe
	// (--services mail).
	SkipDAV bool
	// Cache, when not nil, shares discovery and checks between probes of
	// addresses at the same domain (batch runs); only logins are repeated.
	Cache *Cache
}

// EventKind says what an Event reports.
type EventKind string

const (
	EventLookup  EventKind = "lookup"  // a DNS question went out
	EventFound   EventKind = "found"   // discovery named a server
	EventChecked EventKind = "checked" // a server's check ended
	EventLogin   EventKind = "login"   // a login started or ended
)

// Event is one step of a running probe, for a live display.
type Event struct {
	Kind   EventKind
	Server autoconfig.Server
	// Text is one line for people.
	Text string
}

// Run probes input, an e-mail address or a bare domain (then no login is
// tried and usernames stay templates). The error is only for bad input; a
// probe that finds nothing returns a Report whose Status says so.
//
// Callers that already hold a parsed address use RunAddress.
func Run(ctx context.Context, opts Options, input string) (*Report, error) {
	addr, discoverAddr, err := parseInput(input)
	if err != nil {
		return nil, err
	}
	return run(ctx, opts, addr, discoverAddr)
}

// RunAddress probes a parsed address: the address travels parsed from the
// edge where it was read (issue 12), and the login tries Options.Username
// first, then the template, the address and the local part.
func RunAddress(ctx context.Context, opts Options, addr autoconfig.Address) (*Report, error) {
	return run(ctx, opts, &addr, addr)
}

func run(ctx context.Context, opts Options, addr *autoconfig.Address, discoverAddr autoconfig.Address) (*Report, error) {
	start := time.Now()
	budget := opts.Timeout
	if budget <= 0 {
		budget = DefaultTimeout
	}
	attempt := opts.AttemptTimeout
	if attempt <= 0 {
		attempt = min(budget/3, maxAttemptTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	progress := serialized(opts.Progress)
	env := opts.Env
	env.Resolver = newCachingResolver(env.Resolver, func(question string) {
		if progress != nil {
			progress(Event{Kind: EventLookup, Text: "asking DNS: " + question})
		}
	})

	vopts := verify.Options{Env: env, AllowPlaintext: opts.AllowPlaintext, TrustCertSHA256: opts.TrustCertSHA256, Timeout: attempt}
	dopts := discover.Options{
		Env:               env,
		ISPDBURL:          opts.ISPDBURL,
		Private:           opts.Private,
		GuessDelay:        opts.GuessDelay,
		Rand:              opts.Rand,
		PerAttemptTimeout: attempt,
	}
	lock := &lockout{}
	if opts.AutodiscoverAuth && !opts.Private && addr != nil {
		dopts.AutodiscoverPassword = opts.Password
		dopts.AutodiscoverLogins = autodiscoverLogins{lock}
	}
	e := &engine{
		addr:       addr,
		password:   opts.Password != nil && addr != nil,
		progress:   progress,
		knownUser:  opts.Username,
		trustHosts: normalizeHosts(opts.TrustHosts),
		reserve:    drainReserve(budget),
		lockout:    lock,
		check: func(ctx context.Context, s autoconfig.Server) checkOutcome {
			return checkOutcomeOf(verify.Check(ctx, vopts, s), vopts)
		},
		login: func(ctx context.Context, s autoconfig.Server, username string, gate func(context.Context) error) loginOutcome {
			o := vopts
			o.BeforePassword = func(ctx context.Context, _ autoconfig.Server) error { return gate(ctx) }
			r := verify.Login(ctx, o, s, username, opts.Password)
			out := loginOutcomeOf(r)
			out.withdrawn = !r.PasswordSent && (errors.Is(r.Err, errWithdrawn) || ctx.Err() != nil)
			return out
		},
		discover: func(ctx context.Context, emit func(autoconfig.Server, source)) discovered {
			res := discover.Run(ctx, dopts, discoverAddr, func(c discover.Candidate) {
				for _, s := range c.Sources {
					emit(c.Server, source{Source: Source{Method: s.Method, Target: s.Target, Trust: string(s.Trust)}})
				}
			})
			return discoveredOf(res)
		},
	}

	var davPassword []byte
	if addr != nil {
		davPassword = opts.Password
	}
	var davRun *davProbe
	if !opts.SkipDAV {
		davRun = startDAV(ctx, dav.Options{Env: env, AttemptTimeout: attempt}, discoverAddr.Domain, davPassword)
	}
	withDAV := func(r *Report) *Report {
		if davRun != nil {
			davCtx := ctx
			if dl, ok := ctx.Deadline(); ok {
				var cancel context.CancelFunc
				davCtx, cancel = context.WithDeadline(ctx, dl.Add(-e.reserve))
				defer cancel()
			}
			davRun.finish(davCtx, e, r)
		}
		if r.DAV == nil {
			r.DAV = []DAVReport{}
		}
		if r.JMAP == nil {
			r.JMAP = []DAVReport{}
		}
		r.ElapsedMS = millis(time.Since(start))
		return r
	}

	if opts.Cache != nil {
		entry, first := opts.Cache.claim(discoverAddr.Domain)
		if !first {
			select {
			case <-entry.ready:
			case <-ctx.Done():
				return nil, fmt.Errorf("probe: waiting for the probe of %s: %w", discoverAddr.Domain, ctx.Err())
			}
			e.cands, e.found = entry.snapshot()
			e.run(ctx, true)
			r := e.report(addr, discoverAddr, opts, start)
			r.Warnings = append(r.Warnings, fmt.Sprintf("The servers of %s and their checks were shared from an earlier probe in this run; the lookups listed are that probe's, and only the login was tried anew.", discoverAddr.Domain))
			return withDAV(r), nil
		}
		defer func() { entry.store(e.cands, e.found) }()
	}
	e.run(ctx, false)
	return withDAV(e.report(addr, discoverAddr, opts, start)), nil
}

// serialized makes sure calls of f never overlap: DNS questions are told
// from discovery's goroutines, everything else from the engine's loop.
func serialized(f func(Event)) func(Event) {
	if f == nil {
		return nil
	}
	var mu sync.Mutex
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		f(e)
	}
}

// timedOut reports whether err is a deadline that passed (the context's or
// the connection's).
func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.As(err, &ne) && ne.Timeout()
}

// parseInput reads an address or a bare domain. addr is nil for a domain;
// discoverAddr always holds the domain (and an empty local part for a bare
// domain, which discover treats as "no address to send").
func parseInput(input string) (addr *autoconfig.Address, discoverAddr autoconfig.Address, err error) {
	if strings.Contains(input, "@") {
		a, err := autoconfig.ParseAddress(input)
		if err != nil {
			return nil, autoconfig.Address{}, badAddress{err}
		}
		return &a, a, nil
	}
	d, err := autoconfig.ParseDomain(input)
	if err != nil {
		return nil, autoconfig.Address{}, fmt.Errorf("%w: %q: %v; give an address such as name@example.com or a domain such as example.com", ErrBadInput, input, err)
	}
	return nil, autoconfig.Address{Domain: d.ASCII, DomainUnicode: d.Unicode}, nil
}

// badAddress is ErrBadInput for an address, worded by the address parser
// alone: its message already says what is wrong and what to write.
type badAddress struct{ err error }

func (b badAddress) Error() string   { return b.err.Error() }
func (b badAddress) Unwrap() []error { return []error{ErrBadInput, b.err} }

// report assembles the Report from the engine's final state.
func (e *engine) report(addr *autoconfig.Address, discoverAddr autoconfig.Address, opts Options, start time.Time) *Report {
	for _, c := range e.cands {
		for i := range c.sources {
			c.sources[i].provider = e.found.providers[c.sources[i].Method]
		}
	}
	concl := conclude(addr, e.knownUser, discoverAddr.Domain, e.cands, e.password)
	r := &Report{
		SchemaVersion:  SchemaVersion,
		Domain:         discoverAddr.Domain,
		Status:         concl.status,
		Recommendation: concl.rec,
		Servers:        []ServerReport{},
		Lookups:        e.found.lookups,
		Disagreements:  mergeDisagreements(e.found.disagreements, concl.disagreements),
		Warnings:       append(append([]string{}, e.found.warnings...), concl.warnings...),
		Remedies:       concl.remedies,
	}
	if r.Lookups == nil {
		r.Lookups = []Lookup{}
	}
	switch {
	case e.cancelled:
		r.Status = StatusCancelled
	case e.budgetSpent && r.Recommendation == nil && r.Status == StatusNothingFound:
		r.Status = StatusTimedOut
	}
	if addr != nil {
		r.Email = addr.String()
	}
	if opts.Password != nil && addr == nil {
		r.Warnings = append(r.Warnings, "No login was tried: a bare domain has no user; probe the full address to test the password.")
	}
	if e.budgetSpent {
		skipped := 0
		for _, c := range e.cands {
			if c.check.status == checkSkipped {
				skipped++
			}
		}
		r.Warnings = append(r.Warnings, fmt.Sprintf("The time budget ran out with %d server(s) not checked; a longer one may find more.", skipped))
		r.Remedies = append(r.Remedies, Remedy{Kind: RemedyLongerTimeout})
	}
	for _, incoming := range []bool{true, false} {
		for _, c := range e.cands {
			if c.incoming() == incoming {
				s := c.serverReport()
				if e.password && s.LoginDetail == nil {
					s.LoginDetail = &LoginReport{Reason: e.whyNoLogin(c)}
					if c.unconfirmed {
						s.LoginDetail.Kind = LoginKindNotConfirmed
					}
				}
				r.Servers = append(r.Servers, s)
			}
		}
	}
	r.ElapsedMS = millis(time.Since(start))
	return r
}

// whyNoLogin says why a server got no login although a password was given.
func (e *engine) whyNoLogin(c *candidate) string {
	dir := direction(c)
	switch {
	case c.unconfirmed:
		return NotConfirmed
	case e.loginOK[dir]:
		return "not tried: another server already accepted the login, and one is enough"
	case e.blocked[dir]:
		return "not tried: the provider's refusal showed that another attempt cannot help"
	case e.lockout.refusals(dir) >= maxFailures:
		return "not tried: two logins were refused already, and more could lock the account"
	case c.tier() > tierWeak:
		return "not tried: the server was not proven safe for a password"
	}
	if e.budgetSpent {
		return "not tried: the time ran out before its turn"
	}
	return "not tried: the probe ended before its turn"
}

// mergeDisagreements keeps discovery's disagreements except those that the
// verified ones (which also say what was chosen and why) restate: a
// discovery line naming both servers of a verified one.
func mergeDisagreements(found, verified []string) []string {
	out := []string{}
	for _, f := range found {
		restated := false
		for _, v := range verified {
			hosts := hostPorts(v)
			restated = restated || len(hosts) >= 2 && strings.Contains(f, hosts[0]) && strings.Contains(f, hosts[1])
		}
		if !restated {
			out = append(out, f)
		}
	}
	return append(out, verified...)
}

// hostPorts are the "host:port" words of a sentence.
func hostPorts(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		w = strings.TrimRight(w, ",.;")
		if i := strings.LastIndexByte(w, ':'); i > 0 && i < len(w)-1 && strings.Contains(w[:i], ".") {
			out = append(out, w)
		}
	}
	return out
}

// serverReport is the candidate as the report shows it.
func (c *candidate) serverReport() ServerReport {
	s := c.check.report
	s.Protocol, s.Host, s.Port, s.Security = c.server.Protocol, c.server.Hostname, c.server.Port, c.server.Security
	s.Sources = []Source{}
	for _, src := range c.sources {
		s.Sources = append(s.Sources, src.Source)
	}
	if s.Capabilities == nil {
		s.Capabilities = []string{}
	}
	if s.AuthMechanisms == nil {
		s.AuthMechanisms = []string{}
	}
	s.Login = c.login.status
	s.LoginDetail = c.login.detail
	if c.unconfirmed {
		s.NotConfirmed = NotConfirmed
	}
	return s
}

// discoveredOf keeps what the report needs of discovery's result.
func discoveredOf(res *discover.Result) discovered {
	d := discovered{providers: res.Providers, disagreements: res.Disagreements, dav: res.DAV}
	for _, l := range res.Lookups {
		d.lookups = append(d.lookups, Lookup{Method: l.Method, Target: l.Target, Status: l.Status, Error: l.Error, ElapsedMS: millis(l.Elapsed), Sent: l.Sent})
	}
	for _, p := range res.NotOffered {
		d.warnings = append(d.warnings, fmt.Sprintf("The domain's SRV records say %s is not offered.", p.DisplayName()))
	}
	return d
}

// checkOutcomeOf judges a verification result under the options.
func checkOutcomeOf(r verify.Result, opts verify.Options) checkOutcome {
	rep := ServerReport{Reachable: r.Reachable, Capabilities: r.Capabilities, AuthMechanisms: r.AuthMechanisms, LoginDisabled: r.LoginDisabled}
	if t := r.TLS; t != nil {
		rep.TLS = &TLSReport{Valid: t.Valid, Error: t.Error, Trusted: t.Pinned, Version: t.Version, Subject: t.Subject,
			Names: t.Names, Issuer: t.Issuer, SHA256: t.SHA256}
		if !t.NotAfter.IsZero() {
			rep.TLS.NotAfter = t.NotAfter.UTC().Format(time.RFC3339)
		}
		if d := t.DANE; d != nil && d.Records > 0 {
			switch {
			case d.Authenticated && d.Match:
				rep.TLS.DANE = "match"
			case d.Authenticated && d.Usable > 0:
				rep.TLS.DANE = "mismatch"
			default:
				rep.TLS.DANE = "unauthenticated"
			}
		}
	}
	for _, f := range r.Findings {
		if f.Code != verify.FindingCertificateInvalid && f.Code != verify.FindingPlaintext {
			rep.Findings = append(rep.Findings, f.Message)
		}
	}
	safe, why := r.PasswordSafe(opts)
	out := checkOutcome{report: rep, safe: safe}
	validTLS := r.TLS != nil && (r.TLS.Valid || r.TLS.DANE != nil && r.TLS.DANE.Authenticated && r.TLS.DANE.Match)
	switch {
	case r.Err != nil:
		out.status, out.safe = checkFailed, false
		out.report.Error = netx.Words(r.Err)
	case safe && r.Server.Security != autoconfig.SecurityPlain && validTLS:
		out.status = checkPassed
	case safe:
		out.status = checkWeak
	case r.Server.Security == autoconfig.SecurityPlain || r.TLS != nil && !r.TLS.Valid && !r.HasFinding(verify.FindingDANEMismatch):
		out.status = checkInsecure
		out.report.Error = why
	default:
		out.status = checkFailed
		out.report.Error = why
	}
	return out
}

// NoAnswerInTime is the reason of a login whose password left but whose
// verdict did not come in the time left. Servers such as Dovecot wait
// seconds before answering after a wrong password, longer each time.
const NoAnswerInTime = "no answer within the time left; servers slow down after a wrong password"

// LoginKindNoAnswer is the LoginReport.Kind of such a login.
const LoginKindNoAnswer = "no-answer"

// loginOutcomeOf reads a login result: a password that went out without a
// verdict counts against the lockout like a refusal; when the time ran out
// it is reported as no answer, not as a refusal.
func loginOutcomeOf(r verify.LoginResult) loginOutcome {
	out := loginOutcome{detail: LoginReport{Reason: r.Reason, ServerText: r.ServerText, Kind: string(r.Kind), Fix: r.Fix}, kind: string(r.Kind), mechanism: r.Mechanism}
	if out.detail.Reason == "" && r.Err != nil {
		out.detail.Reason = netx.Words(r.Err)
	}
	switch {
	case r.Status == verify.LoginOK:
		out.status = LoginOK
	case r.Status == verify.LoginRejected:
		out.status = LoginFailed
		out.retry = r.Kind == verify.KindWrongPassword || r.Kind == verify.KindUnknown || r.Kind == ""
		if out.detail.Reason == "" {
			out.detail.Reason = "the server refused the username or password"
		}
	case r.PasswordSent && timedOut(r.Err):
		out.status = LoginSkipped
		out.noAnswer = true
		out.detail = LoginReport{Reason: NoAnswerInTime, Kind: LoginKindNoAnswer}
	case r.PasswordSent:
		out.status = LoginFailed
		out.retry = true
	default:
		out.status = LoginSkipped
	}
	return out
}
