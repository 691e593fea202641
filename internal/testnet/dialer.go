package testnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// ErrRefused is what Dialer returns for an address it has no route for.
var ErrRefused = errors.New("connection refused (test dialer)")

// Dialer is the one dialer double: it satisfies probe/netx's Dialer and maps
// the addresses the code under test dials onto what the test set up. Each
// rule is keyed by "host:port" (exact), ":port" (any host) or "*" (any
// address); the most specific wins. An address no rule covers is refused with
// ErrRefused, so a test never reaches a real network. It records every dial.
// It is safe for concurrent use.
type Dialer struct {
	mu     sync.Mutex
	rules  map[string]rule
	dialed []string
}

type rule struct {
	to    string           // a real (loopback) address to dial instead
	hang  bool             // block until the context ends
	serve func(c net.Conn) // serve the connection in memory
}

// Route sends dials of key to the real address to, usually a test
// listener's Addr().String().
func (d *Dialer) Route(key, to string) { d.set(key, rule{to: to}) }

// Hang makes dials of key block until their context ends, like a host that
// drops SYNs.
func (d *Dialer) Hang(key string) { d.set(key, rule{hang: true}) }

// Serve answers dials of key with an in-memory connection whose other end is
// given to serve in its own goroutine.
func (d *Dialer) Serve(key string, serve func(c net.Conn)) { d.set(key, rule{serve: serve}) }

// Script answers dials of key with script and then closes, discarding what
// the client sends: a peer for fuzzing and hostile-server tests.
func (d *Dialer) Script(key string, script []byte) {
	d.Serve(key, func(c net.Conn) {
		go io.Copy(io.Discard, c)
		c.Write(script)
		c.Close()
	})
}

func (d *Dialer) set(key string, r rule) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.rules == nil {
		d.rules = map[string]rule{}
	}
	d.rules[key] = r
}

// Dials returns the addresses dialed so far, in order.
func (d *Dialer) Dials() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dialed...)
}

// DialContext implements netx.Dialer.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	d.dialed = append(d.dialed, address)
	r, ok := d.lookup(address)
	d.mu.Unlock()
	switch {
	case !ok:
		return nil, fmt.Errorf("dial %s %s: %w", network, address, ErrRefused)
	case r.hang:
		<-ctx.Done()
		return nil, ctx.Err()
	case r.serve != nil:
		client, server := net.Pipe()
		go r.serve(server)
		return client, nil
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, r.to)
}

func (d *Dialer) lookup(address string) (rule, bool) {
	if r, ok := d.rules[address]; ok {
		return r, true
	}
	if _, port, err := net.SplitHostPort(address); err == nil {
		if r, ok := d.rules[":"+port]; ok {
			return r, true
		}
	}
	r, ok := d.rules["*"]
	return r, ok
}
