package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/mailsetup/mailsetup/probe/netx"
)

// dialHost resolves host through env.Resolver and connects through
// env.Dialer the way every prober connection does (netx.DialAddrs: IPv6 and
// IPv4 interleaved and raced, RFC 8305). It returns the connection and the
// ip:port that answered.
func dialHost(ctx context.Context, env netx.Env, host string, port int) (net.Conn, string, error) {
	if env.Dialer == nil {
		return nil, "", errors.New("no network to connect through")
	}
	addrs, err := resolve(ctx, env.Resolver, host)
	if err != nil {
		return nil, "", err
	}
	conn, target, err := netx.DialAddrs(ctx, env.Dialer, "tcp", addrs, uint16(port))
	if err != nil {
		return nil, "", fmt.Errorf("connecting to %s: %w", net.JoinHostPort(host, strconv.Itoa(port)), err)
	}
	return conn, target, nil
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
