package netx

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// Errors a DNSResolver returns, wrapped with the name and the detail.
var (
	// ErrDNSFailure is a server-side failure: SERVFAIL, REFUSED and other
	// error rcodes. Asking again later, or another server, may help.
	ErrDNSFailure = errors.New("the DNS server could not answer")
	// ErrHostileAnswer is an answer mailsetup refuses to use: too many
	// records, a CNAME loop or an over-long CNAME chain, or a reply that is
	// not a reply to the question.
	ErrHostileAnswer = errors.New("the DNS answer cannot be used")
	// ErrDNSTimeout means the server did not answer in time.
	ErrDNSTimeout = errors.New("the DNS server did not answer in time")
)

const (
	// MaxRecords is the most records of the asked type one answer may hold.
	// Real mail SRV, MX and address sets have a handful; thousands are an
	// attack on the prober's time and memory.
	MaxRecords = 100
	// MaxCNAMEHops is the longest CNAME chain followed (glibc and most
	// stub resolvers give up at about the same length).
	MaxCNAMEHops = 8
	// udpAttemptTimeout bounds one UDP try; a lost packet is retried once
	// within the caller's deadline.
	udpAttemptTimeout = 2 * time.Second
	// queryTimeout bounds a whole query when the caller's context has no
	// deadline.
	queryTimeout = 5 * time.Second
	// ednsBufferSize is the DNS flag day 2020 recommendation: big enough for
	// most answers, small enough not to fragment.
	ednsBufferSize = 1232
)

// dnsResolver asks one or more DNS servers in turn (RFC 1035 over UDP,
// TCP on truncation per RFC 7766) through a Dialer.
type dnsResolver struct {
	servers []string
	dialer  Dialer
}

// NewDNSResolver returns a Resolver that sends every question to server
// ("host:port"; ":53" is added when the port is missing) through d, so that
// --dns-server and the sandbox reroute all DNS, including the names of HTTP
// and mail hosts.
//
// It asks over UDP with EDNS0 (DO and AD set, so a validating resolver
// reports authentication) and repeats over TCP when the answer is
// truncated. Each query is bounded by ctx and by a default of 5 s when ctx
// has no deadline. It follows CNAME chains (at most MaxCNAMEHops) and
// refuses answers with more than MaxRecords records of the asked type,
// loops, and replies that do not match the question, with ErrHostileAnswer.
// Meta.Authenticated is the AD bit only when server is on loopback (RFC
// 4035 §4.9.3); from any other server the path could have set it.
func NewDNSResolver(server string, d Dialer) Resolver {
	return &dnsResolver{servers: []string{withDNSPort(server)}, dialer: d}
}

func withDNSPort(server string) string {
	if _, _, err := net.SplitHostPort(server); err == nil {
		return server
	}
	return net.JoinHostPort(strings.Trim(server, "[]"), "53")
}

// onLoopback reports whether the server is on this machine, the only place
// whose AD bit is believed.
func onLoopback(server string) bool {
	host, _, err := net.SplitHostPort(server)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

func (r *dnsResolver) LookupSRV(ctx context.Context, name string) ([]SRV, Meta, error) {
	rrs, meta, err := r.lookup(ctx, name, dns.TypeSRV)
	if err != nil {
		return nil, meta, err
	}
	out := make([]SRV, 0, len(rrs))
	for _, rr := range rrs {
		s := rr.(*dns.SRV)
		out = append(out, SRV{Target: trimDot(s.Target), Port: s.Port, Priority: s.Priority, Weight: s.Weight})
	}
	return out, meta, nil
}

func (r *dnsResolver) LookupMX(ctx context.Context, name string) ([]MX, Meta, error) {
	rrs, meta, err := r.lookup(ctx, name, dns.TypeMX)
	if err != nil {
		return nil, meta, err
	}
	out := make([]MX, 0, len(rrs))
	for _, rr := range rrs {
		m := rr.(*dns.MX)
		out = append(out, MX{Host: trimDot(m.Mx), Pref: m.Preference})
	}
	return out, meta, nil
}

func (r *dnsResolver) LookupTLSA(ctx context.Context, name string) ([]TLSA, Meta, error) {
	rrs, meta, err := r.lookup(ctx, name, dns.TypeTLSA)
	if err != nil {
		return nil, meta, err
	}
	out := make([]TLSA, 0, len(rrs))
	for _, rr := range rrs {
		t := rr.(*dns.TLSA)
		data, err := hex.DecodeString(t.Certificate)
		if err != nil {
			return nil, meta, fmt.Errorf("%w: TLSA for %q has bad data: %v", ErrHostileAnswer, name, err)
		}
		out = append(out, TLSA{Usage: t.Usage, Selector: t.Selector, MatchingType: t.MatchingType, Data: data})
	}
	return out, meta, nil
}

// LookupAddrs asks for AAAA and A at once. An IP literal is returned as is.
// One family failing is not an error when the other answered.
func (r *dnsResolver) LookupAddrs(ctx context.Context, host string) ([]netip.Addr, Meta, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, Meta{}, nil
	}
	type result struct {
		rrs  []dns.RR
		meta Meta
		err  error
	}
	var (
		wg      sync.WaitGroup
		results [2]result
	)
	for i, qtype := range []uint16{dns.TypeAAAA, dns.TypeA} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rrs, meta, err := r.lookup(ctx, host, qtype)
			results[i] = result{rrs, meta, err}
		}()
	}
	wg.Wait()
	var (
		addrs []netip.Addr
		auth  = true
	)
	for _, res := range results {
		if res.err != nil {
			continue
		}
		auth = auth && res.meta.Authenticated
		for _, rr := range res.rrs {
			switch rr := rr.(type) {
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(rr.AAAA); ok {
					addrs = append(addrs, a)
				}
			case *dns.A:
				if a, ok := netip.AddrFromSlice(rr.A); ok {
					addrs = append(addrs, a.Unmap())
				}
			}
		}
	}
	if len(addrs) == 0 {
		// An empty answer to one question proves nothing while the other
		// failed (a lost or refused A query must not read as "no address").
		for _, res := range []result{results[1], results[0]} {
			if res.err != nil {
				return nil, Meta{}, res.err
			}
		}
	}
	return addrs, Meta{Authenticated: auth}, nil
}

// lookup returns the records of qtype for name, following CNAMEs within the
// answer and, when a chain leaves the answer, with new queries.
func (r *dnsResolver) lookup(ctx context.Context, name string, qtype uint16) ([]dns.RR, Meta, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, queryTimeout)
		defer cancel()
	}
	qname := dns.Fqdn(strings.ToLower(name))
	if _, ok := dns.IsDomainName(qname); !ok {
		return nil, Meta{}, fmt.Errorf("%q is not a DNS name", name)
	}
	seen := map[string]bool{}
	auth := true
	hops := 0
	for {
		msg, authenticated, err := r.ask(ctx, qname, qtype)
		if err != nil {
			return nil, Meta{}, fmt.Errorf("%s %s: %w", dns.TypeToString[qtype], strings.TrimSuffix(name, "."), err)
		}
		auth = auth && authenticated
		if msg.Rcode == dns.RcodeNameError {
			return nil, Meta{Authenticated: auth}, nil
		}
		rrs, next, err := chase(msg.Answer, qname, qtype, seen, &hops)
		if err != nil {
			return nil, Meta{}, fmt.Errorf("%s %s: %w", dns.TypeToString[qtype], strings.TrimSuffix(name, "."), err)
		}
		if next == "" || len(rrs) > 0 {
			return rrs, Meta{Authenticated: auth}, nil
		}
		// The chain points outside what the server sent: ask for the target.
		qname = next
	}
}

// chase walks the CNAME chain from qname through answer and returns the
// records of qtype at its end, or the name the chain leads to when the
// answer holds nothing for it. seen and hops carry over between queries so
// loops that span several answers are caught too.
func chase(answer []dns.RR, qname string, qtype uint16, seen map[string]bool, hops *int) ([]dns.RR, string, error) {
	owner := qname
	seen[owner] = true
	for {
		var (
			rrs   []dns.RR
			cname string
		)
		for _, rr := range answer {
			h := rr.Header()
			if !strings.EqualFold(h.Name, owner) || h.Class != dns.ClassINET {
				continue
			}
			if h.Rrtype == qtype {
				rrs = append(rrs, rr)
			} else if c, ok := rr.(*dns.CNAME); ok && cname == "" {
				cname = strings.ToLower(dns.Fqdn(c.Target))
			}
		}
		if len(rrs) > MaxRecords {
			return nil, "", fmt.Errorf("%w: %d records, more than the %d accepted", ErrHostileAnswer, len(rrs), MaxRecords)
		}
		if len(rrs) > 0 || cname == "" {
			if len(rrs) == 0 && owner != qname {
				return nil, owner, nil
			}
			return rrs, "", nil
		}
		*hops++
		if seen[cname] {
			return nil, "", fmt.Errorf("%w: CNAME loop at %q", ErrHostileAnswer, trimDot(cname))
		}
		if *hops > MaxCNAMEHops {
			return nil, "", fmt.Errorf("%w: CNAME chain longer than %d names", ErrHostileAnswer, MaxCNAMEHops)
		}
		seen[cname] = true
		owner = cname
		if !answerHas(answer, owner) {
			return nil, owner, nil
		}
	}
}

func answerHas(answer []dns.RR, owner string) bool {
	for _, rr := range answer {
		if strings.EqualFold(rr.Header().Name, owner) {
			return true
		}
	}
	return false
}

// ask sends one question to each server in turn until one answers without
// a transport error or failure rcode.
func (r *dnsResolver) ask(ctx context.Context, qname string, qtype uint16) (*dns.Msg, bool, error) {
	q := new(dns.Msg)
	q.SetQuestion(qname, qtype)
	q.RecursionDesired = true
	q.AuthenticatedData = true
	q.SetEdns0(ednsBufferSize, true)
	var firstErr error
	for _, server := range r.servers {
		msg, err := r.exchange(ctx, server, q)
		if err == nil {
			switch msg.Rcode {
			case dns.RcodeSuccess, dns.RcodeNameError:
				return msg, msg.AuthenticatedData && onLoopback(server), nil
			default:
				err = fmt.Errorf("%w: %s from %s", ErrDNSFailure, dns.RcodeToString[msg.Rcode], server)
			}
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, false, firstErr
}

// exchange asks server over UDP, retrying a lost packet once, and over TCP
// when the answer is truncated.
func (r *dnsResolver) exchange(ctx context.Context, server string, q *dns.Msg) (*dns.Msg, error) {
	var (
		msg *dns.Msg
		err error
	)
	for attempt := 0; attempt < 2; attempt++ {
		msg, err = r.exchangeOver(ctx, "udp", server, q, udpAttemptTimeout)
		if !errors.Is(err, ErrDNSTimeout) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if msg.Truncated {
		return r.exchangeOver(ctx, "tcp", server, q, 0)
	}
	return msg, nil
}

// exchangeOver does one round trip. It frames messages itself (RFC 1035
// §4.2) so that any net.Conn a Dialer returns works, not only *net.UDPConn.
func (r *dnsResolver) exchangeOver(ctx context.Context, network, server string, q *dns.Msg, limit time.Duration) (*dns.Msg, error) {
	if limit > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, limit)
		defer cancel()
	}
	q = q.Copy()
	q.Id = dns.Id()
	packed, err := q.Pack()
	if err != nil {
		return nil, fmt.Errorf("packing the DNS query: %w", err)
	}
	conn, err := r.dialer.DialContext(ctx, network, server)
	if err != nil {
		return nil, timeoutOr(ctx, fmt.Errorf("connecting to DNS server %s over %s: %w", server, network, err))
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	// Unblock reads when ctx is cancelled before its deadline.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()

	if network == "tcp" {
		framed := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(packed)), uint16(len(packed)))
		if _, err := conn.Write(append(framed, packed...)); err != nil {
			return nil, timeoutOr(ctx, fmt.Errorf("sending to DNS server %s: %w", server, err))
		}
		var length [2]byte
		if _, err := io.ReadFull(conn, length[:]); err != nil {
			return nil, timeoutOr(ctx, fmt.Errorf("reading from DNS server %s: %w", server, err))
		}
		buf := make([]byte, binary.BigEndian.Uint16(length[:]))
		if _, err := io.ReadFull(conn, buf); err != nil {
			return nil, timeoutOr(ctx, fmt.Errorf("reading from DNS server %s: %w", server, err))
		}
		return parseReply(buf, q, server)
	}

	if _, err := conn.Write(packed); err != nil {
		return nil, timeoutOr(ctx, fmt.Errorf("sending to DNS server %s: %w", server, err))
	}
	buf := make([]byte, dns.MaxMsgSize)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return nil, timeoutOr(ctx, fmt.Errorf("reading from DNS server %s: %w", server, err))
		}
		msg, err := parseReply(buf[:n], q, server)
		if errors.Is(err, errNotOurReply) {
			// A late answer to an earlier query, or a spoofing attempt:
			// keep listening until the deadline.
			continue
		}
		return msg, err
	}
}

var errNotOurReply = errors.New("reply does not match the query")

func parseReply(buf []byte, q *dns.Msg, server string) (*dns.Msg, error) {
	msg := new(dns.Msg)
	if err := msg.Unpack(buf); err != nil {
		// A truncated UDP answer may not unpack completely; its header
		// still says to retry over TCP.
		if msg.Truncated && msg.Id == q.Id {
			return msg, nil
		}
		return nil, fmt.Errorf("%w: malformed reply from %s: %v", ErrHostileAnswer, server, err)
	}
	if msg.Id != q.Id || !msg.Response || len(msg.Question) != 1 ||
		!strings.EqualFold(msg.Question[0].Name, q.Question[0].Name) || msg.Question[0].Qtype != q.Question[0].Qtype {
		if msg.Id == q.Id && msg.Response && len(msg.Question) == 0 && msg.Rcode != dns.RcodeSuccess {
			// Some servers drop the question section from error replies.
			return msg, nil
		}
		return nil, fmt.Errorf("%w from %s", errNotOurReply, server)
	}
	return msg, nil
}

// timeoutOr turns a deadline hit into ErrDNSTimeout and keeps cancellation
// visible as the context's error.
func timeoutOr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	var ne net.Error
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("%w: %w", ErrDNSTimeout, err)
	}
	return err
}

func trimDot(name string) string {
	if name == "." {
		return name
	}
	return strings.TrimSuffix(name, ".")
}
