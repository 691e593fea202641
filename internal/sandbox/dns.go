package sandbox

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// hugeSRVCount is how many SRV records a DNSHugeSRV answer holds: thousands,
// and still (just) under the 64 KiB a DNS message can carry over TCP.
const hugeSRVCount = 2000

// zones is the world's DNS data: authoritative zones, their records and the
// faults of chosen names.
type zones struct {
	apex   map[string]bool // zone apex (FQDN) → signed
	rrs    map[string][]dns.RR
	exists map[string]bool // every owner name and the names between it and its apex
	faults map[string][]DNSFault
}

func newZones() *zones {
	return &zones{apex: map[string]bool{}, rrs: map[string][]dns.RR{}, exists: map[string]bool{}, faults: map[string][]DNSFault{}}
}

func fqdn(name string) string { return dns.Fqdn(strings.ToLower(name)) }

func (z *zones) addZone(name string, signed bool) { z.apex[fqdn(name)] = signed }

// zoneOf returns the apex of the zone that holds name.
func (z *zones) zoneOf(name string) (string, bool) {
	for n := fqdn(name); ; {
		if _, ok := z.apex[n]; ok {
			return n, true
		}
		i := strings.IndexByte(n, '.')
		if i < 0 || i == len(n)-1 {
			return "", false
		}
		n = n[i+1:]
	}
}

func (z *zones) add(rr dns.RR) error {
	h := rr.Header()
	h.Name = fqdn(h.Name)
	apex, ok := z.zoneOf(h.Name)
	if !ok {
		return fmt.Errorf("%w: record %q is outside the scenario's zones", ErrBadScenario, rr.String())
	}
	z.rrs[h.Name] = append(z.rrs[h.Name], rr)
	for n := h.Name; n != apex; n = n[strings.IndexByte(n, '.')+1:] {
		z.exists[n] = true
	}
	return nil
}

func (z *zones) addHost(name string, a netip.Addr) error {
	return z.add(&dns.A{Hdr: dns.RR_Header{Name: fqdn(name), Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: a.AsSlice()})
}

// addRecord adds a record written in zone-file syntax.
func (z *zones) addRecord(text string) error {
	rr, err := dns.NewRR(text)
	if err != nil || rr == nil {
		return fmt.Errorf("%w: record %q: %v", ErrBadScenario, text, err)
	}
	return z.add(rr)
}

func (z *zones) addFault(f DNSFault) error {
	if f.Type != "" {
		if _, ok := dns.StringToType[strings.ToUpper(f.Type)]; !ok {
			return fmt.Errorf("%w: DNS fault for %q has unknown type %q", ErrBadScenario, f.Name, f.Type)
		}
	}
	n := fqdn(f.Name)
	if _, ok := z.zoneOf(n); !ok {
		return fmt.Errorf("%w: DNS fault for %q is outside the scenario's zones", ErrBadScenario, f.Name)
	}
	z.faults[n] = append(z.faults[n], f)
	z.exists[n] = true
	return nil
}

// fault returns the fault for a question, if any.
func (z *zones) fault(name string, qtype uint16) (DNSFault, bool) {
	for _, f := range z.faults[name] {
		if f.Type == "" || dns.StringToType[strings.ToUpper(f.Type)] == qtype {
			return f, true
		}
	}
	return DNSFault{}, false
}

// maxChase bounds CNAME following inside the server, so a loop ends.
const maxChase = 16

// answer returns the records for a question, following CNAMEs inside the
// world, and whether the final name exists at all.
func (z *zones) answer(name string, qtype uint16) ([]dns.RR, bool) {
	var out []dns.RR
	seen := map[string]bool{}
	for range maxChase {
		seen[name] = true
		var cname *dns.CNAME
		found := false
		for _, rr := range z.rrs[name] {
			if rr.Header().Rrtype == qtype || qtype == dns.TypeANY {
				out = append(out, dns.Copy(rr))
				found = true
			} else if c, ok := rr.(*dns.CNAME); ok {
				cname = c
			}
		}
		if found || cname == nil {
			return out, len(z.rrs[name]) > 0 || z.exists[name]
		}
		out = append(out, dns.Copy(cname))
		next := fqdn(cname.Target)
		if _, ok := z.zoneOf(next); !ok || seen[next] {
			return out, true
		}
		name = next
	}
	return out, true
}

// address returns the first A record of name, for the dialer's own lookups.
func (z *zones) address(name string) (netip.Addr, bool) {
	rrs, _ := z.answer(fqdn(name), dns.TypeA)
	for _, rr := range rrs {
		if a, ok := rr.(*dns.A); ok {
			if ip, ok := netip.AddrFromSlice(a.A); ok {
				return ip.Unmap(), true
			}
		}
	}
	return netip.Addr{}, false
}

// soa is the zone's SOA record, for the authority section of negative answers.
func soa(apex string) dns.RR {
	return &dns.SOA{
		Hdr: dns.RR_Header{Name: apex, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 60},
		Ns:  "ns." + apex, Mbox: "hostmaster." + apex,
		Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60,
	}
}

// dnsServer is the world's authoritative server, on UDP and TCP at one port.
type dnsServer struct {
	w    *World
	addr string
	udp  *dns.Server
	tcp  *dns.Server
}

func startDNS(w *World, addr string) (*dnsServer, error) {
	s := &dnsServer{w: w}
	var (
		ln  net.Listener
		pc  net.PacketConn
		err error
	)
	// UDP and TCP must share a port: a resolver retries a truncated answer
	// over TCP at the same address. Another program may hold the UDP twin
	// of a random TCP port, so try a few.
	for range 5 {
		if ln, err = net.Listen("tcp", addr); err != nil {
			return nil, fmt.Errorf("sandbox: DNS listen on %s: %w", addr, err)
		}
		if pc, err = net.ListenPacket("udp", ln.Addr().String()); err == nil {
			break
		}
		ln.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("sandbox: DNS listen on %s: %w", addr, err)
	}
	s.addr = ln.Addr().String()
	s.udp = &dns.Server{PacketConn: pc, Handler: s}
	s.tcp = &dns.Server{Listener: ln, Handler: s}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
	}
	return s, nil
}

func (s *dnsServer) close() {
	s.udp.Shutdown()
	s.tcp.Shutdown()
}

// ServeDNS answers one question authoritatively.
func (s *dnsServer) ServeDNS(rw dns.ResponseWriter, req *dns.Msg) {
	z := s.w.zones
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.RecursionAvailable = false
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		rw.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := fqdn(q.Name)
	delay := s.w.opts.Latency
	if h, ok := s.w.names[strings.TrimSuffix(name, ".")]; ok {
		delay += h.Latency
	}
	f, faulty := z.fault(name, q.Qtype)
	if faulty {
		switch f.Kind {
		case DNSTimeout:
			return
		case DNSSlow:
			delay += f.Delay
		}
	}
	apex, ours := z.zoneOf(name)
	switch {
	case !ours:
		m.Authoritative = false
		m.Rcode = dns.RcodeRefused
	case faulty && f.Kind == DNSServFail:
		m.Authoritative = false
		m.Rcode = dns.RcodeServerFailure
	case faulty && f.Kind == DNSHugeSRV && q.Qtype == dns.TypeSRV:
		m.Answer = hugeSRV(name, apex)
	default:
		answer, exists := z.answer(name, q.Qtype)
		m.Answer = answer
		if len(answer) == 0 {
			m.Ns = []dns.RR{soa(apex)}
			if !exists {
				m.Rcode = dns.RcodeNameError
			}
		}
	}
	// RFC 6840 §5.7: the AD bit only for a client that asked with AD or DO.
	opt := req.IsEdns0()
	wantsAD := req.AuthenticatedData || (opt != nil && opt.Do())
	if ours && wantsAD && m.Rcode != dns.RcodeServerFailure && s.signed(m) {
		m.AuthenticatedData = true
	}
	size := dns.MinMsgSize
	if opt != nil {
		m.SetEdns0(opt.UDPSize(), opt.Do())
		size = max(int(opt.UDPSize()), dns.MinMsgSize)
	}
	if _, isTCP := rw.RemoteAddr().(*net.TCPAddr); isTCP {
		size = dns.MaxMsgSize
	}
	m.Compress = true
	m.Truncate(size)
	if s.w.sleep(context.Background(), delay) != nil {
		return
	}
	rw.WriteMsg(m)
}

// signed reports whether every name in the answer lies in a signed zone.
func (s *dnsServer) signed(m *dns.Msg) bool {
	z := s.w.zones
	names := []string{m.Question[0].Name}
	for _, rr := range m.Answer {
		names = append(names, rr.Header().Name)
	}
	for _, n := range names {
		apex, ok := z.zoneOf(n)
		if !ok || !z.apex[apex] {
			return false
		}
	}
	return true
}

// hugeSRV is a hostile answer: thousands of SRV records for one name.
func hugeSRV(name, apex string) []dns.RR {
	out := make([]dns.RR, hugeSRVCount)
	for i := range out {
		out[i] = &dns.SRV{
			Hdr:      dns.RR_Header{Name: name, Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 300},
			Priority: uint16(i % 10), Weight: uint16(i), Port: 993,
			Target: fmt.Sprintf("h%d.%s", i, apex),
		}
	}
	return out
}

// ensure the server satisfies miekg/dns's Handler.
var _ dns.Handler = (*dnsServer)(nil)
