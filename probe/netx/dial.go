package netx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// ErrNoAddress means a host name has no A or AAAA record.
var ErrNoAddress = errors.New("the host has no address in DNS")

// connectStagger is how long one address gets before the next one is tried
// alongside it (RFC 8305 §5 recommends 250 ms).
const connectStagger = 250 * time.Millisecond

// DialHost connects to "host:port" the way every prober connection does:
// the name is resolved through r, then the addresses are tried through d in
// Happy Eyeballs order (RFC 8305: IPv6 and IPv4 interleaved, each started
// 250 ms after the previous one unless that one already failed), and the
// first connection wins. A silent address therefore costs 250 ms, not a
// whole connect timeout. The deadline comes from ctx.
func DialHost(ctx context.Context, r Resolver, d Dialer, network, hostport string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, fmt.Errorf("%q is not host:port: %w", hostport, err)
	}
	if _, err := strconv.ParseUint(portText, 10, 16); err != nil {
		return nil, fmt.Errorf("%q has no valid port", hostport)
	}
	addrs, _, err := r.LookupAddrs(ctx, host)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%w: %q", ErrNoAddress, host)
	}
	conn, _, err := dialRace(ctx, d, network, interleave(addrs), portText)
	return conn, err
}

// DialAddrs is DialHost for a caller that resolved the name itself (to
// reuse one answer for several ports): it races addrs in Happy Eyeballs
// order. It also returns the "ip:port" that answered, as dialled: a mapping
// Dialer (the sandbox's) may report another address as the remote end.
func DialAddrs(ctx context.Context, d Dialer, network string, addrs []netip.Addr, port uint16) (net.Conn, string, error) {
	if len(addrs) == 0 {
		return nil, "", ErrNoAddress
	}
	return dialRace(ctx, d, network, interleave(addrs), strconv.Itoa(int(port)))
}

// interleave orders addresses IPv6, IPv4, IPv6, ... keeping each family's
// own order (RFC 8305 §4).
func interleave(addrs []netip.Addr) []netip.Addr {
	var v6, v4 []netip.Addr
	for _, a := range addrs {
		if a.Is4() || a.Is4In6() {
			v4 = append(v4, a.Unmap())
		} else {
			v6 = append(v6, a)
		}
	}
	out := make([]netip.Addr, 0, len(addrs))
	for i := 0; i < len(v6) || i < len(v4); i++ {
		if i < len(v6) {
			out = append(out, v6[i])
		}
		if i < len(v4) {
			out = append(out, v4[i])
		}
	}
	return out
}

func dialRace(ctx context.Context, d Dialer, network string, addrs []netip.Addr, port string) (net.Conn, string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		conn   net.Conn
		target string
		err    error
	}
	results := make(chan result, len(addrs))
	started, finished := 0, 0
	start := func() {
		addr := net.JoinHostPort(addrs[started].String(), port)
		started++
		go func() {
			c, err := d.DialContext(ctx, network, addr)
			results <- result{c, addr, err}
		}()
	}
	start()
	var errs []error
	timer := time.NewTimer(connectStagger)
	defer timer.Stop()
	for finished < started {
		select {
		case res := <-results:
			finished++
			if res.err == nil {
				cancel()
				// Close connections that lost the race once they arrive.
				go func(n int) {
					for ; n > 0; n-- {
						if late := <-results; late.conn != nil {
							late.conn.Close()
						}
					}
				}(started - finished)
				return res.conn, res.target, nil
			}
			errs = append(errs, res.err)
			if started < len(addrs) && ctx.Err() == nil {
				start()
				timer.Reset(connectStagger)
			}
		case <-timer.C:
			if started < len(addrs) {
				start()
				timer.Reset(connectStagger)
			}
		}
	}
	return nil, "", errors.Join(errs...)
}
