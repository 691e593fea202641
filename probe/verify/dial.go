package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/mailsetup/mailsetup/probe/netx"
)

// attemptDelay is how long one connection attempt runs alone before the
// next address is tried in parallel: RFC 8305 §5 recommends 250 ms.
const attemptDelay = 250 * time.Millisecond

// dialHost resolves host through env.Resolver and connects to its addresses
// through env.Dialer, IPv6 and IPv4 interleaved and raced (RFC 8305): the
// first connection wins, the others are cancelled or closed. It returns the
// connection and the ip:port that answered.
func dialHost(ctx context.Context, env netx.Env, host string, port int) (net.Conn, string, error) {
	addrs, err := resolve(ctx, env.Resolver, host)
	if err != nil {
		return nil, "", err
	}
	targets := make([]string, len(addrs))
	for i, a := range interleave(addrs) {
		targets[i] = net.JoinHostPort(a.String(), strconv.Itoa(port))
	}
	return race(ctx, env.Dialer, targets)
}

func resolve(ctx context.Context, r netx.Resolver, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	if r == nil {
		return nil, fmt.Errorf("%w: no resolver to look up %q", ErrNoAddress, host)
	}
	addrs, _, err := r.LookupAddrs(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("looking up %q: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%w: %q has no A or AAAA record; check the host name", ErrNoAddress, host)
	}
	return addrs, nil
}

// interleave orders addresses IPv6 first, then alternating families
// (RFC 8305 §4), keeping the resolver's order within each family.
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

type dialOutcome struct {
	conn   net.Conn
	target string
	err    error
}

// race starts one attempt per target, each attemptDelay after the previous
// one or as soon as it failed, and returns the first connection.
func race(ctx context.Context, d netx.Dialer, targets []string) (net.Conn, string, error) {
	if d == nil {
		return nil, "", errors.New("verify: no dialer in the environment")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	outcomes := make(chan dialOutcome, len(targets))
	next, running := 0, 0
	var errs []error
	start := func() {
		t := targets[next]
		next++
		running++
		go func() {
			c, err := d.DialContext(ctx, "tcp", t)
			outcomes <- dialOutcome{conn: c, target: t, err: err}
		}()
	}
	start()
	timer := time.NewTimer(attemptDelay)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			if next < len(targets) {
				start()
				timer.Reset(attemptDelay)
			}
		case o := <-outcomes:
			running--
			if o.err == nil {
				go closeLate(outcomes, running)
				return o.conn, o.target, nil
			}
			errs = append(errs, fmt.Errorf("connecting to %s: %w", o.target, o.err))
			if next < len(targets) {
				start()
				timer.Reset(attemptDelay)
			} else if running == 0 {
				return nil, "", errors.Join(errs...)
			}
		case <-ctx.Done():
			go closeLate(outcomes, running)
			errs = append(errs, fmt.Errorf("connecting: %w", ctx.Err()))
			return nil, "", errors.Join(errs...)
		}
	}
}

// closeLate waits for the n attempts still running (cancelled by then) and
// closes any connection one of them made after the race was decided.
func closeLate(outcomes <-chan dialOutcome, n int) {
	for ; n > 0; n-- {
		if late := <-outcomes; late.conn != nil {
			late.conn.Close()
		}
	}
}
