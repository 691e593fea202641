package server

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// connLimiter is a listener that keeps at most max connections open, and
// at most perClient from one client address (IPv6: one /64), closing any
// connection beyond either cap as soon as it is accepted. Idle keep-alive
// connections cost about 20 KB each; without a cap, a few clients holding
// thousands of them exhaust a small pod's memory. Connections from a trusted
// proxy carry many clients, so the per-client cap does not count them.
type connLimiter struct {
	net.Listener
	max, perClient int
	trusted        []netip.Prefix
	m              *metrics

	mu       sync.Mutex
	open     int
	byClient map[netip.Addr]int
}

func newConnLimiter(l net.Listener, c Connections, trusted []netip.Prefix, m *metrics) net.Listener {
	if c.Max == 0 && c.PerClient == 0 {
		return l
	}
	return &connLimiter{Listener: l, max: c.Max, perClient: c.PerClient, trusted: trusted, m: m, byClient: map[netip.Addr]int{}}
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key, counted := l.clientKey(c.RemoteAddr())
		if reason := l.admit(key, counted); reason != "" {
			if reason == "total" {
				l.m.refusedTotal.Add(1)
			} else {
				l.m.refusedPerClient.Add(1)
			}
			c.Close()
			continue
		}
		l.m.openConns.Add(1)
		return &limitedConn{Conn: c, l: l, key: key, counted: counted}, nil
	}
}

// clientKey is what the per-client cap counts; counted is false for
// trusted proxies and peers without an IP address (unix sockets in tests).
func (l *connLimiter) clientKey(a net.Addr) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}, false
	}
	ip := ap.Addr().Unmap()
	if allowed(ip, l.trusted) {
		return ip, false
	}
	if ip.Is6() {
		ip = netip.PrefixFrom(ip, 64).Masked().Addr()
	}
	return ip, true
}

// admit takes a place for a new connection, or says which cap is full.
func (l *connLimiter) admit(key netip.Addr, counted bool) (full string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max > 0 && l.open >= l.max {
		return "total"
	}
	if counted && l.perClient > 0 && l.byClient[key] >= l.perClient {
		return "per_client"
	}
	l.open++
	if counted {
		l.byClient[key]++
	}
	return ""
}

func (l *connLimiter) release(key netip.Addr, counted bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if counted {
		if l.byClient[key] <= 1 {
			delete(l.byClient, key)
		} else {
			l.byClient[key]--
		}
	}
	l.m.openConns.Add(-1)
}

type limitedConn struct {
	net.Conn
	l       *connLimiter
	key     netip.Addr
	counted bool
	closed  atomic.Bool
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c.key, c.counted)
	}
	return err
}
