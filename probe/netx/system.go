package netx

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// resolvConf is where Unix systems name their DNS servers.
const resolvConf = "/etc/resolv.conf"

// SystemResolver returns the resolver the real command uses without
// --dns-server: the servers of /etc/resolv.conf, asked in order through
// d exactly as NewDNSResolver asks one. Where that file does not exist or
// names no server (Windows, some macOS setups) it falls back to the
// operating system's resolver, which cannot report DNSSEC authentication
// nor answer TLSA questions. Tests never use it: they inject a resolver.
func SystemResolver(d Dialer) Resolver { return resolverFromConf(resolvConf, d) }

func resolverFromConf(path string, d Dialer) Resolver {
	conf, err := dns.ClientConfigFromFile(path)
	if err != nil || len(conf.Servers) == 0 {
		return osResolver{r: net.DefaultResolver}
	}
	servers := make([]string, 0, len(conf.Servers))
	for _, s := range conf.Servers {
		servers = append(servers, net.JoinHostPort(s, conf.Port))
	}
	return &dnsResolver{servers: servers, dialer: d}
}

// ErrNoTLSA is returned by the operating system's resolver, which has no
// TLSA lookup.
var ErrNoTLSA = errors.New("the system resolver cannot look up TLSA records; ask a DNS server directly instead")

// osResolver wraps net.Resolver. It never reports authentication: the
// operating system hides the AD bit.
type osResolver struct{ r *net.Resolver }

func (o osResolver) LookupSRV(ctx context.Context, name string) ([]SRV, Meta, error) {
	_, recs, err := o.r.LookupSRV(ctx, "", "", name)
	if notFound(err) {
		return nil, Meta{}, nil
	}
	if err != nil {
		return nil, Meta{}, err
	}
	if len(recs) > MaxRecords {
		return nil, Meta{}, fmt.Errorf("SRV %s: %w: %d records, more than the %d accepted", name, ErrHostileAnswer, len(recs), MaxRecords)
	}
	out := make([]SRV, 0, len(recs))
	for _, r := range recs {
		out = append(out, SRV{Target: trimDot(r.Target), Port: r.Port, Priority: r.Priority, Weight: r.Weight})
	}
	return out, Meta{}, nil
}

func (o osResolver) LookupMX(ctx context.Context, name string) ([]MX, Meta, error) {
	recs, err := o.r.LookupMX(ctx, name)
	if notFound(err) {
		return nil, Meta{}, nil
	}
	if err != nil {
		return nil, Meta{}, err
	}
	if len(recs) > MaxRecords {
		return nil, Meta{}, fmt.Errorf("MX %s: %w: %d records, more than the %d accepted", name, ErrHostileAnswer, len(recs), MaxRecords)
	}
	out := make([]MX, 0, len(recs))
	for _, r := range recs {
		out = append(out, MX{Host: trimDot(r.Host), Pref: r.Pref})
	}
	return out, Meta{}, nil
}

func (o osResolver) LookupAddrs(ctx context.Context, host string) ([]netip.Addr, Meta, error) {
	addrs, err := o.r.LookupNetIP(ctx, "ip", strings.Trim(host, "[]"))
	if notFound(err) {
		return nil, Meta{}, nil
	}
	if err != nil {
		return nil, Meta{}, err
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs, Meta{}, nil
}

func (o osResolver) LookupTLSA(ctx context.Context, name string) ([]TLSA, Meta, error) {
	return nil, Meta{}, ErrNoTLSA
}

func notFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}
