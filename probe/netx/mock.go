package netx

import (
	"context"
	"net/netip"
	"strings"
)

// MockResolver answers from maps, for tests: a name that is in no map has
// no records. Names are compared without case and without a trailing dot.
// Fail makes chosen lookups fail: keys are "TYPE name" ("SRV _imaps._tcp.a.test",
// "MX a.test", "ADDR imap.a.test", "TLSA _993._tcp.imap.a.test") and the value
// is the error returned. Authentic lists "TYPE name" keys answered with the
// AD bit. It is safe for concurrent use as long as the maps are not changed.
type MockResolver struct {
	SRV       map[string][]SRV
	MX        map[string][]MX
	Addrs     map[string][]netip.Addr
	TLSA      map[string][]TLSA
	TXT       map[string][]string
	Fail      map[string]error
	Authentic map[string]bool
}

func mockKey(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

func (m *MockResolver) meta(typ, name string) (Meta, error) {
	k := typ + " " + mockKey(name)
	return Meta{Authenticated: m.Authentic[k]}, m.Fail[k]
}

func (m *MockResolver) LookupSRV(ctx context.Context, name string) ([]SRV, Meta, error) {
	meta, err := m.meta("SRV", name)
	if err != nil {
		return nil, Meta{}, err
	}
	return m.SRV[mockKey(name)], meta, ctx.Err()
}

func (m *MockResolver) LookupMX(ctx context.Context, name string) ([]MX, Meta, error) {
	meta, err := m.meta("MX", name)
	if err != nil {
		return nil, Meta{}, err
	}
	return m.MX[mockKey(name)], meta, ctx.Err()
}

func (m *MockResolver) LookupAddrs(ctx context.Context, host string) ([]netip.Addr, Meta, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, Meta{}, nil
	}
	meta, err := m.meta("ADDR", host)
	if err != nil {
		return nil, Meta{}, err
	}
	return m.Addrs[mockKey(host)], meta, ctx.Err()
}

func (m *MockResolver) LookupTLSA(ctx context.Context, name string) ([]TLSA, Meta, error) {
	meta, err := m.meta("TLSA", name)
	if err != nil {
		return nil, Meta{}, err
	}
	return m.TLSA[mockKey(name)], meta, ctx.Err()
}
