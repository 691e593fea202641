package sandbox

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// startWorld starts a world for one test and closes it after.
func startWorld(t testing.TB, opts Options) *World {
	t.Helper()
	w, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// scenario returns the catalogue entry called name.
func scenario(t testing.TB, name string) Scenario {
	t.Helper()
	for _, s := range Catalogue() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no scenario %q", name)
	return Scenario{}
}

// dial connects to host:port inside w.
func dial(t testing.TB, w *World, hostport string) net.Conn {
	t.Helper()
	c, err := w.Dialer().DialContext(testCtx(t), "tcp", hostport)
	if err != nil {
		t.Fatalf("dial %s: %v", hostport, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// dialTLS connects with implicit TLS, trusting only the world's CA.
func dialTLS(t testing.TB, w *World, host string, port string) (*tls.Conn, error) {
	t.Helper()
	c := dial(t, w, net.JoinHostPort(host, port))
	tc := tls.Client(c, &tls.Config{ServerName: host, RootCAs: w.RootCAs()})
	return tc, tc.Handshake()
}

func TestCatalogueIsConsistent(t *testing.T) {
	cat := Catalogue()
	if len(cat) < 14 {
		t.Errorf("catalogue has %d scenarios, want at least 14", len(cat))
	}
	w := startWorld(t, Options{})
	seen := map[string]bool{}
	for _, s := range cat {
		if seen[s.Name] {
			t.Errorf("scenario name %q twice", s.Name)
		}
		seen[s.Name] = true
		if s.Description == "" || s.Password == "" || s.CriticalPath <= 0 || s.Expect.Notes == "" {
			t.Errorf("%s: description, password, critical path and notes are all required", s.Name)
		}
		addr, err := autoconfig.ParseAddress(s.Address)
		if err != nil {
			t.Errorf("%s: %v", s.Name, err)
			continue
		}
		if !strings.HasSuffix(addr.Domain, ".test") {
			t.Errorf("%s: address %q is not in a .test domain", s.Name, s.Address)
		}
		for _, exp := range []*autoconfig.Server{s.Expect.Incoming, s.Expect.Outgoing} {
			if exp == nil {
				continue
			}
			if exp.Username != s.Login() {
				t.Errorf("%s: expected username %q, but the servers accept %q", s.Name, exp.Username, s.Login())
			}
			// The expected server exists, with the expected security.
			ip, ok := w.HostAddr(exp.Hostname)
			if !ok {
				t.Errorf("%s: expected host %q is not in the world", s.Name, exp.Hostname)
				continue
			}
			ep := w.endpoints[netip.AddrPortFrom(ip, uint16(exp.Port))]
			// A server that falls silent after a wrong password serves the
			// right one as a healthy one does.
			healthy := ep != nil && (ep.svc.Fault == FaultNone || ep.svc.Fault == FaultSilentAfterWrongPassword)
			if !healthy || ep.svc.Security != exp.Security || ep.svc.Cert != CertGood {
				t.Errorf("%s: expected %s %s:%d is not a healthy %s service", s.Name, exp.Protocol, exp.Hostname, exp.Port, exp.Security)
			}
		}
		if s.Name == "demo" && (s.Expect.Incoming == nil || s.Expect.Incoming.Protocol != autoconfig.IMAP) {
			t.Errorf("demo must expect IMAP")
		}
	}
	if !seen["demo"] {
		t.Error("the catalogue has no demo scenario")
	}
}

func TestStartSelectsScenarios(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"srv-only"}})
	if _, ok := w.HostAddr("mailstore.srv-only.test"); !ok {
		t.Error("srv-only's host is missing")
	}
	if _, ok := w.HostAddr("imap.demo.test"); ok {
		t.Error("demo's host is present though not chosen")
	}
	if _, err := Start(context.Background(), Options{Scenarios: []string{"no-such"}}); !errors.Is(err, ErrUnknownScenario) {
		t.Errorf("unknown scenario: err = %v, want ErrUnknownScenario", err)
	}
	for _, bad := range []Scenario{
		{Name: "host outside the zones", Domains: []string{"bad.test"}, Hosts: []Host{{Name: "a.elsewhere.test"}}},
		{Name: "real domain", Domains: []string{"example.com"}},
		{Name: "record outside the zones", Domains: []string{"bad.test"}, Records: []string{"x.other.test. A 127.0.0.1"}},
		{Name: "unparsable record", Domains: []string{"bad.test"}, Records: []string{"bad.test. SRV nonsense"}},
		{Name: "port twice", Domains: []string{"bad.test"}, Hosts: []Host{{Name: "a.bad.test", Services: []Service{IMAPS(), IMAPS()}}}},
	} {
		if _, err := Start(context.Background(), Options{Scenarios: []string{}, Extra: []Scenario{bad}}); !errors.Is(err, ErrBadScenario) {
			t.Errorf("%s: err = %v, want ErrBadScenario", bad.Name, err)
		}
	}
}

func TestDialerStaysInsideTheSandbox(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"demo"}})
	d := w.Dialer()
	ctx := testCtx(t)
	for _, addr := range []string{"192.0.2.1:993", "[2001:db8::1]:993", "10.0.0.1:53"} {
		if _, err := d.DialContext(ctx, "tcp", addr); !errors.Is(err, ErrOutsidePlan) {
			t.Errorf("dial %s: err = %v, want ErrOutsidePlan", addr, err)
		}
	}
	// A port the host does not serve is refused.
	if _, err := d.DialContext(ctx, "tcp", "imap.demo.test:25"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("dial a closed port: err = %v, want connection refused", err)
	}
	// An unknown name is not found.
	var dnsErr *net.DNSError
	if _, err := d.DialContext(ctx, "tcp", "nowhere.demo.test:993"); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("dial an unknown name: err = %v, want a not-found DNS error", err)
	}
	// Plan addresses and names both reach the host, which shows its plan address.
	ip, _ := w.HostAddr("imap.demo.test")
	c := dial(t, w, net.JoinHostPort(ip.String(), "143"))
	if got := c.RemoteAddr().String(); got != ip.String()+":143" {
		t.Errorf("RemoteAddr = %s, want the plan address %s:143", got, ip)
	}
	// Loopback outside the plan is dialed for real: here the DNS server.
	u, err := d.DialContext(ctx, "udp", w.DNSServer())
	if err != nil {
		t.Fatalf("dial the DNS server through the dialer: %v", err)
	}
	u.Close()
}

func TestCloseEndsConnections(t *testing.T) {
	w, err := Start(context.Background(), Options{Scenarios: []string{"blackholed-preferred"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := w.Dialer().DialContext(testCtx(t), "tcp", "imap1.blackhole.test:993")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		done <- err
	}()
	w.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("read on a closed world returned data")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close left a blackholed connection open")
	}
}

// BenchmarkStart measures how long a world of every scenario takes to start
// and stop (target: start under 200 ms).
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		w, err := Start(context.Background(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		w.Close()
		b.StartTimer()
	}
}

// TestBindReal runs a world on real ports, as `mailsetup sandbox
// --bind-real` does, and reaches it without the world's dialer.
func TestBindReal(t *testing.T) {
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		t.Skip("skipped: BindReal binds ports below 1024 on 127.x addresses, which needs root on Linux")
	}
	w, err := Start(context.Background(), Options{Scenarios: []string{"demo"}, BindReal: true})
	if errors.Is(err, syscall.EADDRINUSE) {
		t.Skipf("skipped: another BindReal world holds the addresses: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.DNSServer() != "127.53.0.1:53" {
		t.Errorf("DNS server %s, want 127.53.0.1:53", w.DNSServer())
	}
	m := new(dns.Msg)
	m.SetQuestion("imap.demo.test.", dns.TypeA)
	r, err := dns.Exchange(m, w.DNSServer())
	if err != nil || len(r.Answer) != 1 {
		t.Fatalf("A imap.demo.test: %v, %v", r, err)
	}
	ip := r.Answer[0].(*dns.A).A.String()
	var d net.Dialer
	c, err := d.DialContext(testCtx(t), "tcp", net.JoinHostPort(ip, "993"))
	if err != nil {
		t.Fatalf("a plain dial to the plan address: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	tc := tls.Client(c, &tls.Config{ServerName: "imap.demo.test", RootCAs: w.RootCAs()})
	line := make([]byte, 64)
	if n, err := tc.Read(line); err != nil || !strings.HasPrefix(string(line[:n]), "* OK") {
		t.Errorf("greeting over a real port: %q, %v", line[:n], err)
	}
	// The world's own dialer reaches the same ports.
	if _, err := dialTLS(t, w, "smtp.demo.test", "465"); err != nil {
		t.Errorf("the world's dialer under BindReal: %v", err)
	}
}
