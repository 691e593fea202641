package probe

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/dav"
	"github.com/mailsetup/mailsetup/probe/discover"
	"github.com/mailsetup/mailsetup/probe/netx"
	"github.com/mailsetup/mailsetup/probe/verify"
)

// DAVStatus says how far a calendar, contacts or JMAP service was proven.
type DAVStatus string

const (
	// DAVProven: the password was accepted and the principal (and its home
	// sets, or the JMAP session) read.
	DAVProven DAVStatus = "proven"
	// DAVVerified: valid TLS, and the URL answered as the kind's resource;
	// no login was tried or it was not allowed.
	DAVVerified DAVStatus = "verified"
	// DAVFailed: unreachable, invalid TLS, not such a resource, or the
	// login was refused (LoginDetail says which).
	DAVFailed DAVStatus = "failed"
	// DAVPlaintext: named by a non-TLS SRV record (_caldav, _carddav):
	// reported, never used.
	DAVPlaintext DAVStatus = "plaintext"
	// DAVNotChecked: another service of the kind was proven first, or the
	// time ran out.
	DAVNotChecked DAVStatus = "not-checked"
)

// DAVReport is one calendar (CalDAV), contacts (CardDAV) or JMAP service a
// source named, and what checking it showed.
type DAVReport struct {
	// Kind is caldav, carddav or jmap.
	Kind string `json:"kind"`
	// URL is the RFC 6764 context URL (DAV) or the session resource's URL
	// (JMAP).
	URL     string     `json:"url"`
	Sources []Source   `json:"sources"`
	Status  DAVStatus  `json:"status"`
	Error   string     `json:"error,omitempty"`
	TLS     *TLSReport `json:"tls"`
	// NotConfirmed, when set, says why no password went there (the rule of
	// the mail servers: docs/password-rule.md).
	NotConfirmed string       `json:"not_confirmed,omitempty"`
	Login        LoginStatus  `json:"login,omitempty"`
	LoginDetail  *LoginReport `json:"login_detail,omitempty"`
	// Principal is the DAV:current-user-principal URL (RFC 5397).
	Principal string `json:"principal,omitempty"`
	// HomeSets are the calendar-home-set (RFC 4791 §6.2.1) or
	// addressbook-home-set (RFC 6352 §7.1.1) URLs.
	HomeSets []string `json:"home_sets,omitempty"`
	// APIURL and Capabilities are the JMAP session's (RFC 8620 §2).
	APIURL       string   `json:"api_url,omitempty"`
	Capabilities []string `json:"capabilities,omitempty"`
}

// davProbe is the calendar, contacts and JMAP part of one run: discovery
// starts with the mail probe, checks and logins come after it, one at a
// time, under the same lockout and password rule.
type davProbe struct {
	opts  dav.Options
	start time.Time
	// ctx bounds discovery and the guess (see finish); cancel ends it.
	ctx    context.Context
	cancel context.CancelFunc
	// password is nil without one, and for a bare domain.
	password []byte
	found    chan davFound
}

type davFound struct {
	cands   []dav.Candidate
	lookups []dav.Lookup
}

// startDAV begins discovery on the domain (SRV, TXT, well-known).
func startDAV(ctx context.Context, opts dav.Options, domain string, password []byte) *davProbe {
	p := &davProbe{opts: opts, password: password, found: make(chan davFound, 1), start: time.Now()}
	p.ctx, p.cancel = context.WithCancel(ctx)
	go func() {
		cands, lookups := dav.Discover(p.ctx, opts, domain)
		p.found <- davFound{cands, lookups}
	}()
	return p
}

// minDAVGrace is the least time calendar and contacts discovery gets after
// the mail probe ended (see finish).
const minDAVGrace = time.Second

// finish waits for discovery, adds what the autoconfig documents named and,
// where no source named a kind, the recommended mail host as a guess, then
// checks every candidate in order and logs in to the first of each kind
// that the password may go to. It fills r.DAV, r.JMAP and r.Lookups.
//
// Discovery and the guess get, after the mail probe ended, as long again
// as the mail probe took (at least minDAVGrace): a domain whose web server
// accepts connections and never answers, or whose mail host drops port
// 443, must not hold a proven mail answer for a whole attempt timeout
// (issue 11), yet a provider whose DAV lookups take as long as its mail
// ones is found. Lookups cut off are recorded as cancelled. The checks and
// logins that follow are bounded by the attempt timeout and the budget, as
// the mail servers' are.
func (p *davProbe) finish(ctx context.Context, e *engine, r *Report) {
	defer p.cancel()
	grace := time.AfterFunc(max(time.Since(p.start), minDAVGrace), p.cancel)
	defer grace.Stop()
	var f davFound
	select {
	case f = <-p.found:
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			r.Warnings = append(r.Warnings, "The time ran out before the calendar and contacts lookups ended.")
		}
		return
	}
	published, bad := dav.Published(e.found.dav)
	f.lookups = append(f.lookups, bad...)
	cands := dav.Merge(f.cands, published)
	if rec := r.Recommendation; rec != nil && p.ctx.Err() == nil {
		var missing []dav.Kind
		for _, k := range []dav.Kind{dav.CalDAV, dav.CardDAV} {
			if !slices.ContainsFunc(cands, func(c dav.Candidate) bool { return c.Kind == k && strings.HasPrefix(c.URL, "https:") }) {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			guessed, lookups := dav.GuessHost(p.ctx, p.opts, rec.Incoming.Host, missing)
			cands = dav.Merge(cands, guessed)
			f.lookups = append(f.lookups, lookups...)
		}
	}
	for _, l := range f.lookups {
		r.Lookups = append(r.Lookups, Lookup{Method: l.Method, Target: l.Target, Status: l.Status, Error: l.Error, ElapsedMS: millis(l.Elapsed), Sent: l.Sent})
	}
	mailConfirmed := r.Recommendation != nil && r.Recommendation.Incoming.NotConfirmed == ""
	done := map[dav.Kind]DAVStatus{}
	prover := dav.NewProver(p.opts)
	defer prover.Close()
	for _, c := range cands {
		rep := p.check(ctx, e, prover, c, done, mailConfirmed)
		if rep.Status == DAVProven || rep.Status == DAVVerified && done[c.Kind] == "" {
			done[c.Kind] = rep.Status
		}
		if c.Kind == dav.JMAP {
			r.JMAP = append(r.JMAP, rep)
		} else {
			r.DAV = append(r.DAV, rep)
		}
	}
}

// check proves one candidate: a login when the password may go there and
// the kind is not proven yet, else a check without the password.
func (p *davProbe) check(ctx context.Context, e *engine, prover *dav.Prover, c dav.Candidate, done map[dav.Kind]DAVStatus, mailConfirmed bool) DAVReport {
	rep := DAVReport{Kind: string(c.Kind), URL: c.URL, Sources: []Source{}}
	for _, s := range c.Sources {
		rep.Sources = append(rep.Sources, Source{Method: s.Method, Target: s.Target, Trust: string(s.Trust)})
	}
	if !strings.HasPrefix(c.URL, "https:") {
		rep.Status, rep.Error = DAVPlaintext, "named by a record for plain http: reported only, mailsetup sends nothing there"
		return rep
	}
	if done[c.Kind] == DAVProven {
		rep.Status, rep.Error = DAVNotChecked, "not checked: another "+c.Kind.DisplayName()+" service was proven first"
		return rep
	}
	if ctx.Err() != nil {
		rep.Status, rep.Error = DAVNotChecked, "not checked: the time ran out"
		return rep
	}
	// The live display names the host as it does a mail server's.
	var shown autoconfig.Server
	if u, err := autoconfig.ParseDAVURL(c.URL); err == nil {
		shown = autoconfig.Server{Hostname: u.Host, Port: u.Port}
	}
	defer func() { e.emit(EventChecked, shown, "%s %s: %s", c.Kind.DisplayName(), c.URL, rep.Status) }()
	consented := e.davConsented(c, rep.Sources, mailConfirmed)
	if !consented {
		rep.NotConfirmed = NotConfirmed
	}
	var res dav.Result
	loginTried := false
	switch {
	case !e.password:
		res = prover.Check(ctx, c)
	case !consented:
		res = prover.Check(ctx, c)
		rep.Login, rep.LoginDetail = LoginSkipped, &LoginReport{Reason: NotConfirmed, Kind: LoginKindNotConfirmed}
	case e.lockout.refusals(0) >= maxFailures || !e.lockout.reserve(0):
		res = prover.Check(ctx, c)
		rep.Login, rep.LoginDetail = LoginSkipped, &LoginReport{Reason: "not tried: two logins were refused already, and more could lock the account"}
	default:
		loginTried = true
		user := e.davUsername(c)
		e.emit(EventLogin, shown, "%s login to %s as %q", c.Kind.DisplayName(), c.URL, user)
		res = prover.Login(ctx, c, user, p.password)
		noVerdict := res.PasswordSent && !res.LoggedIn && !res.Refused && timedOut(res.Err)
		e.lockout.settle(0, res.Refused || noVerdict)
		switch {
		case res.LoggedIn:
			rep.Login, rep.LoginDetail = LoginOK, &LoginReport{Username: user}
		case res.Refused:
			rep.Login, rep.LoginDetail = LoginFailed, &LoginReport{Username: user, Reason: "the server refused the username or password", ServerText: res.ServerText, Kind: string(verify.KindWrongPassword)}
		case noVerdict:
			rep.Login, rep.LoginDetail = LoginSkipped, &LoginReport{Reason: NoAnswerInTime, Kind: LoginKindNoAnswer}
		default:
			rep.Login = LoginSkipped
			if res.Err != nil {
				rep.LoginDetail = &LoginReport{Reason: netx.Words(res.Err)}
			}
		}
	}
	if t := res.TLS; t != nil {
		rep.TLS = &TLSReport{Valid: true, Version: t.Version, Subject: t.Subject, Names: t.Names, Issuer: t.Issuer,
			NotAfter: t.NotAfter.UTC().Format(time.RFC3339), SHA256: t.SHA256}
	}
	rep.Principal, rep.HomeSets = res.Principal, res.HomeSets
	rep.APIURL, rep.Capabilities = res.APIURL, res.Capabilities
	switch {
	case loginTried && res.LoggedIn && (c.Kind == dav.JMAP || len(res.HomeSets) > 0):
		rep.Status = DAVProven
	case !loginTried && res.Answers && res.Err == nil:
		rep.Status = DAVVerified
	default:
		rep.Status = DAVFailed
	}
	if res.Err != nil && rep.Status != DAVProven {
		rep.Error = netx.Words(res.Err)
	}
	return rep
}

// davConsented applies the password rule (docs/password-rule.md) to a
// DAV or JMAP URL: a host in the address's registrable domain, one the
// user confirmed, one an authenticated source named, or the mail host
// itself when the mail recommendation may receive the password.
func (e *engine) davConsented(c dav.Candidate, sources []Source, mailConfirmed bool) bool {
	if e.addr == nil {
		return true
	}
	u, err := autoconfig.ParseDAVURL(c.URL)
	if err != nil {
		return false
	}
	if registrableDomain(u.Host) == registrableDomain(e.addr.Domain) || slices.Contains(e.trustHosts, u.Host) {
		return true
	}
	for _, s := range sources {
		if s.Method == dav.MethodGuess && mailConfirmed || authenticated(davTrustSource(s)) {
			return true
		}
	}
	return false
}

// davTrustSource maps a DAV source onto the mail source whose trust rule
// it shares: the domain's https and DNSSEC-authenticated SRV count.
func davTrustSource(s Source) Source {
	if s.Method == dav.MethodAutoconfig {
		s.Method = discover.MethodAutoconfig
	}
	return s
}

// davUsername is the login name for DAV: the one a mail login proved, else
// the one the user gave, else the source's template, else the address.
func (e *engine) davUsername(c dav.Candidate) string {
	switch {
	case e.worked != "":
		return e.worked
	case e.knownUser != "":
		return e.knownUser
	case c.Username != "":
		if u := autoconfig.ExpandTemplate(c.Username, *e.addr); u != "" {
			return u
		}
	}
	return e.addr.String()
}

// davSettings are the calendar and contacts services for the settings
// model: per kind the first proven one, or, where no password was given,
// the first verified one; never one the password may not go to (a client
// set up with it would send the password there). It reads only
// JSON-visible fields.
func (r *Report) davSettings() []autoconfig.DAVService {
	var out []autoconfig.DAVService
	for _, k := range []autoconfig.DAVKind{autoconfig.CalDAV, autoconfig.CardDAV} {
		pick := -1
		for i, d := range r.DAV {
			if d.Kind != string(k) || d.NotConfirmed != "" {
				continue
			}
			if d.Status == DAVProven {
				pick = i
				break
			}
			if pick < 0 && d.Status == DAVVerified && d.Login == "" {
				pick = i
			}
		}
		if pick < 0 {
			continue
		}
		d := r.DAV[pick]
		u, err := autoconfig.ParseDAVURL(d.URL)
		if err != nil {
			continue
		}
		out = append(out, autoconfig.DAVService{Kind: k, URL: u.String(), Username: r.davUsernameTemplate(d)})
	}
	return out
}

// davUsernameTemplate is the proven login name as a template where it is
// the address or its local part, so the settings serve the whole domain.
func (r *Report) davUsernameTemplate(d DAVReport) string {
	fallback := autoconfig.PlaceholderAddress
	if rec := r.Recommendation; rec != nil && rec.Incoming.UsernameTemplate != "" {
		fallback = rec.Incoming.UsernameTemplate
	}
	if d.LoginDetail == nil || d.LoginDetail.Username == "" {
		return fallback
	}
	user := d.LoginDetail.Username
	local, _, _ := strings.Cut(r.Email, "@")
	switch {
	case strings.EqualFold(user, r.Email):
		return autoconfig.PlaceholderAddress
	case user == local:
		return autoconfig.PlaceholderLocalPart
	}
	return user
}
