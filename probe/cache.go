package probe

import (
	"sync"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// Cache shares what a probe learnt about a domain (its candidates, their
// checks and the lookups) with later probes of other addresses there, so a
// batch of users asks each domain once. Logins are never shared: each
// address logs in with its own password. The zero value is not usable; call
// NewCache. A Cache is safe for concurrent use.
type Cache struct {
	mu      sync.Mutex
	domains map[string]*cacheEntry
}

// NewCache returns an empty cache.
func NewCache() *Cache { return &Cache{domains: map[string]*cacheEntry{}} }

type cacheEntry struct {
	ready chan struct{}
	cands []*candidate
	found discovered
}

// claim returns the domain's entry; first is true for the one caller that
// must fill it (the others wait for ready).
func (c *Cache) claim(domain string) (entry *cacheEntry, first bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.domains[domain]; ok {
		return e, false
	}
	e := &cacheEntry{ready: make(chan struct{})}
	c.domains[domain] = e
	return e, true
}

// store keeps a copy of the candidates without their logins and releases
// the waiters.
func (e *cacheEntry) store(cands []*candidate, found discovered) {
	e.cands = cloneCandidates(cands)
	e.found = found
	close(e.ready)
}

// snapshot is a private copy for one probe.
func (e *cacheEntry) snapshot() ([]*candidate, discovered) {
	return cloneCandidates(e.cands), e.found
}

func cloneCandidates(cs []*candidate) []*candidate {
	out := make([]*candidate, len(cs))
	for i, c := range cs {
		n := &candidate{
			server:  c.server,
			sources: append([]source(nil), c.sources...),
			check:   c.check,
			login:   loginState{status: LoginSkipped},
		}
		n.server.Auth = append([]autoconfig.AuthMethod(nil), c.server.Auth...)
		if n.check.status == checkPending {
			n.check.status = checkSkipped
		}
		out[i] = n
	}
	return out
}
