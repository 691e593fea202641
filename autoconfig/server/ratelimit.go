package server

import (
	"hash/maphash"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// limiter is a token bucket per client: each holds up to burst requests and
// refills at perMinute. IPv6 clients are counted per /64, the smallest
// network a home or office gets.
type limiter struct {
	rate   float64 // tokens per second
	burst  float64
	seed   maphash.Seed
	shards [64]limiterShard
}

type limiterShard struct {
	mu      sync.Mutex
	buckets map[netip.Addr]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBucketsPerShard bounds memory under a flood of distinct clients: a full
// shard first drops buckets that have refilled, then, if still full, all.
const maxBucketsPerShard = 4096

func newLimiter(perMinute, burst int) *limiter {
	l := &limiter{rate: float64(perMinute) / 60, burst: float64(burst), seed: maphash.MakeSeed()}
	for i := range l.shards {
		l.shards[i].buckets = map[netip.Addr]*bucket{}
	}
	return l
}

func (l *limiter) allow(client netip.Addr, now time.Time) bool {
	key := client
	if client.Is6() && !client.Is4In6() {
		key = netip.PrefixFrom(client, 64).Masked().Addr()
	}
	sh := &l.shards[maphash.Comparable(l.seed, key)%uint64(len(l.shards))]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b, ok := sh.buckets[key]
	if !ok {
		if len(sh.buckets) >= maxBucketsPerShard {
			l.sweep(sh, now)
		}
		b = &bucket{tokens: l.burst, last: now}
		sh.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

func (l *limiter) sweep(sh *limiterShard, now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range sh.buckets {
		if now.Sub(b.last) >= full {
			delete(sh.buckets, k)
		}
	}
	if len(sh.buckets) >= maxBucketsPerShard {
		clear(sh.buckets)
	}
}

// clientIP is the address a request is counted against. X-Forwarded-For is
// believed only from a trusted proxy, and then read from the right: the last
// address a trusted proxy did not add is the client (earlier entries are
// whatever the client chose to send).
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	peer := ap.Addr().Unmap()
	if len(trusted) == 0 || !allowed(peer, trusted) {
		return peer
	}
	hops := r.Header.Values("X-Forwarded-For")
	for i := len(hops) - 1; i >= 0; i-- {
		parts := strings.Split(hops[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, ok := forwardedAddr(strings.TrimSpace(parts[j]))
			if !ok {
				return peer // a garbled header: count the proxy's own address
			}
			if !allowed(a, trusted) {
				return a
			}
		}
	}
	return peer
}

// forwardedAddr reads one X-Forwarded-For entry: an address, or an address
// with the client's port as some proxies write it ("192.0.2.1:4711",
// "[2001:db8::1]:4711").
func forwardedAddr(entry string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(entry); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(entry); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// allowed reports whether a is inside one of the networks.
func allowed(a netip.Addr, nets []netip.Prefix) bool {
	for _, p := range nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
