// Package netx is the prober's only way onto the network: one Resolver for
// every DNS question (SRV, MX, TLSA and the addresses of HTTP and mail hosts)
// and one Dialer for every connection. Pointing both at the sandbox, or at a
// chosen DNS server with --dns-server, moves the whole prober there.
package netx

import (
	"context"
	"crypto/x509"
	"net"
	"net/netip"
)

// Dialer opens connections. *net.Dialer satisfies it; the sandbox's dialer
// maps its address plan onto loopback listeners.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// Meta says how an answer came back.
type Meta struct {
	// Authenticated is the DNS AD bit, believed only from a resolver on
	// loopback (RFC 4035 §4.9.3): elsewhere the path to the resolver could
	// have set it.
	Authenticated bool
}

// SRV is one RFC 2782 service record.
type SRV struct {
	Target   string // without the trailing dot; "." means "service not offered"
	Port     uint16
	Priority uint16
	Weight   uint16
}

// MX is one mail exchanger.
type MX struct {
	Host string // without the trailing dot
	Pref uint16
}

// TLSA is one DANE record (RFC 6698).
type TLSA struct {
	Usage, Selector, MatchingType uint8
	Data                          []byte
}

// Resolver answers DNS questions. A name that does not exist, or has no
// records of the type, is an empty answer and a nil error; errors are for
// failures (SERVFAIL, time-outs, malformed or hostile answers).
type Resolver interface {
	LookupSRV(ctx context.Context, name string) ([]SRV, Meta, error)
	LookupMX(ctx context.Context, name string) ([]MX, Meta, error)
	LookupAddrs(ctx context.Context, host string) ([]netip.Addr, Meta, error)
	LookupTLSA(ctx context.Context, name string) ([]TLSA, Meta, error)
}

// Env is everything network-facing the prober is given.
type Env struct {
	Resolver Resolver
	Dialer   Dialer
	// RootCAs are the trust anchors for every TLS handshake; nil means the
	// system's roots.
	RootCAs *x509.CertPool
}
