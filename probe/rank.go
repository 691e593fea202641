package probe

import (
	"cmp"
	"slices"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/discover"
)

// sourceRank orders discovery sources by how much their answer is the
// domain's own word (issue 5's fourth ranking key): its autoconfig file and
// SRV records first, then Autodiscover, the ISPDB (a third party), settings
// derived from the MX hosts, and last a guess. Autoconfig ranks above SRV
// because, where both are proven and disagree, autoconfig also names the
// username and the authentication; a successful login outranks either (see
// key). A file that travelled over plain http could have been changed on
// the way, so it ranks just above a guess.
func sourceRank(s Source) int {
	if s.Trust == string(discover.TrustPlainHTTP) {
		return 5
	}
	switch s.Method {
	case discover.MethodAutoconfig, discover.MethodWellKnown:
		return 0
	case discover.MethodSRV:
		return 1
	case discover.MethodAutodiscover:
		return 2
	case discover.MethodISPDB:
		return 3
	case discover.MethodMXISPDB, discover.MethodMXAutoconfig:
		return 4
	case discover.MethodAutoconfigHTTP:
		return 5
	}
	return 6
}

// Rank is how much the source's answer is the domain's own word, smaller
// first (the ranking's source key): the domain's autoconfig and SRV, then
// Autodiscover, the ISPDB, MX-based settings, plain http, a guess.
func (s Source) Rank() int { return sourceRank(s) }

// checkStatus is how far verification has proven a candidate.
type checkStatus int

const (
	checkPending  checkStatus = iota // not checked yet, or the check is running
	checkPassed                      // reachable, TLS valid, protocol answered
	checkWeak                        // works only by --trust-cert or --allow-plaintext
	checkInsecure                    // works only without valid TLS, which was not allowed
	checkFailed                      // unreachable or not speaking the protocol
	checkSkipped                     // never checked: stopped early or out of time
)

// tier is the first ranking key: how the candidate was proven.
type tier int

const (
	tierProven   tier = iota // valid certificate, protocol answered (and login not refused)
	tierWeak                 // proven only by a pinned certificate or allowed plaintext
	tierRejected             // proven, but refused the login another server accepted
	tierDeclared             // named by a source, not (yet) proven
	tierBroken               // unreachable, or insecure and not allowed
)

// candidate is one merged server during and after a probe.
type candidate struct {
	// server is the merged server: protocol, host, port, security, and the
	// username template and authentication of its best-ranked source.
	server  autoconfig.Server
	sources []source
	check   checkState
	login   loginState
	// seq is the order in which discovery first named the candidate.
	seq int
	// unconfirmed is set while the password may not go there: outside the
	// address's registrable domain, named by no authenticated source, not
	// confirmed by the user (see engine.consented).
	unconfirmed bool
}

// source is one discovery answer that named a candidate.
type source struct {
	Source
	username string
	auth     []autoconfig.AuthMethod
	// provider is the settings file the answer came from, when there was one.
	provider *autoconfig.Provider
}

// checkState is what verifying a candidate (TLS, capabilities) showed.
type checkState struct {
	status checkStatus
	report ServerReport // only the verification fields are used
	// safe says whether a password may be sent there (valid certificate,
	// or allowed by --trust-cert or --allow-plaintext).
	safe bool
	// provenAt is when the check ended, from the start of the run;
	// wakeArmed is set once a head start's end is on the way (settled).
	provenAt  time.Duration
	wakeArmed bool
}

// loginState is what logging in showed.
type loginState struct {
	status LoginStatus
	// tried are the usernames tried, in order; rejected is set when every
	// one the candidate allows was refused.
	tried    []string
	rejected bool
	// preparedAs is the username the login being prepared will send.
	preparedAs string
	// noAnswer is set when a password left and no verdict came in the
	// time left: counted for the lockout, not a refusal.
	noAnswer bool
	// mechanism is how the accepted password went (PLAIN, LOGIN, USER).
	mechanism string
	// demoted is set on a refused candidate when another server of its
	// direction accepted the login: that one works for this user, this one
	// did not. A refusal alone proves nothing about the server.
	demoted bool
	// notAttempted is set when a login was asked for and not made (no
	// safe connection at login time): no other username is tried there.
	notAttempted bool
	detail       *LoginReport
	// kind is the rejection kind of the last refusal (verify's
	// WrongPassword, AppPasswordRequired, ...).
	kind string
}

// key is a candidate's place in the ranking, smaller first.
type key struct {
	tier     tier
	protocol int // IMAP before POP3 (SMTP is alone in its direction)
	security int // implicit TLS before STARTTLS before plain (RFC 8314)
	// confirmed: a server the password may go to before one it may not
	// (see engine.consented).
	confirmed int
	loginOK   int // where both sides verify, the one whose login worked
	source    int
}

func (c *candidate) tier() tier {
	switch c.check.status {
	case checkPassed, checkWeak:
		if c.login.rejected && c.login.demoted {
			return tierRejected
		}
		if c.check.status == checkWeak {
			return tierWeak
		}
		return tierProven
	case checkPending, checkSkipped:
		return tierDeclared
	}
	return tierBroken
}

func (c *candidate) key() key {
	k := key{tier: c.tier(), protocol: directionRank(c.server.Protocol), security: c.server.Security.Preference(), loginOK: 1, source: c.sourceRank()}
	if c.unconfirmed {
		k.confirmed = 1
	}
	if c.login.status == LoginOK {
		k.loginOK = 0
	}
	return k
}

// potential is the best key the candidate can still reach: a pending check
// may yet prove it, and a login may yet succeed.
func (c *candidate) potential() key {
	k := c.key()
	if k.tier == tierDeclared {
		k.tier = tierProven
	}
	if !c.login.rejected && !c.login.noAnswer && !c.unconfirmed {
		k.loginOK = 0
	}
	return k
}

func (c *candidate) sourceRank() int {
	best := 6
	for _, s := range c.sources {
		best = min(best, sourceRank(s.Source))
	}
	return best
}

func compareKeys(a, b key) int {
	return cmp.Or(
		cmp.Compare(a.tier, b.tier),
		cmp.Compare(a.protocol, b.protocol),
		cmp.Compare(a.security, b.security),
		cmp.Compare(a.confirmed, b.confirmed),
		cmp.Compare(a.loginOK, b.loginOK),
		cmp.Compare(a.source, b.source),
	)
}

// compareCandidates orders candidates best first. Among equals the one
// discovery named first wins: a source lists its servers in preference
// order (SRV priority and weight, document order); host and port settle
// the rest.
func compareCandidates(a, b *candidate) int {
	return cmp.Or(
		compareKeys(a.key(), b.key()),
		cmp.Compare(a.seq, b.seq),
		cmp.Compare(a.server.Hostname, b.server.Hostname),
		cmp.Compare(a.server.Port, b.server.Port),
	)
}

// rank sorts candidates best first.
func rank(cs []*candidate) {
	var worked [2]bool
	for _, c := range cs {
		if c.login.status == LoginOK {
			worked[direction(c)] = true
		}
	}
	for _, c := range cs {
		c.login.demoted = c.login.rejected && worked[direction(c)]
	}
	slices.SortStableFunc(cs, compareCandidates)
}

// incoming reports whether the candidate is an incoming (IMAP, POP3) server.
func (c *candidate) incoming() bool { return c.server.Protocol != autoconfig.SMTP }

// serverKey merges candidates: one per (protocol, host, port, security).
type serverKey struct {
	protocol autoconfig.Protocol
	host     string
	port     int
	security autoconfig.Security
}

func keyOf(s autoconfig.Server) serverKey {
	return serverKey{s.Protocol, s.Hostname, s.Port, s.Security}
}

// addSource records one more answer that named the candidate (false when
// it was known already); the username template and authentication follow
// the best-ranked source that gives them.
func (c *candidate) addSource(s source) (added bool) {
	for _, have := range c.sources {
		if have.Source == s.Source {
			return false
		}
	}
	c.sources = append(c.sources, s)
	// Ties broken by method and target, not by arrival: the username,
	// authentication and published settings that follow must not depend
	// on which lookup answered first.
	slices.SortFunc(c.sources, func(a, b source) int {
		return cmp.Or(cmp.Compare(sourceRank(a.Source), sourceRank(b.Source)),
			cmp.Compare(a.Method, b.Method), cmp.Compare(a.Target, b.Target), cmp.Compare(a.Trust, b.Trust))
	})
	c.server.Username, c.server.Auth = "", nil
	for _, have := range c.sources {
		if c.server.Username == "" && have.username != "" {
			c.server.Username = have.username
		}
		if c.server.Auth == nil && len(have.auth) > 0 {
			c.server.Auth = have.auth
		}
	}
	return true
}

// directionRank ranks a protocol within its direction: SMTP, alone in the
// outgoing one, ranks as IMAP does in the incoming one, so that the best
// class still possible is the same key on both sides.
func directionRank(p autoconfig.Protocol) int {
	if p == autoconfig.SMTP {
		return 0
	}
	return p.Preference()
}
