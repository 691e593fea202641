package integration

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailsetup/mailsetup/probe/netx"
)

// site is one of the address plan's domains: every name under it resolves to
// one loopback address where Dovecot and Postfix listen.
type site struct {
	Domain string
	Addr   netip.Addr
}

// Host is a name under the site's domain, e.g. Host("imap").
func (s site) Host(label string) string { return label + "." + s.Domain }

// Email is the test account's address at the site.
func (s site) Email(r *realServers) string { return r.User + "@" + s.Domain }

// realServers is what scripts/realservers.sh started, read from its
// MAILSETUP_REAL_* variables.
type realServers struct {
	CAFile   string
	Roots    *x509.CertPool
	User     string // local part; the account is User@Domain on every site
	Password string
	// Good has a valid certificate on every port: IMAP 143/993, POP3
	// 110/995, SMTP 587/465.
	Good site
	// Mismatch has the same ports with a certificate for other names.
	Mismatch site
	// STARTTLS offers only the upgrade: IMAP 143, POP3 110, SMTP 587.
	STARTTLS site
	// Logs are the servers' log files, where a login attempt leaves the
	// account's name.
	Logs []string
}

// needServers skips the test unless MAILSETUP_REALSERVERS=1, and fails it
// when the variables the script writes are missing or wrong.
func needServers(t *testing.T) *realServers {
	t.Helper()
	if os.Getenv("MAILSETUP_REALSERVERS") != "1" {
		t.Skip("skipped: needs real Dovecot and Postfix; run `scripts/realservers.sh test` as root (it starts them on loopback and sets MAILSETUP_REALSERVERS=1)")
	}
	r, err := serversFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func serversFromEnv() (*realServers, error) {
	var firstErr error
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	get := func(name string) string {
		v := os.Getenv(name)
		if v == "" {
			fail(fmt.Errorf("MAILSETUP_REALSERVERS=1 but %s is empty: start the servers with scripts/realservers.sh and source its env file", name))
		}
		return v
	}
	siteOf := func(prefix string) site {
		s := site{Domain: get(prefix + "_DOMAIN")}
		a, err := netip.ParseAddr(get(prefix + "_ADDR"))
		switch {
		case err != nil:
			fail(fmt.Errorf("%s_ADDR: %w", prefix, err))
		case !a.IsLoopback():
			fail(fmt.Errorf("%s_ADDR %q is not a loopback address: the suite stays on loopback", prefix, a))
		}
		s.Addr = a
		return s
	}
	r := &realServers{
		CAFile:   get("MAILSETUP_REAL_CA_FILE"),
		User:     get("MAILSETUP_REAL_USER"),
		Password: get("MAILSETUP_REAL_PASSWORD"),
		Good:     siteOf("MAILSETUP_REAL"),
		Mismatch: siteOf("MAILSETUP_REAL_MISMATCH"),
		STARTTLS: siteOf("MAILSETUP_REAL_STARTTLS"),
		Logs:     strings.Fields(get("MAILSETUP_REAL_LOGS")),
	}
	if firstErr != nil {
		return nil, firstErr
	}
	roots, err := netx.LoadRootCAs(r.CAFile)
	if err != nil {
		return nil, err
	}
	r.Roots = roots
	return r, nil
}

func (r *realServers) sites() []site { return []site{r.Good, r.Mismatch, r.STARTTLS} }

// siteOf finds the site a host name belongs to.
func (r *realServers) siteOf(name string) (site, bool) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	for _, s := range r.sites() {
		if name == s.Domain || strings.HasSuffix(name, "."+s.Domain) {
			return s, true
		}
	}
	return site{}, false
}

// zone answers for the sites like an authoritative server: every name under
// a site's domain has its A record, and srv adds SRV records; anything else
// is NXDOMAIN.
type zone struct {
	r   *realServers
	srv map[string][]*dns.SRV // by owner name, lower case with the dot
}

func (z *zone) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	if len(q.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	question := q.Question[0]
	name := strings.ToLower(question.Name)
	s, ok := z.r.siteOf(name)
	switch {
	case !ok:
		m.Rcode = dns.RcodeNameError
	case question.Qtype == dns.TypeA:
		m.Answer = append(m.Answer, &dns.A{
			Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
			A:   s.Addr.AsSlice(),
		})
	case question.Qtype == dns.TypeSRV:
		for _, rr := range z.srv[name] {
			m.Answer = append(m.Answer, rr)
		}
	}
	_ = w.WriteMsg(m)
}

// srvRecord is an SRV record for the zone; target "." means "not offered".
func srvRecord(owner string, port uint16, target string) *dns.SRV {
	return &dns.SRV{
		Hdr:    dns.RR_Header{Name: dns.Fqdn(owner), Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 60},
		Port:   port,
		Target: dns.Fqdn(target),
	}
}

// startDNS serves the zone on 127.0.0.1, UDP and TCP on one port, for as
// long as the test runs, and returns its address for a --dns-server.
func startDNS(t *testing.T, z *zone) string {
	t.Helper()
	pc, l, err := listenUDPAndTCP()
	if err != nil {
		t.Fatal(err)
	}
	udp := &dns.Server{PacketConn: pc, Handler: z}
	tcp := &dns.Server{Listener: l, Handler: z}
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	t.Cleanup(func() {
		_ = udp.Shutdown()
		_ = tcp.Shutdown()
	})
	return pc.LocalAddr().String()
}

// listenUDPAndTCP opens a UDP and a TCP socket on the same free port of
// 127.0.0.1. The port the kernel picks for UDP can be one that an outgoing
// TCP connection already uses, so it tries a few.
func listenUDPAndTCP() (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l, nil
		}
		pc.Close()
		lastErr = err
	}
	return nil, nil, fmt.Errorf("no port free for both UDP and TCP on 127.0.0.1: %w", lastErr)
}

// nextSource numbers the source addresses of env's connections.
var nextSource atomic.Uint32

// env is the network the code under test gets: DNS from the test's zone,
// connections through a plain dialer (the servers are on loopback), and the
// script's CA as the only trust anchor.
//
// Each env connects from its own source address (127.0.1.N). Dovecot delays
// the logins from an address that recently failed one (its auth penalty,
// up to 15 s), so a test's wrong passwords must not slow the next test.
func (r *realServers) env(t *testing.T, z *zone) netx.Env {
	t.Helper()
	if z == nil {
		z = &zone{r: r}
	}
	n := nextSource.Add(1)
	source := netip.AddrFrom4([4]byte{127, 0, 1 + byte(n/250), byte(1 + n%250)})
	return netx.Env{
		Resolver: netx.NewDNSResolver(startDNS(t, z), &net.Dialer{Timeout: 5 * time.Second}),
		Dialer: &net.Dialer{
			Timeout:   5 * time.Second,
			LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(source, 0)),
		},
		RootCAs: r.Roots,
	}
}

// loginAttempts returns the log lines in which the servers saw a login for
// the account at domain: Dovecot's auth process logs every password check
// (auth_debug), for IMAP, POP3 and Postfix's SMTP AUTH alike. The servers
// log asynchronously: it waits up to wait for at least atLeast lines.
func (r *realServers) loginAttempts(t *testing.T, domain string, atLeast int, wait time.Duration) []string {
	t.Helper()
	account := r.User + "@" + domain
	deadline := time.Now().Add(wait)
	for {
		var lines []string
		for _, f := range r.Logs {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatalf("reading the server log: %v", err)
			}
			for _, line := range strings.Split(string(b), "\n") {
				if strings.Contains(line, account) {
					lines = append(lines, line)
				}
			}
		}
		if len(lines) >= atLeast || !time.Now().Before(deadline) {
			return lines
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sourceOf is the source address of env's connections.
func sourceOf(env netx.Env) netip.Addr {
	return env.Dialer.(*net.Dialer).LocalAddr.(*net.TCPAddr).AddrPort().Addr()
}

// refusedChecks counts the password checks Dovecot's auth process refused
// for connections from source, whichever service asked (IMAP, POP3, or
// Postfix for SMTP AUTH): "Password mismatch" for a known account, "unknown
// user" for a username it does not have.
func (r *realServers) refusedChecks(t *testing.T, source netip.Addr) int {
	t.Helper()
	n := 0
	for _, f := range r.Logs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("reading the server log: %v", err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "passwd-file(") && strings.Contains(line, ","+source.String()) &&
				(strings.HasSuffix(line, "Password mismatch") || strings.HasSuffix(line, "unknown user")) {
				n++
			}
		}
	}
	return n
}

// logSettle is how long a test waits before it concludes from the logs
// that a server saw no login: Dovecot and Postfix write within milliseconds.
const logSettle = time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
