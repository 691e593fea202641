package probe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/discover"
	"github.com/mailsetup/mailsetup/probe/verify"
)

// fakeWorld scripts discovery, checks and logins for the engine.
type fakeWorld struct {
	servers []autoconfig.Server
	methods []string
	checks  map[string]checkOutcome
	// hang makes a check wait for its context (a blackholed host).
	hang map[string]bool
	// deaf makes a check ignore its context and wait for release to
	// close (a library call nothing can interrupt).
	deaf    map[string]bool
	release chan struct{}
	// holdCheck makes a server's check wait until the channel closes.
	holdCheck map[string]chan struct{}
	// onLogin is told of every login that reached a server.
	onLogin func(hostport, user string, ok bool)
	// accept maps "host:port" to the username that logs in there.
	accept map[string]string
	kind   string

	mu     sync.Mutex
	logins []string // "host:port user", in order
	active int
	maxPar int
}

// loginsTo are the attempts on hosts starting with prefix, in order.
func (w *fakeWorld) loginsTo(prefix string) []string {
	var out []string
	for _, l := range w.logins {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func passed() checkOutcome { return checkOutcome{status: checkPassed, safe: true} }
func unsafeTLS() checkOutcome {
	return checkOutcome{status: checkInsecure, report: ServerReport{TLS: &TLSReport{Error: "expired"}}}
}

func (w *fakeWorld) engine(password bool) *engine {
	return &engine{
		addr:     alice,
		password: password,
		discover: func(ctx context.Context, emit func(autoconfig.Server, source)) discovered {
			for i, s := range w.servers {
				emit(s, source{Source: Source{Method: w.methods[i], Trust: string(discover.TrustDomainHTTPS)}})
			}
			return discovered{}
		},
		check: func(ctx context.Context, s autoconfig.Server) checkOutcome {
			if w.deaf[s.Address()] {
				<-w.release
				return checkOutcome{status: checkFailed, report: ServerReport{Error: "timeout"}}
			}
			if w.hang[s.Address()] {
				<-ctx.Done()
				return checkOutcome{status: checkFailed, report: ServerReport{Error: "timeout"}}
			}
			if hold := w.holdCheck[s.Address()]; hold != nil {
				select {
				case <-hold:
				case <-ctx.Done():
				}
			}
			if out, ok := w.checks[s.Address()]; ok {
				return out
			}
			return checkOutcome{status: checkFailed, report: ServerReport{Error: "connection refused"}}
		},
		login: func(ctx context.Context, s autoconfig.Server, user string, gate func(context.Context) error) loginOutcome {
			if w.hang[s.Address()] {
				<-ctx.Done()
				return loginOutcome{status: LoginSkipped, withdrawn: true}
			}
			if _, ok := w.checks[s.Address()]; !ok {
				return loginOutcome{status: LoginSkipped, detail: LoginReport{Reason: "could not connect"}}
			}
			if err := gate(ctx); err != nil {
				return loginOutcome{status: LoginSkipped, withdrawn: true}
			}
			w.mu.Lock()
			w.active++
			w.maxPar = max(w.maxPar, w.active)
			w.logins = append(w.logins, s.Address()+" "+user)
			w.mu.Unlock()
			time.Sleep(time.Millisecond)
			w.mu.Lock()
			w.active--
			w.mu.Unlock()
			ok := w.accept[s.Address()] == user
			if w.onLogin != nil {
				w.onLogin(s.Address(), user, ok)
			}
			if ok {
				return loginOutcome{status: LoginOK}
			}
			kind := w.kind
			if kind == "" {
				kind = string(verify.KindWrongPassword)
			}
			return loginOutcome{status: LoginFailed, kind: kind, retry: kind == string(verify.KindWrongPassword), detail: LoginReport{Reason: "refused"}}
		},
	}
}

func srvr(p autoconfig.Protocol, host string, port int, sec autoconfig.Security) autoconfig.Server {
	return autoconfig.Server{Protocol: p, Hostname: host, Port: port, Security: sec}
}

func TestEngineLogsInOnceOnTheBestAndStops(t *testing.T) {
	w := &fakeWorld{
		servers: []autoconfig.Server{
			srvr(pop3, "pop.example.test", 995, tls),
			srvr(imap, "imap.example.test", 993, tls),
			srvr(smtp, "smtp.example.test", 465, tls),
		},
		methods: []string{discover.MethodAutoconfig, discover.MethodAutoconfig, discover.MethodAutoconfig},
		checks:  map[string]checkOutcome{"pop.example.test:995": passed(), "imap.example.test:993": passed(), "smtp.example.test:465": passed()},
		accept:  map[string]string{"imap.example.test:993": "alice@example.test", "smtp.example.test:465": "alice@example.test"},
	}
	e := w.engine(true)
	e.run(t.Context(), false)
	want := []string{"imap.example.test:993 alice@example.test", "smtp.example.test:465 alice@example.test"}
	if slices.Sort(w.logins); !slices.Equal(w.logins, want) {
		t.Errorf("logins = %q, want %q", w.logins, want)
	}
	got := conclude(alice, "", "example.test", e.cands, true)
	if got.status != StatusOK || got.rec.Incoming.Host != "imap.example.test" || got.rec.Confidence != ConfidenceLogin {
		t.Errorf("conclusion = %s %+v", got.status, got.rec)
	}
}

func TestEngineAtMostTwoRefusalsPerDirection(t *testing.T) {
	w := &fakeWorld{
		servers: []autoconfig.Server{
			srvr(imap, "imap.example.test", 993, tls),
			srvr(imap, "imap.example.test", 143, stls),
			srvr(pop3, "pop.example.test", 995, tls),
			srvr(smtp, "smtp.example.test", 465, tls),
			srvr(smtp, "smtp.example.test", 587, stls),
		},
		methods: []string{discover.MethodAutoconfig, discover.MethodAutoconfig, discover.MethodAutoconfig, discover.MethodAutoconfig, discover.MethodAutoconfig},
		checks: map[string]checkOutcome{"imap.example.test:993": passed(), "imap.example.test:143": passed(), "pop.example.test:995": passed(),
			"smtp.example.test:465": passed(), "smtp.example.test:587": passed()},
	}
	e := w.engine(true)
	e.run(t.Context(), false)
	if want := []string{"imap.example.test:993 alice@example.test", "imap.example.test:993 alice"}; !slices.Equal(w.loginsTo("imap"), want) {
		t.Errorf("incoming logins = %q, want %q", w.loginsTo("imap"), want)
	}
	if want := []string{"smtp.example.test:465 alice@example.test", "smtp.example.test:465 alice"}; !slices.Equal(w.loginsTo("smtp"), want) {
		t.Errorf("outgoing logins = %q, want %q", w.loginsTo("smtp"), want)
	}
	if w.maxPar != 1 {
		t.Errorf("%d logins ran at once", w.maxPar)
	}
	if got := conclude(alice, "", "example.test", e.cands, true); got.status != StatusLoginRejected {
		t.Errorf("status = %s", got.status)
	}
}

func TestEngineStopsAfterARefusalThatNeedsAnAppPassword(t *testing.T) {
	w := &fakeWorld{
		servers: []autoconfig.Server{srvr(imap, "imap.example.test", 993, tls), srvr(pop3, "pop.example.test", 995, tls)},
		methods: []string{discover.MethodAutoconfig, discover.MethodAutoconfig},
		checks:  map[string]checkOutcome{"imap.example.test:993": passed(), "pop.example.test:995": passed()},
		kind:    string(verify.KindAppPasswordRequired),
	}
	w.engine(true).run(t.Context(), false)
	if len(w.logins) != 1 {
		t.Errorf("logins = %q: a refusal asking for an app password must not be retried", w.logins)
	}
}

func TestEngineNeverLogsInWhereThePasswordIsUnsafe(t *testing.T) {
	w := &fakeWorld{
		servers: []autoconfig.Server{srvr(imap, "imap.example.test", 993, tls), srvr(imap, "imap.example.test", 143, pln)},
		methods: []string{discover.MethodAutoconfig, discover.MethodAutoconfig},
		checks: map[string]checkOutcome{"imap.example.test:993": unsafeTLS(),
			"imap.example.test:143": {status: checkInsecure}},
		accept: map[string]string{"imap.example.test:993": "alice@example.test", "imap.example.test:143": "alice@example.test"},
	}
	e := w.engine(true)
	e.run(t.Context(), false)
	if len(w.logins) != 0 {
		t.Errorf("logins = %q on servers where the password is not safe", w.logins)
	}
	if got := conclude(alice, "", "example.test", e.cands, true); got.status != StatusInsecureOnly {
		t.Errorf("status = %s, want insecure-only", got.status)
	}
}

// TestEngineProvenUsernameFirstOnTheOtherSide forces the overlap that lost
// the proven name under load: the SMTP login is prepared (with the full
// address, the first name to try then) before IMAP proves that only the
// local part works, and its password waits at the gate until then. The name
// is chosen when the password is about to leave, so SMTP tries the local
// part first and once (it used to send the full address, then the full
// address again, and give up).
func TestEngineProvenUsernameFirstOnTheOtherSide(t *testing.T) {
	imapProven := make(chan struct{})
	w := &fakeWorld{
		servers: []autoconfig.Server{srvr(imap, "imap.example.test", 993, tls), srvr(smtp, "smtp.example.test", 465, tls)},
		methods: []string{discover.MethodAutoconfig, discover.MethodAutoconfig},
		checks:  map[string]checkOutcome{"imap.example.test:993": passed(), "smtp.example.test:465": passed()},
		accept:  map[string]string{"imap.example.test:993": "alice", "smtp.example.test:465": "alice"},
		// SMTP's check, and so its password, waits for IMAP's login.
		holdCheck: map[string]chan struct{}{"smtp.example.test:465": imapProven},
	}
	w.onLogin = func(hostport, user string, ok bool) {
		if hostport == "imap.example.test:993" && ok {
			close(imapProven)
		}
	}
	e := w.engine(true)
	e.run(t.Context(), false)
	if got := w.loginsTo("smtp."); !slices.Equal(got, []string{"smtp.example.test:465 alice"}) {
		t.Errorf("SMTP logins = %q, want the local part proven on IMAP, once", got)
	}
	if got := w.loginsTo("imap."); !slices.Equal(got, []string{"imap.example.test:993 alice@example.test", "imap.example.test:993 alice"}) {
		t.Errorf("IMAP logins = %q", got)
	}
	got := conclude(alice, "", "example.test", e.cands, true)
	if got.status != StatusOK || got.rec.Outgoing == nil || got.rec.Outgoing.Username != "alice" {
		t.Errorf("conclusion %s, outgoing %+v", got.status, got.rec.Outgoing)
	}
}

// TestEngineKnownUsernameFirst: a login name the caller knows (--username,
// batch's username column) is tried first everywhere, then the rest.
func TestEngineKnownUsernameFirst(t *testing.T) {
	w := &fakeWorld{
		servers: []autoconfig.Server{srvr(imap, "imap.example.test", 993, tls), srvr(smtp, "smtp.example.test", 465, tls)},
		methods: []string{discover.MethodAutoconfig, discover.MethodAutoconfig},
		checks:  map[string]checkOutcome{"imap.example.test:993": passed(), "smtp.example.test:465": passed()},
		accept:  map[string]string{"imap.example.test:993": "a.liddell", "smtp.example.test:465": "a.liddell"},
	}
	e := w.engine(true)
	e.knownUser = "a.liddell"
	e.run(t.Context(), false)
	if slices.Sort(w.logins); !slices.Equal(w.logins, []string{"imap.example.test:993 a.liddell", "smtp.example.test:465 a.liddell"}) {
		t.Errorf("logins = %q", w.logins)
	}
	got := conclude(alice, "a.liddell", "example.test", e.cands, true)
	if got.rec.Incoming.Username != "a.liddell" || got.rec.Incoming.UsernameTemplate != "a.liddell" {
		t.Errorf("incoming %+v, want the known name", got.rec.Incoming)
	}
}

func TestEngineTemplateUsernameIsTheOnlyOneTried(t *testing.T) {
	s := srvr(imap, "imap.example.test", 993, tls)
	s.Username = autoconfig.PlaceholderLocalPart
	w := &fakeWorld{
		servers: []autoconfig.Server{s},
		methods: []string{discover.MethodAutoconfig},
		checks:  map[string]checkOutcome{"imap.example.test:993": passed()},
	}
	w.engine(true).run(t.Context(), false)
	if !slices.Equal(w.logins, []string{"imap.example.test:993 alice"}) {
		t.Errorf("logins = %q", w.logins)
	}
}

func TestEngineBlackholedPreferredHostCostsOneTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	w := &fakeWorld{
		servers: []autoconfig.Server{
			srvr(imap, "imap.example.test", 993, tls),
			srvr(imap, "mail.example.test", 143, stls),
			srvr(smtp, "smtp.example.test", 465, tls),
		},
		methods: []string{discover.MethodAutoconfig, discover.MethodGuess, discover.MethodAutoconfig},
		checks:  map[string]checkOutcome{"mail.example.test:143": passed(), "smtp.example.test:465": passed()},
		hang:    map[string]bool{"imap.example.test:993": true},
		accept:  map[string]string{"mail.example.test:143": "alice@example.test", "smtp.example.test:465": "alice@example.test"},
	}
	e := w.engine(true)
	check := e.check
	e.check = func(ctx context.Context, s autoconfig.Server) checkOutcome {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return check(ctx, s)
	}
	start := time.Now()
	e.run(t.Context(), false)
	if took := time.Since(start); took > 2*timeout {
		t.Errorf("took %v, more than one timeout (%v) and some", took, timeout)
	}
	got := conclude(alice, "", "example.test", e.cands, true)
	if got.rec == nil || got.rec.Incoming.Host != "mail.example.test" {
		t.Fatalf("recommendation = %+v", got.rec)
	}
}

func TestEngineCachedRunOnlyLogsIn(t *testing.T) {
	w := &fakeWorld{
		servers: []autoconfig.Server{srvr(imap, "imap.example.test", 993, tls), srvr(smtp, "smtp.example.test", 465, tls)},
		methods: []string{discover.MethodSRV, discover.MethodSRV},
		checks:  map[string]checkOutcome{"imap.example.test:993": passed(), "smtp.example.test:465": passed()},
		accept:  map[string]string{"imap.example.test:993": "alice", "smtp.example.test:465": "alice"},
	}
	first := w.engine(true)
	first.run(t.Context(), false)
	entry := &cacheEntry{ready: make(chan struct{})}
	entry.store(first.cands, first.found)

	w.logins = nil
	second := w.engine(true)
	second.discover = func(context.Context, func(autoconfig.Server, source)) discovered {
		t.Error("a cached run discovered again")
		return discovered{}
	}
	second.check = func(context.Context, autoconfig.Server) checkOutcome {
		t.Error("a cached run checked again")
		return checkOutcome{}
	}
	second.cands, second.found = entry.snapshot()
	second.run(t.Context(), true)
	// Without a template the full address is tried first, then the local
	// part; once one side proved the local part the other starts with it
	// (which side's password goes first is the loop's choice).
	in, out := w.loginsTo("imap"), w.loginsTo("smtp")
	if len(in) == 0 || in[len(in)-1] != "imap.example.test:993 alice" || len(out) == 0 || out[len(out)-1] != "smtp.example.test:465 alice" {
		t.Errorf("logins = %q and %q, want each to end with the local part", in, out)
	}
	if len(in) > 2 || len(out) > 2 {
		t.Errorf("logins = %q and %q; want at most two per direction", in, out)
	}
	if first.cands[0].login.status != LoginOK {
		t.Errorf("the cached run changed the first run's candidates")
	}
}

func TestEngineProgress(t *testing.T) {
	w := &fakeWorld{
		servers: []autoconfig.Server{srvr(imap, "imap.example.test", 993, tls)},
		methods: []string{discover.MethodAutoconfig},
		checks:  map[string]checkOutcome{"imap.example.test:993": passed()},
	}
	e := w.engine(false)
	var kinds []string
	e.progress = func(ev Event) { kinds = append(kinds, fmt.Sprint(ev.Kind)) }
	e.run(t.Context(), false)
	if !slices.Equal(kinds, []string{"found", "checked"}) {
		t.Errorf("events = %q", kinds)
	}
}

func TestEngineEndsWithTheBudget(t *testing.T) {
	w := &fakeWorld{
		servers: []autoconfig.Server{srvr(imap, "imap.example.test", 993, tls)},
		methods: []string{discover.MethodAutoconfig},
		hang:    map[string]bool{"imap.example.test:993": true},
	}
	e := w.engine(true)
	// A reserve generous enough for a loaded machine: the check that
	// honours its context reports within it.
	const budget = 600 * time.Millisecond
	e.reserve = 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(t.Context(), budget)
	defer cancel()
	start := time.Now()
	e.run(ctx, false)
	if took := time.Since(start); took > budget+budgetGrace {
		t.Errorf("the run took %v after a %v budget", took, budget)
	}
	if !slices.Equal(e.deadlineEvents, []string{"work deadline"}) {
		t.Errorf("deadline events %q: a worker that honours its context reports before the caller's deadline", e.deadlineEvents)
	}
	if !e.budgetSpent || e.cands[0].check.status != checkSkipped || !strings.Contains(e.cands[0].check.report.Error, "time budget") {
		t.Errorf("budget spent %v, check %+v", e.budgetSpent, e.cands[0].check)
	}
}

// TestEngineDoesNotWaitForADeafWorker: a check that ignores its context
// must not hold the run past the caller's deadline, whether the budget ran out
// or the caller cancelled (the run used to wait for every worker after a
// cancellation, for ever if one never returned).
func TestEngineDoesNotWaitForADeafWorker(t *testing.T) {
	for _, cancelled := range []bool{false, true} {
		t.Run(fmt.Sprintf("cancelled=%v", cancelled), func(t *testing.T) {
			w := &fakeWorld{
				servers: []autoconfig.Server{srvr(imap, "imap.example.test", 993, tls)},
				methods: []string{discover.MethodAutoconfig},
				deaf:    map[string]bool{"imap.example.test:993": true},
				release: make(chan struct{}),
			}
			defer close(w.release)
			e := w.engine(true)
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			if cancelled {
				ctx, cancel = context.WithCancel(t.Context())
				time.AfterFunc(100*time.Millisecond, cancel)
			}
			defer cancel()
			returned := make(chan struct{})
			go func() {
				e.run(ctx, false)
				close(returned)
			}()
			select {
			case <-returned:
			case <-time.After(100*time.Millisecond + budgetGrace):
				t.Fatalf("the run still waits for a worker that ignores its context; goroutines:\n%s", goroutineDump())
			}
			c := e.cands[0].check
			want := "time budget"
			if cancelled {
				want = "cancelled"
			}
			if c.status != checkSkipped || !strings.Contains(c.report.Error, want) {
				t.Errorf("check %+v, want skipped with %q in the reason", c, want)
			}
		})
	}
}

// TestEngineReturnsByTheCallersDeadline: --timeout is a hard bound. The work
// stops a reserve before the caller's deadline so that its reports come in,
// and the loop leaves at the deadline itself whatever a deaf worker does;
// it used to wait a further second of drain grace.
func TestEngineReturnsByTheCallersDeadline(t *testing.T) {
	w := &fakeWorld{
		servers: []autoconfig.Server{srvr(imap, "imap.example.test", 993, tls), srvr(smtp, "smtp.example.test", 465, tls)},
		methods: []string{discover.MethodAutoconfig, discover.MethodAutoconfig},
		deaf:    map[string]bool{"imap.example.test:993": true},
		hang:    map[string]bool{"smtp.example.test:465": true},
		release: make(chan struct{}),
	}
	defer close(w.release)
	e := w.engine(true)
	const budget = 300 * time.Millisecond
	e.reserve = drainReserve(budget)
	ctx, cancel := context.WithTimeout(t.Context(), budget)
	defer cancel()
	deadline, _ := ctx.Deadline()
	e.run(ctx, false)
	// The old drain grace alone was a second past the deadline: a return
	// within it proves there is none, with room for a loaded machine.
	if late := time.Since(deadline); late >= time.Second {
		t.Errorf("the run returned %v after the caller's deadline", late)
	}
	if !slices.Equal(e.deadlineEvents, []string{"work deadline", "abandoned at the caller's deadline"}) {
		t.Errorf("deadline events %q", e.deadlineEvents)
	}
	for _, c := range e.cands {
		if c.check.status != checkSkipped {
			t.Errorf("%s: check %+v, want skipped", c.server.Address(), c.check)
		}
	}
}

// A password that went out and got no verdict before a deadline is no
// refusal: it is said as such, and counted against the lockout.
func TestLoginOutcomeOfNoAnswer(t *testing.T) {
	for _, err := range []error{context.DeadlineExceeded, fmt.Errorf("no answer to the login: %w", os.ErrDeadlineExceeded)} {
		out := loginOutcomeOf(verify.LoginResult{Status: verify.LoginNotAttempted, PasswordSent: true, Err: err, Reason: "no answer to the login: " + err.Error()})
		if !out.noAnswer || out.status == LoginFailed || out.detail.Reason != NoAnswerInTime || out.detail.Kind != LoginKindNoAnswer {
			t.Errorf("%v: outcome %+v, want no answer", err, out)
		}
	}
	out := loginOutcomeOf(verify.LoginResult{PasswordSent: true, Err: errors.New("connection reset by peer")})
	if out.noAnswer || out.status != LoginFailed {
		t.Errorf("a dropped connection after the password: %+v, want counted as refused", out)
	}
}

// TestEngineAutodiscoverRefusalsCountForIncoming: with --autodiscover-auth
// an Autodiscover 401 counts in the incoming direction's two refusals (an
// Exchange-style provider locks the same account), so after two of them no
// IMAP password goes out; the outgoing direction keeps its own two.
func TestEngineAutodiscoverRefusalsCountForIncoming(t *testing.T) {
	w := &fakeWorld{
		servers: []autoconfig.Server{srvr(imap, "imap.example.test", 993, tls), srvr(smtp, "smtp.example.test", 465, tls)},
		methods: []string{discover.MethodAutodiscover, discover.MethodAutodiscover},
		checks:  map[string]checkOutcome{"imap.example.test:993": passed(), "smtp.example.test:465": passed()},
	}
	e := w.engine(true)
	e.lockout = &lockout{}
	inner := e.discover
	e.discover = func(ctx context.Context, emit func(autoconfig.Server, source)) discovered {
		budget := autodiscoverLogins{e.lockout}
		for range 3 {
			if budget.Reserve() {
				budget.Settle(true) // HTTP 401
			}
		}
		return inner(ctx, emit)
	}
	e.run(t.Context(), false)
	if got := w.loginsTo("imap."); len(got) != 0 {
		t.Errorf("IMAP logins %q after two Autodiscover refusals; want none", got)
	}
	if got := w.loginsTo("smtp."); len(got) != 2 {
		t.Errorf("SMTP logins %q; want its own two", got)
	}
	if n := e.lockout.refusals(0); n != 2 {
		t.Errorf("incoming refusals %d, want 2", n)
	}
}
