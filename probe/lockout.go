package probe

import "sync"

// lockout counts the refused passwords of one run per direction, so that a
// probe never trips a provider's lockout: at most maxFailures each. The
// engine's logins and discovery's Autodiscover requests (--autodiscover-auth)
// share the incoming direction's count, as Exchange-style providers count
// both against the same account. It is the one piece of engine state that
// another goroutine (discovery's) touches, hence the lock.
type lockout struct {
	mu       sync.Mutex
	refused  [2]int
	inFlight [2]int
	// changed tells the engine's loop that a reservation ended, so that a
	// login waiting for it is looked at again.
	changed func()
}

// reserve reports whether one more password may go out in dir now, counting
// those on their way as if they will be refused; each true must be followed
// by one settle.
func (l *lockout) reserve(dir int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.refused[dir]+l.inFlight[dir] >= maxFailures {
		return false
	}
	l.inFlight[dir]++
	return true
}

// settle ends a reservation; refused says the password was refused or got
// no answer (both count against the lockout).
func (l *lockout) settle(dir int, refused bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight[dir]--
	if refused {
		l.refused[dir]++
	}
}

// notify tells the engine's loop, from another goroutine, that the count
// changed.
func (l *lockout) notify() {
	l.mu.Lock()
	changed := l.changed
	l.mu.Unlock()
	if changed != nil {
		changed()
	}
}

// refusals is how many passwords were refused in dir so far.
func (l *lockout) refusals(dir int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refused[dir]
}

// autodiscoverLogins is the lockout as discovery sees it: Autodiscover
// counts in the incoming direction.
type autodiscoverLogins struct{ l *lockout }

func (a autodiscoverLogins) Reserve() bool       { return a.l.reserve(0) }
func (a autodiscoverLogins) Settle(refused bool) { a.l.settle(0, refused); a.l.notify() }
