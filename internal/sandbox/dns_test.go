package sandbox

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailsetup/mailsetup/probe/netx"
)

// ask sends one question to the world's DNS server with miekg/dns's client.
func ask(t *testing.T, w *World, net, name string, qtype uint16, edit func(*dns.Msg)) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	if edit != nil {
		edit(m)
	}
	c := &dns.Client{Net: net, Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, w.DNSServer())
	if err != nil {
		t.Fatalf("%s %s over %s: %v", dns.TypeToString[qtype], name, net, err)
	}
	return r
}

func TestDNSAnswers(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"demo", "pop3-only", "mx-big-provider"}, Extra: []Scenario{{
		Name: "records", Password: "x", Domains: []string{"records.test"},
		Records: []string{
			"records.test. TXT \"v=spf1 -all\"",
			"_993._tcp.imap.records.test. TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			"records.test. AAAA ::1",
		},
	}}})

	r := ask(t, w, "udp", "_imaps._tcp.demo.test", dns.TypeSRV, nil)
	if r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 {
		t.Fatalf("SRV _imaps: %v", r)
	}
	if s := r.Answer[0].(*dns.SRV); s.Target != "imap.demo.test." || s.Port != 993 {
		t.Errorf("SRV _imaps = %v", s)
	}
	r = ask(t, w, "udp", "imap.demo.test", dns.TypeA, nil)
	want, _ := w.HostAddr("imap.demo.test")
	if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != want.String() {
		t.Errorf("A imap.demo.test = %v, want %s", r.Answer, want)
	}
	r = ask(t, w, "udp", "_imaps._tcp.pop3-only.test", dns.TypeSRV, nil)
	if len(r.Answer) != 1 || r.Answer[0].(*dns.SRV).Target != "." {
		t.Errorf("SRV target \".\": %v", r.Answer)
	}
	r = ask(t, w, "udp", "hosted-at-bigmail.test", dns.TypeMX, nil)
	if len(r.Answer) != 1 || r.Answer[0].(*dns.MX).Mx != "mx1.bigmail.test." {
		t.Errorf("MX: %v", r.Answer)
	}
	for _, tc := range []struct {
		name  string
		qtype uint16
	}{{"records.test", dns.TypeTXT}, {"_993._tcp.imap.records.test", dns.TypeTLSA}, {"records.test", dns.TypeAAAA}} {
		if r := ask(t, w, "udp", tc.name, tc.qtype, nil); len(r.Answer) != 1 {
			t.Errorf("%s %s: %v", dns.TypeToString[tc.qtype], tc.name, r.Answer)
		}
	}

	// Negative answers: NXDOMAIN for a name that does not exist, NODATA
	// (with the SOA) for one that exists without the type, and for the
	// empty non-terminal _tcp.demo.test.
	if r := ask(t, w, "udp", "nope.demo.test", dns.TypeA, nil); r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 {
		t.Errorf("nonexistent name: rcode %s, authority %v", dns.RcodeToString[r.Rcode], r.Ns)
	}
	if r := ask(t, w, "udp", "imap.demo.test", dns.TypeMX, nil); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
		t.Errorf("NODATA: %v", r)
	}
	if r := ask(t, w, "udp", "_tcp.demo.test", dns.TypeSRV, nil); r.Rcode != dns.RcodeSuccess {
		t.Errorf("empty non-terminal: rcode %s", dns.RcodeToString[r.Rcode])
	}
	if r := ask(t, w, "udp", "example.com", dns.TypeA, nil); r.Rcode != dns.RcodeRefused {
		t.Errorf("outside the world: rcode %s, want REFUSED", dns.RcodeToString[r.Rcode])
	}
}

func TestDNSFaults(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"dns-trouble", "dnssec-signed", "hostile-dns", "demo"}})

	if r := ask(t, w, "udp", "_imaps._tcp.dnsfail.test", dns.TypeSRV, nil); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("SERVFAIL fault: rcode %s", dns.RcodeToString[r.Rcode])
	}
	m := new(dns.Msg)
	m.SetQuestion("dnsfail.test.", dns.TypeMX)
	c := &dns.Client{Timeout: 300 * time.Millisecond}
	if _, _, err := c.Exchange(m, w.DNSServer()); err == nil {
		t.Error("time-out fault: got an answer")
	}
	// The time-out is for MX only: the domain's other names still answer.
	if r := ask(t, w, "udp", "autoconfig.dnsfail.test", dns.TypeA, nil); len(r.Answer) != 1 {
		t.Errorf("A beside the time-out: %v", r.Answer)
	}

	// AD only for a signed zone, and only when asked (RFC 6840 §5.7).
	withDO := func(m *dns.Msg) { m.SetEdns0(1232, true) }
	if r := ask(t, w, "udp", "_imaps._tcp.signed.test", dns.TypeSRV, withDO); !r.AuthenticatedData {
		t.Error("signed zone, DO set: no AD bit")
	}
	if r := ask(t, w, "udp", "_imaps._tcp.signed.test", dns.TypeSRV, func(m *dns.Msg) { m.AuthenticatedData = true }); !r.AuthenticatedData {
		t.Error("signed zone, AD set: no AD bit")
	}
	if r := ask(t, w, "udp", "_imaps._tcp.signed.test", dns.TypeSRV, nil); r.AuthenticatedData {
		t.Error("signed zone, not asked: AD bit set")
	}
	if r := ask(t, w, "udp", "_imaps._tcp.demo.test", dns.TypeSRV, withDO); r.AuthenticatedData {
		t.Error("unsigned zone: AD bit set")
	}

	// Thousands of SRV records: truncated over UDP, whole over TCP.
	r := ask(t, w, "udp", "_imaps._tcp.hostile-dns.test", dns.TypeSRV, nil)
	if !r.Truncated {
		t.Error("huge SRV over UDP: not truncated")
	}
	r = ask(t, w, "tcp", "_imaps._tcp.hostile-dns.test", dns.TypeSRV, nil)
	if len(r.Answer) < 1000 {
		t.Errorf("huge SRV over TCP: %d records, want thousands", len(r.Answer))
	}

	// A CNAME loop: the server follows it once round and stops.
	r = ask(t, w, "udp", "autoconfig.hostile-dns.test", dns.TypeA, nil)
	if len(r.Answer) != 2 {
		t.Errorf("CNAME loop: answer %v, want the two CNAMEs", r.Answer)
	}
}

// TestEnvResolver checks the world through the prober's own resolver.
func TestEnvResolver(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"demo", "dnssec-signed", "hostile-dns"}})
	env := w.Env()
	ctx := testCtx(t)
	srv, _, err := env.Resolver.LookupSRV(ctx, "_submissions._tcp.demo.test")
	if err != nil || len(srv) != 1 || srv[0].Target != "smtp.demo.test" || srv[0].Port != 465 {
		t.Errorf("LookupSRV = %v, %v", srv, err)
	}
	addrs, _, err := env.Resolver.LookupAddrs(ctx, "smtp.demo.test")
	want, _ := w.HostAddr("smtp.demo.test")
	if err != nil || len(addrs) != 1 || addrs[0] != want {
		t.Errorf("LookupAddrs = %v, %v; want [%s]", addrs, err, want)
	}
	if _, meta, err := env.Resolver.LookupSRV(ctx, "_imaps._tcp.signed.test"); err != nil || !meta.Authenticated {
		t.Errorf("signed SRV: authenticated = %v, err %v", meta.Authenticated, err)
	}
	if _, _, err := env.Resolver.LookupSRV(ctx, "_imaps._tcp.hostile-dns.test"); !errors.Is(err, netx.ErrHostileAnswer) {
		t.Errorf("huge SRV: err = %v, want ErrHostileAnswer", err)
	}
	if _, _, err := env.Resolver.LookupAddrs(ctx, "autoconfig.hostile-dns.test"); !errors.Is(err, netx.ErrHostileAnswer) {
		t.Errorf("CNAME loop: err = %v, want ErrHostileAnswer", err)
	}
}

func TestDNSLatency(t *testing.T) {
	const latency = 30 * time.Millisecond
	w := startWorld(t, Options{Scenarios: []string{"demo"}, Latency: latency})
	start := time.Now()
	ask(t, w, "udp", "imap.demo.test", dns.TypeA, nil)
	if d := time.Since(start); d < latency {
		t.Errorf("a DNS answer took %v, want at least the latency %v", d, latency)
	}
	// The dialer's own name lookup costs a round trip too, then the connect.
	start = time.Now()
	c, err := w.Dialer().DialContext(context.Background(), "tcp", "imap.demo.test:143")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if d := time.Since(start); d < 2*latency {
		t.Errorf("resolving and connecting took %v, want at least 2 × %v", d, latency)
	}
	ip, _ := w.HostAddr("imap.demo.test")
	start = time.Now()
	if _, err := w.Dialer().DialContext(context.Background(), "tcp", netip.AddrPortFrom(ip, 25).String()); err == nil {
		t.Fatal("port 25 accepted")
	}
	if d := time.Since(start); d < latency {
		t.Errorf("a refused connect took %v, want at least one round trip %v", d, latency)
	}
}

// The dnssec-signed scenario's TLSA records match the certificates its
// servers present: DANE-EE (3 1 1) the leaf's key, DANE-TA (2 0 1) the CA.
func TestTLSAMatchesCertificates(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"dnssec-signed"}})
	for _, tc := range []struct {
		host, port string
		digest     func(cs tls.ConnectionState) []byte
	}{
		{"imap.signed.test", "993", func(cs tls.ConnectionState) []byte {
			d := sha256.Sum256(cs.PeerCertificates[0].RawSubjectPublicKeyInfo)
			return d[:]
		}},
		{"smtp.signed.test", "465", func(cs tls.ConnectionState) []byte {
			chain := cs.VerifiedChains[0]
			d := sha256.Sum256(chain[len(chain)-1].Raw)
			return d[:]
		}},
	} {
		r := ask(t, w, "udp", "_"+tc.port+"._tcp."+tc.host, dns.TypeTLSA, func(m *dns.Msg) { m.SetEdns0(1232, true) })
		if len(r.Answer) != 1 || !r.AuthenticatedData {
			t.Fatalf("TLSA for %s:%s: %v (AD %v)", tc.host, tc.port, r.Answer, r.AuthenticatedData)
		}
		tlsa := r.Answer[0].(*dns.TLSA)
		conn, err := dialTLS(t, w, tc.host, tc.port)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(tc.digest(conn.ConnectionState())); got != tlsa.Certificate {
			t.Errorf("%s:%s: TLSA %d %d %d %s, certificate digest %s", tc.host, tc.port,
				tlsa.Usage, tlsa.Selector, tlsa.MatchingType, tlsa.Certificate, got)
		}
	}
}
