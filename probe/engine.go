package probe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/discover"
)

// maxChecks bounds the checks in flight at once: enough that every
// published candidate of a domain is checked together, few enough that a
// domain with dozens of guesses does not open dozens of connections.
const maxChecks = 16

// maxDrainReserve bounds the part of the budget kept back at its end for
// reports of work that was stopped: the work's own deadline comes that much
// earlier, so that honest workers report in and the engine still returns by
// the caller's deadline, whatever a worker that ignores its context does
// (--timeout is a hard bound).
const maxDrainReserve = 500 * time.Millisecond

// drainReserve is the reserve for a budget: a tenth of it, at most
// maxDrainReserve.
func drainReserve(budget time.Duration) time.Duration {
	return min(budget/10, maxDrainReserve)
}

// discovered is what discovery adds to the report besides candidates.
type discovered struct {
	providers     map[string]*autoconfig.Provider
	lookups       []Lookup
	disagreements []string
	warnings      []string
	// dav are the calendar and contacts services the autoconfig documents
	// named.
	dav []discover.PublishedDAV
}

// checkOutcome is a verification result in the engine's terms.
type checkOutcome struct {
	status checkStatus
	// report holds the verification fields of the server's report.
	report ServerReport
	// safe says whether a password may be sent there under the options.
	safe bool
}

// loginOutcome is one login attempt in the engine's terms.
type loginOutcome struct {
	status LoginStatus // ok, failed (refused) or skipped (not attempted)
	// withdrawn is set when the engine itself called the attempt off at
	// the gate, before any password left: it does not count.
	withdrawn bool
	detail    LoginReport
	// kind is verify's refusal kind (wrong-password, app-password-required, ...).
	kind string
	// noAnswer is set when the password left but no verdict came back in
	// the time left: it counts against the lockout, yet it is no refusal.
	noAnswer bool
	// mechanism is how the password went (PLAIN, LOGIN, USER) when it was
	// accepted.
	mechanism string
	// retry is false when another username or server cannot help (the
	// provider wants an app password, OAuth2, a web login).
	retry bool
}

// engine runs one probe: discovery streams candidates in, every candidate is
// checked as it arrives (in parallel, bounded), logins send their password
// one at a time in ranking order, and everything stops as soon as nothing
// that is still running could outrank what is in hand. All state is owned by
// the loop goroutine; workers only send messages.
//
// Logins are prepared early, for the leading few servers of each direction
// (maxPrepared): their connection, TLS and greeting run while checks run,
// and each waits at a gate (verify's BeforePassword) until the loop lets its
// password go: when it is first in ranking order, its server is proven,
// nothing pending could outrank it and no other password is on the way. So
// the incoming and outgoing logins cost one round trip each on the critical
// path, not a whole connection each, and a dead first server does not delay
// the second.
type engine struct {
	addr     *autoconfig.Address // nil for a bare domain
	password bool
	progress func(Event)
	// knownUser is the login name the caller knows (--username), tried
	// first everywhere.
	knownUser string
	// trustHosts are the hosts the user confirmed for the password
	// although no authenticated source named them (see consented).
	trustHosts []string
	// reserve is kept back at the end of the caller's deadline: the work
	// stops that much earlier so the engine returns by the deadline.
	reserve time.Duration

	discover func(ctx context.Context, emit func(autoconfig.Server, source)) discovered
	check    func(ctx context.Context, s autoconfig.Server) checkOutcome
	// login tries one username; it calls gate right before the password
	// would leave and sends nothing if gate returns an error.
	login func(ctx context.Context, s autoconfig.Server, username string, gate func(context.Context) error) loginOutcome

	cands       []*candidate
	byKey       map[serverKey]*candidate
	queue       []*candidate
	running     int
	cancels     map[*candidate]context.CancelFunc
	discovering bool
	stopped     bool
	// preparing are the logins in flight, with their cancel functions.
	preparing map[*candidate]context.CancelFunc
	// sending holds the password slot; gates are logins waiting for it.
	sending *candidate
	gates   map[*candidate]chan error
	// msgs carries workers' messages to the loop until loopDone closes.
	msgs     chan any
	loopDone chan struct{}
	loginOK  [2]bool
	// lockout counts refused passwords per direction, Autodiscover's
	// included; nil until run makes one.
	lockout *lockout
	blocked [2]bool
	worked  string // a username that logged in somewhere
	// start is when run began.
	start time.Time
	// deadlineEvents are when the work's deadline passed and when the loop
	// left: tests read them instead of a clock.
	deadlineEvents []string
	found          discovered
	budgetSpent    bool
	// cancelled is set when the caller's context ended the run before
	// the budget did.
	cancelled bool
}

// direction indexes incoming (0) and outgoing (1).
func direction(c *candidate) int {
	if c.incoming() {
		return 0
	}
	return 1
}

// maxFailures is the most refused logins per direction in one run, so a
// probe never trips a provider's lockout.
const maxFailures = 2

type msgFound struct {
	server autoconfig.Server
	src    source
}
type msgDiscovered struct{ d discovered }
type msgChecked struct {
	c   *candidate
	out checkOutcome
	cut bool // the check's context ended before it did
	// cancelled says the caller cancelled the run's context (not its
	// deadline) by the time the check returned.
	cancelled bool
}
type msgLoggedIn struct {
	c    *candidate
	user string
	out  loginOutcome
}

// msgWake asks the loop to look at the gates again: a head start ended.
type msgWake struct{}

// minSourceHeadStart is the least head start the better sources get over
// a proven server of the best class from a lesser one (see settled).
const minSourceHeadStart = time.Second

// msgLockout says a reservation of the lockout ended (an Autodiscover
// request with the password): a login waiting at its gate may go now.
type msgLockout struct{}

type msgGate struct {
	c     *candidate
	reply chan error
}

// errWithdrawn ends a prepared login at the gate: another server ranks
// above it now, or the probe is over. Nothing was sent.
var errWithdrawn = errors.New("probe: login withdrawn before the password was sent")

// run probes until the work is done or ctx ends. With cached set it skips
// discovery and checks and only logs in.
func (e *engine) run(ctx context.Context, cached bool) {
	hard := ctx
	if dl, ok := ctx.Deadline(); ok && e.reserve > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-e.reserve))
		defer cancel()
	}
	if e.lockout == nil {
		e.lockout = &lockout{}
	}
	e.start = time.Now()
	e.byKey = map[serverKey]*candidate{}
	e.cancels = map[*candidate]context.CancelFunc{}
	e.gates = map[*candidate]chan error{}
	e.preparing = map[*candidate]context.CancelFunc{}
	for _, c := range e.cands {
		e.byKey[keyOf(c.server)] = c
		// Candidates shared from an earlier probe (Cache) are judged
		// under this run's address and confirmed hosts.
		c.unconfirmed = !e.consented(c)
	}
	msgs := make(chan any)
	loopDone := make(chan struct{})
	defer close(loopDone)
	e.msgs, e.loopDone = msgs, loopDone
	send := e.send
	e.lockout.mu.Lock()
	e.lockout.changed = func() { send(msgLockout{}) }
	e.lockout.mu.Unlock()
	defer func() {
		e.lockout.mu.Lock()
		e.lockout.changed = nil
		e.lockout.mu.Unlock()
	}()
	var workers sync.WaitGroup
	abandoned := false
	defer func() {
		// A loop that ended on its own has had every worker's last
		// message, so this returns at once. One that gave up at the
		// caller's deadline must not wait: a worker that ignores its
		// context would hold the probe for ever, whether the budget ran
		// out or the caller cancelled (Ctrl-C, a batch being stopped).
		if !abandoned {
			workers.Wait()
		}
	}()

	discoverCtx, stopDiscovery := context.WithCancel(ctx)
	defer stopDiscovery()
	if !cached {
		e.discovering = true
		workers.Add(1)
		go func() {
			defer workers.Done()
			d := e.discover(discoverCtx, func(s autoconfig.Server, src source) {
				select {
				case msgs <- msgFound{s, src}:
				case <-discoverCtx.Done():
				case <-loopDone:
				}
			})
			send(msgDiscovered{d})
		}()
	}
	var grace <-chan struct{}
	budget := ctx.Done()
	e.schedule(ctx, send, &workers)
	for e.discovering || e.running > 0 || len(e.preparing) > 0 {
		var m any
		select {
		case m = <-msgs:
		case <-budget:
			// Everything running sees the same context and ends now; wait
			// for their reports until the caller's own deadline (the
			// reserve), not a moment longer.
			e.budgetSpent = ctx.Err() == context.DeadlineExceeded && hard.Err() != context.Canceled
			e.cancelled = !e.budgetSpent
			e.deadlineEvents = append(e.deadlineEvents, "work deadline")
			budget, grace = nil, hard.Done()
			continue
		case <-grace:
			e.deadlineEvents = append(e.deadlineEvents, "abandoned at the caller's deadline")
			abandoned = true
			e.finish()
			return
		}
		switch m := m.(type) {
		case msgFound:
			e.onFound(m.server, m.src)
		case msgDiscovered:
			e.discovering = false
			e.found = m.d
		case msgChecked:
			e.onChecked(m)
		case msgLoggedIn:
			e.onLoggedIn(m)
		case msgGate:
			e.gates[m.c] = m.reply
		}
		if e.stopped {
			continue
		}
		if e.done() {
			e.stopped = true
			stopDiscovery()
			for _, cancel := range e.cancels {
				cancel()
			}
			for c, reply := range e.gates {
				reply <- errWithdrawn
				delete(e.gates, c)
			}
			for _, cancel := range e.preparing {
				cancel()
			}
			continue
		}
		e.openGates()
		e.schedule(ctx, send, &workers)
	}
	e.finish()
}

// finish marks what was never checked.
func (e *engine) finish() {
	for _, c := range e.cands {
		if c.check.status != checkPending {
			continue
		}
		c.check.status = checkSkipped
		switch {
		case e.budgetSpent:
			c.check.report.Error = "not checked: the time budget ran out"
		case e.cancelled:
			c.check.report.Error = "not checked: the probe was cancelled"
		default:
			c.check.report.Error = "not checked: a better server was already proven"
		}
	}
}

func (e *engine) emit(kind EventKind, s autoconfig.Server, format string, args ...any) {
	if e.progress != nil {
		e.progress(Event{Kind: kind, Server: s, Text: fmt.Sprintf(format, args...)})
	}
}

func (e *engine) onFound(s autoconfig.Server, src source) {
	if !s.Protocol.IsMail() || s.Hostname == "" || s.Port <= 0 || !s.Security.Valid() {
		return
	}
	k := keyOf(s)
	c, ok := e.byKey[k]
	if !ok {
		c = &candidate{server: autoconfig.Server{Protocol: s.Protocol, Hostname: s.Hostname, Port: s.Port, Security: s.Security}, seq: len(e.cands)}
		c.login.status = LoginSkipped
		e.byKey[k] = c
		e.cands = append(e.cands, c)
		e.queue = append(e.queue, c)
	}
	src.username, src.auth = s.Username, s.Auth
	if !c.addSource(src) {
		return
	}
	c.unconfirmed = !e.consented(c)
	e.emit(EventFound, c.server, "found %s %s (%s) by %s", s.Protocol.DisplayName(), s.Address(), describeSecurity(s.Security), src.Method)
}

// schedule starts checks up to the bound, best potential first, and
// prepares the logins of each direction's leading servers.
func (e *engine) schedule(ctx context.Context, send func(any), workers *sync.WaitGroup) {
	slices.SortStableFunc(e.queue, func(a, b *candidate) int { return compareKeys(a.potential(), b.potential()) })
	for e.running < maxChecks && len(e.queue) > 0 {
		c := e.queue[0]
		e.queue = e.queue[1:]
		checkCtx, cancel := context.WithCancel(ctx)
		e.cancels[c] = cancel
		e.running++
		workers.Add(1)
		server := c.server // the loop rewrites c.server as sources arrive
		go func() {
			defer workers.Done()
			out := e.check(checkCtx, server)
			send(msgChecked{c: c, out: out, cut: checkCtx.Err() != nil, cancelled: errors.Is(ctx.Err(), context.Canceled)})
		}()
	}
	for dir := range 2 {
		var targets []*candidate
		if e.moreLogins(dir) {
			targets = e.loginTargets(dir)
		}
		inFlight := 0
		for p, cancel := range e.preparing {
			if direction(p) != dir {
				continue
			}
			inFlight++
			// A login still connecting gives way when its server dropped
			// out of the leading few (found better ones, or failed).
			if !slices.Contains(targets, p) && e.gates[p] == nil && e.sending != p {
				cancel()
			}
		}
		for _, c := range targets {
			if inFlight >= maxPrepared {
				break
			}
			if _, ok := e.preparing[c]; !ok {
				e.prepareLogin(ctx, c, workers)
				inFlight++
			}
		}
	}
}

// prepareLogin starts a login on c that connects now and sends its
// password only when openGates says so.
func (e *engine) prepareLogin(ctx context.Context, c *candidate, workers *sync.WaitGroup) {
	user := e.nextUsername(c)
	c.login.preparedAs = user
	loginCtx, cancel := context.WithCancel(ctx)
	e.preparing[c] = cancel
	gate := func(ctx context.Context) error {
		reply := make(chan error, 1)
		select {
		case e.msgs <- msgGate{c: c, reply: reply}:
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", errWithdrawn, ctx.Err())
		case <-e.loopDone:
			return errWithdrawn
		}
		select {
		case err := <-reply:
			return err
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", errWithdrawn, ctx.Err())
		}
	}
	// The loop goroutine owns c and rewrites c.server as sources arrive:
	// the worker gets its own copy.
	server := c.server
	workers.Add(1)
	go func() {
		defer workers.Done()
		defer cancel()
		e.send(msgLoggedIn{c: c, user: user, out: e.login(loginCtx, server, user, gate)})
	}()
}

// send hands a worker's message to the loop, or drops it once the loop
// has returned.
func (e *engine) send(m any) {
	select {
	case e.msgs <- m:
	case <-e.loopDone:
	}
}

// openGates lets the first waiting login in ranking order send its
// password, once its server is proven and nothing pending could outrank it;
// it withdraws those that can no longer be the one.
func (e *engine) openGates() {
	if len(e.gates) == 0 {
		return
	}
	rank(e.cands)
	var first [2]*candidate
	for dir := range 2 {
		if targets := e.loginTargets(dir); len(targets) > 0 {
			first[dir] = targets[0]
		}
	}
	for c, reply := range e.gates {
		dir := direction(c)
		switch {
		case !e.moreLogins(dir) || !slices.Contains(e.loginTargets(dir), c) || c.login.preparedAs != e.nextUsername(c):
			// A login prepared with a name that is no longer the first to
			// try (the other direction proved another one meanwhile) goes
			// back and comes again with the right one.
			reply <- errWithdrawn
			delete(e.gates, c)
		case e.sending == nil && first[dir] == c && c.check.status != checkPending && e.settled(c) && e.lockout.reserve(dir):
			e.sending = c
			e.emit(EventLogin, c.server, "logging in to %s %s", c.server.Protocol.DisplayName(), c.server.Address())
			reply <- nil
			delete(e.gates, c)
		}
	}
}

func (e *engine) onChecked(m msgChecked) {
	e.running--
	delete(e.cancels, m.c)
	c := m.c
	defer func() {
		// A login prepared on a server that turned out unusable ends now,
		// not at its own timeout.
		if cancel, ok := e.preparing[c]; ok && c.check.status >= checkInsecure {
			cancel()
		}
	}()
	c.check.status = m.out.status
	c.check.report = m.out.report
	c.check.safe = m.out.safe
	c.check.provenAt = time.Since(e.start)
	if m.cut && m.out.status != checkPassed && m.out.status != checkWeak {
		// What a cancelled check saw last (a handshake cut in half) says
		// nothing about the server.
		c.check = checkState{status: checkSkipped}
		switch {
		case e.stopped:
			c.check.report.Error = "check stopped: a better server was already proven"
		case m.cancelled:
			c.check.report.Error = "check cut short: the probe was cancelled"
		default:
			c.check.report.Error = "check cut short: the time budget ran out"
		}
	}
	switch c.check.status {
	case checkPassed:
		e.emit(EventChecked, c.server, "%s %s works: certificate valid", c.server.Protocol.DisplayName(), c.server.Address())
	case checkWeak, checkInsecure:
		e.emit(EventChecked, c.server, "%s %s answers, but not securely", c.server.Protocol.DisplayName(), c.server.Address())
	default:
		e.emit(EventChecked, c.server, "%s %s: %s", c.server.Protocol.DisplayName(), c.server.Address(), c.check.report.Error)
	}
}

func (e *engine) onLoggedIn(m msgLoggedIn) {
	c, dir := m.c, direction(m.c)
	delete(e.preparing, c)
	if e.sending == c {
		e.sending = nil
		e.lockout.settle(dir, m.out.status == LoginFailed || m.out.noAnswer)
	}
	delete(e.gates, c)
	if m.out.withdrawn {
		return
	}
	d := m.out.detail
	d.Username = m.user
	if !m.out.noAnswer || c.login.status != LoginFailed {
		// The first refusal keeps its words: a later attempt that got no
		// answer only adds to them.
		c.login.detail = &d
	}
	switch {
	case m.out.status == LoginOK:
		c.login.tried = append(c.login.tried, m.user)
		c.login.status = LoginOK
		c.login.detail = &LoginReport{Username: m.user}
		c.login.mechanism = m.out.mechanism
		e.loginOK[dir] = true
		e.worked = m.user
		e.emit(EventLogin, c.server, "login to %s as %q worked", c.server.Address(), m.user)
	case m.out.noAnswer:
		// The password left and may count against the lockout, but the
		// server said nothing: not a refusal, and no other name is tried
		// there (servers slow down after a wrong password).
		c.login.tried = append(c.login.tried, m.user)
		c.login.noAnswer = true
		if c.login.status == LoginFailed {
			c.login.detail.Reason += fmt.Sprintf("; the next attempt (as %q) got %s", m.user, NoAnswerInTime)
		}
		e.emit(EventLogin, c.server, "login to %s as %q: %s", c.server.Address(), m.user, NoAnswerInTime)
	case m.out.status == LoginFailed:
		c.login.tried = append(c.login.tried, m.user)
		c.login.status = LoginFailed
		c.login.kind = m.out.kind
		if !m.out.retry {
			e.blocked[dir] = true
			c.login.rejected = true
		}
		if e.nextUsername(c) == "" {
			c.login.rejected = true
		}
		e.emit(EventLogin, c.server, "login to %s as %q refused: %s", c.server.Address(), m.user, d.Reason)
	default:
		c.login.notAttempted = true
		c.login.kind = m.out.kind
		e.emit(EventLogin, c.server, "no login on %s: %s", c.server.Address(), d.Reason)
	}
}

// usernames are the names to try on c, in order: the one that already
// logged in on the other side, the login name the caller knows, then its
// source's template, else the full address and the local part; none for a
// bare domain.
func (e *engine) usernames(c *candidate) []string {
	if e.addr == nil {
		return nil
	}
	names := []string{e.worked, e.knownUser}
	if c.server.Username != "" {
		names = append(names, autoconfig.ExpandTemplate(c.server.Username, *e.addr))
	} else {
		names = append(names, e.addr.ASCII(), e.addr.LocalPart)
	}
	var out []string
	for _, n := range names {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// nextUsername is the first name of usernames not yet tried on c, "" when
// none is left. It is read again when the password is about to leave, so a
// name proven on the other side meanwhile goes first whatever the timing.
func (e *engine) nextUsername(c *candidate) string {
	for _, n := range e.usernames(c) {
		if !slices.Contains(c.login.tried, n) {
			return n
		}
	}
	return ""
}

// moreLogins reports whether a login may still happen in a direction.
func (e *engine) moreLogins(dir int) bool {
	return e.password && e.addr != nil && !e.loginOK[dir] && e.lockout.refusals(dir) < maxFailures && !e.blocked[dir]
}

// eligible reports whether c may be logged in to: proven safe for a
// password, or still being checked; not refused, not done.
func (e *engine) eligible(c *candidate) bool {
	proven := c.tier() <= tierWeak && c.check.safe
	return (proven || c.check.status == checkPending) && !c.login.notAttempted && !c.login.rejected &&
		!c.login.noAnswer && !c.unconfirmed && c.login.status != LoginOK && e.nextUsername(c) != ""
}

// maxPrepared is how many logins per direction connect ahead of their
// turn: when the first server fails its check or refuses the certificate,
// the next one is already at the gate instead of starting to connect.
const maxPrepared = 5

// loginTargets are the servers a direction's next logins go to, best
// first: those not yet refused whose check passed or is still running (the
// login's own handshake runs alongside; its password waits for the check
// and for the ranking to settle, see openGates).
func (e *engine) loginTargets(dir int) []*candidate {
	rank(e.cands)
	var out []*candidate
	for _, c := range e.cands {
		if direction(c) == dir && e.eligible(c) {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b *candidate) int { return compareKeys(a.potential(), b.potential()) })
	return out[:min(len(out), maxPrepared)]
}

// settled reports whether nothing still pending could rank above c, logins
// aside: no candidate still being checked, and, while discovery runs, nothing
// it could still find. Anything but a proven IMAP (or SMTP) server with
// implicit TLS waits for discovery to end, so that a login never goes to a
// server the ranking would have put second (issue 5: logins in ranking
// order). Such a server is of the best class there is: what discovery still
// finds could outrank it only by its source. One from the domain's own
// autoconfig file goes at once; one from a lesser source gives the better
// sources still asking a head start of three times the time it took to
// prove it, and at least a second, then goes, and its login outranks any
// source. A source that answers at all answers within that (the autoconfig
// fetch is fewer round trips than an SRV server's proof, and a loaded
// machine slows both alike); one that never answers costs that head start,
// not its whole timeout (issue 11: SRV servers proven in 0.2 s waited 5 s
// for autoconfig hosts that accepted TCP and never answered).
func (e *engine) settled(c *candidate) bool {
	k := c.key()
	k.loginOK = 0
	for _, x := range e.cands {
		if direction(x) != direction(c) || x.check.status != checkPending {
			continue
		}
		if compareKeys(x.potential(), k) < 0 {
			return false
		}
	}
	if !e.discovering {
		return true
	}
	if k.tier != tierProven || k.protocol != 0 || k.security != 0 || k.confirmed != 0 {
		return false
	}
	if k.source == 0 {
		return true
	}
	wait := max(3*c.check.provenAt, minSourceHeadStart) - time.Since(e.start)
	if wait <= 0 {
		return true
	}
	if !c.check.wakeArmed {
		c.check.wakeArmed = true
		time.AfterFunc(wait, func() { e.send(msgWake{}) })
	}
	return false
}

// done reports whether both directions are decided: the best candidate in
// hand cannot be outranked by anything still pending or still to be found,
// and no login that could change the outcome remains.
func (e *engine) done() bool {
	if e.sending != nil {
		return false
	}
	rank(e.cands)
	for dir := range 2 {
		if !e.decided(dir) {
			return false
		}
	}
	return true
}

func (e *engine) decided(dir int) bool {
	more := e.moreLogins(dir)
	var best *candidate
	for _, c := range e.cands {
		if direction(c) != dir {
			continue
		}
		if best == nil {
			best = c
		}
		if more && e.eligible(c) && c.check.status != checkPending {
			return false
		}
	}
	pending := func(x key) key {
		if !more {
			x.loginOK = 1
		}
		return x
	}
	if best == nil || best.tier() > tierWeak {
		if e.discovering {
			return false
		}
		for _, c := range e.cands {
			if direction(c) == dir && c.check.status == checkPending {
				return false
			}
		}
		return true
	}
	kb := best.key()
	for _, x := range e.cands {
		if direction(x) == dir && x.check.status == checkPending && compareKeys(pending(x.potential()), kb) < 0 {
			return false
		}
	}
	if e.discovering {
		hypothetical := pending(key{tier: tierProven})
		if compareKeys(hypothetical, kb) < 0 {
			return false
		}
	}
	return true
}
