package probe

import (
	"context"
	"net/netip"
	"strings"
	"sync"

	"github.com/mailsetup/mailsetup/probe/netx"
)

// cachingResolver asks each address and TLSA question once per probe: the
// check, the login and the HTTP fetches of one host share a lookup, which
// saves a round trip on the critical path. Failures are not kept: a caller
// whose shared lookup failed (say, because the caller that started it was
// cancelled) asks again itself. SRV and MX questions are asked once anyway
// and go straight through. Every new question is told to asked (when not
// nil), for a live display of what is being looked up.
type cachingResolver struct {
	netx.Resolver
	asked func(question string)
	mu    sync.Mutex
	addrs map[string]*lookupCall[[]netip.Addr]
	tlsa  map[string]*lookupCall[[]netx.TLSA]
}

type lookupCall[T any] struct {
	done chan struct{}
	v    T
	meta netx.Meta
	err  error
}

func newCachingResolver(r netx.Resolver, asked func(question string)) *cachingResolver {
	if asked == nil {
		asked = func(string) {}
	}
	return &cachingResolver{Resolver: r, asked: asked, addrs: map[string]*lookupCall[[]netip.Addr]{}, tlsa: map[string]*lookupCall[[]netx.TLSA]{}}
}

func (c *cachingResolver) LookupSRV(ctx context.Context, name string) ([]netx.SRV, netx.Meta, error) {
	c.asked("SRV " + name)
	return c.Resolver.LookupSRV(ctx, name)
}

func (c *cachingResolver) LookupMX(ctx context.Context, name string) ([]netx.MX, netx.Meta, error) {
	c.asked("MX " + name)
	return c.Resolver.LookupMX(ctx, name)
}

func (c *cachingResolver) LookupAddrs(ctx context.Context, host string) ([]netip.Addr, netx.Meta, error) {
	return shared(ctx, &c.mu, c.addrs, strings.ToLower(host), func(ctx context.Context) ([]netip.Addr, netx.Meta, error) {
		c.asked("address of " + host)
		return c.Resolver.LookupAddrs(ctx, host)
	})
}

func (c *cachingResolver) LookupTLSA(ctx context.Context, name string) ([]netx.TLSA, netx.Meta, error) {
	return shared(ctx, &c.mu, c.tlsa, strings.ToLower(name), func(ctx context.Context) ([]netx.TLSA, netx.Meta, error) {
		return c.Resolver.LookupTLSA(ctx, name)
	})
}

// LookupTXT goes straight through, as SRV does: each TXT name is asked once.
func (c *cachingResolver) LookupTXT(ctx context.Context, name string) ([]string, netx.Meta, error) {
	c.asked("TXT " + name)
	return netx.LookupTXT(ctx, c.Resolver, name)
}

// shared runs lookup once per key; concurrent and later callers get its
// answer.
func shared[T any](ctx context.Context, mu *sync.Mutex, calls map[string]*lookupCall[T], key string,
	lookup func(context.Context) (T, netx.Meta, error)) (T, netx.Meta, error) {
	mu.Lock()
	call, ok := calls[key]
	if !ok {
		call = &lookupCall[T]{done: make(chan struct{})}
		calls[key] = call
	}
	mu.Unlock()
	if !ok {
		call.v, call.meta, call.err = lookup(ctx)
		if call.err != nil {
			mu.Lock()
			delete(calls, key)
			mu.Unlock()
		}
		close(call.done)
		return call.v, call.meta, call.err
	}
	select {
	case <-call.done:
	case <-ctx.Done():
		var zero T
		return zero, netx.Meta{}, ctx.Err()
	}
	if call.err != nil {
		return lookup(ctx)
	}
	return call.v, call.meta, nil
}
