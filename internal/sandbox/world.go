package sandbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// Errors of the sandbox, wrapped with detail.
var (
	// ErrUnknownScenario names a scenario the catalogue does not have; run
	// `mailsetup sandbox --list` for the names.
	ErrUnknownScenario = errors.New("sandbox: unknown scenario")
	// ErrOutsidePlan is a connection to an address that is neither in the
	// world's address plan nor on loopback: the sandbox never lets traffic
	// leave the machine.
	ErrOutsidePlan = errors.New("sandbox: address outside the sandbox")
	// ErrBadScenario is a scenario whose declaration is inconsistent.
	ErrBadScenario = errors.New("sandbox: bad scenario")
)

// ISPDBHost is the world's ISPDB-style lookup service.
const ISPDBHost = "ispdb.test"

// dnsRealAddr is where the DNS server listens under BindReal.
var dnsRealAddr = netip.MustParseAddrPort("127.53.0.1:53")

// Options choose what a world holds.
type Options struct {
	// Scenarios are names from the catalogue; nil means all of them, an
	// empty non-nil list none (for a world of Extra scenarios only).
	Scenarios []string
	// Extra are scenarios that are not in the catalogue (a test's own).
	Extra []Scenario
	// Latency is added to every DNS answer, every connect and every server
	// reply, so each round trip costs one Latency (the model in doc.go).
	// Under BindReal a program that dials for itself connects at once: the
	// kernel completes the handshake before the world sees it.
	Latency time.Duration
	// BindReal binds every service on its real port at its plan address
	// and the DNS server on 127.53.0.1:53, so an unmodified program can use
	// the world with --dns-server. Needs root (ports below 1024) and Linux,
	// where all of 127.0.0.0/8 reaches loopback.
	BindReal bool
}

// World is a running simulated mail internet.
type World struct {
	opts      Options
	scenarios []Scenario
	ca        *authority
	plan      map[netip.Addr]*host // address plan: address → host
	names     map[string]*host     // host name → host
	endpoints map[netip.AddrPort]*endpoint
	zones     *zones
	ispdb     map[string]*autoconfig.Provider
	passwords map[string]bool
	recorder  *recorder
	dns       *dnsServer
	web       *webServer
	mux       net.Listener // in-process mode: every service behind one listener
	real      []net.Listener

	done      chan struct{}
	closeOnce sync.Once
	mu        sync.Mutex
	conns     map[net.Conn]struct{}
	closers   []io.Closer
	wg        sync.WaitGroup
}

// host is a simulated machine in the plan.
type host struct {
	Host
	addr     netip.Addr
	scenario *Scenario
}

// Start builds and starts a world. Close it when done.
func Start(ctx context.Context, opts Options) (*World, error) {
	chosen, err := choose(opts)
	if err != nil {
		return nil, err
	}
	w := &World{
		opts:      opts,
		scenarios: chosen,
		plan:      map[netip.Addr]*host{},
		names:     map[string]*host{},
		endpoints: map[netip.AddrPort]*endpoint{},
		ispdb:     map[string]*autoconfig.Provider{},
		passwords: map[string]bool{},
		recorder:  newRecorder(),
		done:      make(chan struct{}),
		conns:     map[net.Conn]struct{}{},
	}
	if w.ca, err = newAuthority(time.Now); err != nil {
		return nil, err
	}
	if err := w.build(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w.web = newWebServer(w)
	if err := w.listen(); err != nil {
		w.Close()
		return nil, err
	}
	return w, nil
}

// choose picks the scenarios opts names, in the order given, then Extra.
func choose(opts Options) ([]Scenario, error) {
	all := Catalogue()
	var chosen []Scenario
	if opts.Scenarios == nil {
		chosen = all
	} else {
		byName := map[string]Scenario{}
		for _, s := range all {
			byName[s.Name] = s
		}
		for _, name := range opts.Scenarios {
			s, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("%w %q: run 'mailsetup sandbox --list' for the names", ErrUnknownScenario, name)
			}
			chosen = append(chosen, s)
		}
	}
	return append(chosen, opts.Extra...), nil
}

// build lays out the address plan, the zones and the endpoints.
func (w *World) build() error {
	w.zones = newZones()
	next := netip.MustParseAddr("127.1.0.1")
	add := func(sc *Scenario, h Host) error {
		name := strings.ToLower(h.Name)
		if _, dup := w.names[name]; dup {
			return fmt.Errorf("%w: host %q is declared twice", ErrBadScenario, name)
		}
		hs := &host{Host: h, addr: next, scenario: sc}
		hs.Name = name
		next = next.Next()
		w.plan[hs.addr] = hs
		w.names[name] = hs
		for _, svc := range h.Services {
			ap := netip.AddrPortFrom(hs.addr, uint16(svc.Port))
			if _, dup := w.endpoints[ap]; dup {
				return fmt.Errorf("%w: host %q has port %d twice", ErrBadScenario, name, svc.Port)
			}
			w.endpoints[ap] = &endpoint{w: w, host: hs, svc: svc, addr: ap}
		}
		return nil
	}
	for i := range w.scenarios {
		sc := &w.scenarios[i]
		w.passwords[sc.Password] = true
		signed := sc.Signed
		for _, d := range sc.Domains {
			// Reserved names only (RFC 2606): a world must never look
			// like a real domain, and its CA vouches for .test alone.
			if d = strings.ToLower(strings.TrimSuffix(d, ".")); !strings.HasSuffix(d, ".test") {
				return fmt.Errorf("%w: scenario %q: domain %q is not under .test; use a name like example.test", ErrBadScenario, sc.Name, d)
			}
			w.zones.addZone(d, signed)
		}
		for _, h := range sc.Hosts {
			if err := add(sc, h); err != nil {
				return fmt.Errorf("scenario %q: %w", sc.Name, err)
			}
		}
		for _, p := range sc.ISPDB {
			for _, d := range p.Domains {
				w.ispdb[strings.ToLower(d)] = p
			}
		}
	}
	// The ISPDB service belongs to the whole world.
	w.zones.addZone("ispdb.test", false)
	if err := add(nil, Host{Name: ISPDBHost, Services: []Service{HTTPS(&Site{ISPDB: true})}}); err != nil {
		return err
	}
	for name, h := range w.names {
		if err := w.zones.addHost(name, h.addr); err != nil {
			return err
		}
	}
	leafSPKI, caCert, err := w.ca.tlsaDigests()
	if err != nil {
		return err
	}
	digests := strings.NewReplacer(PlaceholderLeafSPKI, leafSPKI, PlaceholderCACert, caCert)
	for i := range w.scenarios {
		sc := &w.scenarios[i]
		for _, r := range sc.Records {
			if err := w.zones.addRecord(digests.Replace(r)); err != nil {
				return fmt.Errorf("scenario %q: %w", sc.Name, err)
			}
		}
		for _, f := range sc.DNSFaults {
			if err := w.zones.addFault(f); err != nil {
				return fmt.Errorf("scenario %q: %w", sc.Name, err)
			}
		}
	}
	return nil
}

// listen opens the listeners: DNS over UDP and TCP, and either one mux
// listener for every service or, under BindReal, one per service.
func (w *World) listen() error {
	dnsAddr := "127.0.0.1:0"
	if w.opts.BindReal {
		dnsAddr = dnsRealAddr.String()
	}
	var err error
	if w.dns, err = startDNS(w, dnsAddr); err != nil {
		return err
	}
	if !w.opts.BindReal {
		if w.mux, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return fmt.Errorf("sandbox: listen: %w", err)
		}
		w.serveMux(w.mux)
		return nil
	}
	for _, ap := range w.sortedEndpoints() {
		ep := w.endpoints[ap]
		if ep.svc.Fault == FaultRefused {
			continue
		}
		ln, err := net.Listen("tcp", ap.String())
		if err != nil {
			return fmt.Errorf("sandbox: bind %s for %s (BindReal needs root on Linux): %w", ap, ep.host.Name, err)
		}
		w.real = append(w.real, ln)
		w.serveReal(ln, ep)
	}
	return nil
}

func (w *World) sortedEndpoints() []netip.AddrPort {
	aps := make([]netip.AddrPort, 0, len(w.endpoints))
	for ap := range w.endpoints {
		aps = append(aps, ap)
	}
	sort.Slice(aps, func(i, j int) bool { return aps[i].Compare(aps[j]) < 0 })
	return aps
}

// preambleLen is what the dialer writes before anything else on a mux
// connection: the plan address (4 bytes) and port (2 bytes) it dialed.
const preambleLen = 6

// serveMux accepts mux connections and hands each to the endpoint its
// preamble names.
func (w *World) serveMux(ln net.Listener) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			w.wg.Add(1)
			go func() {
				defer w.wg.Done()
				var pre [preambleLen]byte
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := io.ReadFull(c, pre[:]); err != nil {
					c.Close()
					return
				}
				c.SetReadDeadline(time.Time{})
				ap := netip.AddrPortFrom(netip.AddrFrom4([4]byte(pre[:4])), binary.BigEndian.Uint16(pre[4:]))
				ep, ok := w.endpoints[ap]
				if !ok {
					c.Close()
					return
				}
				ep.accept(c)
			}()
		}
	}()
}

// serveReal accepts on one service's own listener (BindReal).
func (w *World) serveReal(ln net.Listener, ep *endpoint) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if ep.svc.Fault == FaultUnreachable {
				// A connect that the kernel completed cannot be undone:
				// the nearest thing to dropped SYNs is silence.
				w.track(c)
				continue
			}
			w.wg.Add(1)
			go func() {
				defer w.wg.Done()
				ep.accept(c)
			}()
		}
	}()
}

// track registers a server-side connection so Close can end it.
func (w *World) track(c net.Conn) bool {
	w.mu.Lock()
	select {
	case <-w.done:
		w.mu.Unlock()
		c.Close()
		return false
	default:
	}
	w.conns[c] = struct{}{}
	w.mu.Unlock()
	return true
}

func (w *World) untrack(c net.Conn) {
	w.mu.Lock()
	delete(w.conns, c)
	w.mu.Unlock()
}

// onClose registers something to close with the world.
// Once the world is closed, c is closed at once: a server started by a
// connection that raced Close must not outlive the world.
func (w *World) onClose(c io.Closer) {
	w.mu.Lock()
	select {
	case <-w.done:
		w.mu.Unlock()
		c.Close()
		return
	default:
	}
	w.closers = append(w.closers, c)
	w.mu.Unlock()
}

// Close stops every server and ends every connection.
func (w *World) Close() error {
	w.closeOnce.Do(func() {
		w.mu.Lock()
		close(w.done)
		conns := w.conns
		w.conns = map[net.Conn]struct{}{}
		closers := w.closers
		w.mu.Unlock()
		if w.mux != nil {
			w.mux.Close()
		}
		for _, ln := range w.real {
			ln.Close()
		}
		if w.dns != nil {
			w.dns.close()
		}
		for c := range conns {
			c.Close()
		}
		for _, c := range closers {
			c.Close()
		}
		w.wg.Wait()
	})
	return nil
}

// sleep waits d, or less when the world closes or ctx ends.
func (w *World) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-w.done:
		return net.ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Scenarios are the scenarios this world holds.
func (w *World) Scenarios() []Scenario { return append([]Scenario(nil), w.scenarios...) }

// DNSServer is the host:port of the world's authoritative DNS server.
func (w *World) DNSServer() string { return w.dns.addr }

// RootCAs trusts the world's CA and nothing else.
func (w *World) RootCAs() *x509.CertPool { return w.ca.pool }

// CACertPEM is the world's CA certificate, for programs outside the process.
func (w *World) CACertPEM() []byte { return w.ca.pem() }

// ISPDBURL is the base URL of the world's ISPDB service; append a domain.
func (w *World) ISPDBURL() string { return "https://" + ISPDBHost + "/v1.1/" }

// Env is everything the prober needs to run inside this world.
func (w *World) Env() netx.Env {
	d := w.Dialer()
	return netx.Env{Resolver: netx.NewDNSResolver(w.DNSServer(), d), Dialer: d, RootCAs: w.RootCAs()}
}

// HostAddr is a host's address in the plan.
func (w *World) HostAddr(name string) (netip.Addr, bool) {
	h, ok := w.names[strings.ToLower(strings.TrimSuffix(name, "."))]
	if !ok {
		return netip.Addr{}, false
	}
	return h.addr, true
}

// PasswordSeenBy reports whether a test account's password ever reached
// host, on any port, in any form: sent in the clear (raw or base64, even
// if the server refused it), or received after TLS.
func (w *World) PasswordSeenBy(host string) bool {
	return w.recorder.seenBy(strings.ToLower(strings.TrimSuffix(host, ".")))
}

// PasswordSeenAt is PasswordSeenBy for one port of host.
func (w *World) PasswordSeenAt(host string, port int) bool {
	return w.recorder.seenAt(strings.ToLower(strings.TrimSuffix(host, ".")), port)
}

// PasswordSightings lists every "host:port" a password reached, sorted.
func (w *World) PasswordSightings() []string { return w.recorder.all() }

// Dialer maps the world's address plan onto its listeners. Loopback
// addresses outside the plan are dialed for real (the DNS server, a test's
// own server); anything else fails with ErrOutsidePlan.
func (w *World) Dialer() netx.Dialer { return &dialer{w: w} }

type dialer struct{ w *World }

func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	w := d.w
	hostPart, portPart, err := net.SplitHostPort(address)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	port, err := net.LookupPort(network, portPart)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	ip, err := netip.ParseAddr(strings.Trim(hostPart, "[]"))
	if err != nil {
		// A name: resolve it the way a stub resolver would, costing one
		// round trip.
		if ip, err = w.resolve(ctx, hostPart); err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
	}
	ip = ip.Unmap()
	h, inPlan := w.plan[ip]
	if !inPlan {
		if ip.IsLoopback() {
			var nd net.Dialer
			return nd.DialContext(ctx, network, net.JoinHostPort(ip.String(), portPart))
		}
		return nil, &net.OpError{Op: "dial", Net: network,
			Err: fmt.Errorf("%w: %s is not in the sandbox's address plan", ErrOutsidePlan, address)}
	}
	if !strings.HasPrefix(network, "tcp") {
		return nil, &net.OpError{Op: "dial", Net: network,
			Err: fmt.Errorf("sandbox: %s: only TCP reaches simulated hosts", address)}
	}
	ap := netip.AddrPortFrom(ip, uint16(port))
	remote := net.TCPAddrFromAddrPort(ap)
	ep := w.endpoints[ap]
	// The connect costs one round trip, refused or not.
	if err := w.sleep(ctx, w.opts.Latency+h.Latency); err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: remote, Err: err}
	}
	if ep == nil || ep.svc.Fault == FaultRefused {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: remote, Err: errConnRefused}
	}
	if ep.svc.Fault == FaultUnreachable && !w.opts.BindReal {
		select {
		case <-ctx.Done():
			return nil, &net.OpError{Op: "dial", Net: network, Addr: remote, Err: errDialTimeout{ctx.Err()}}
		case <-w.done:
			return nil, &net.OpError{Op: "dial", Net: network, Addr: remote, Err: net.ErrClosed}
		}
	}
	var nd net.Dialer
	if w.opts.BindReal {
		return nd.DialContext(ctx, "tcp", ap.String())
	}
	c, err := nd.DialContext(ctx, "tcp", w.mux.Addr().String())
	if err != nil {
		return nil, err
	}
	var pre [preambleLen]byte
	a4 := ip.As4()
	copy(pre[:4], a4[:])
	binary.BigEndian.PutUint16(pre[4:], uint16(port))
	if _, err := c.Write(pre[:]); err != nil {
		c.Close()
		return nil, err
	}
	return &planConn{Conn: c, remote: remote}, nil
}

// errConnRefused is the kernel's refusal, so that callers that recognise
// ECONNREFUSED (netx.Words, errors.Is) treat the sandbox's as a real one.
var errConnRefused = &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}

// errDialTimeout is a connect that never completed; it is a net.Error
// timeout, as a real one is.
type errDialTimeout struct{ cause error }

func (e errDialTimeout) Error() string   { return "connect: i/o timeout (" + e.cause.Error() + ")" }
func (e errDialTimeout) Unwrap() error   { return e.cause }
func (e errDialTimeout) Timeout() bool   { return true }
func (e errDialTimeout) Temporary() bool { return true }

// planConn shows the plan address as the remote end, as a real connection
// to the simulated host would.
type planConn struct {
	net.Conn
	remote net.Addr
}

func (c *planConn) RemoteAddr() net.Addr { return c.remote }

// resolve looks a name up in the world's zones, following CNAMEs, and
// charges one round trip.
func (w *World) resolve(ctx context.Context, name string) (netip.Addr, error) {
	delay := w.opts.Latency
	if h, ok := w.names[strings.ToLower(strings.TrimSuffix(name, "."))]; ok {
		delay += h.Latency
	}
	if err := w.sleep(ctx, delay); err != nil {
		return netip.Addr{}, err
	}
	if a, ok := w.zones.address(name); ok {
		return a, nil
	}
	return netip.Addr{}, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// tlsConfig is the server side of TLS for one endpoint.
func (ep *endpoint) tlsConfig() *tls.Config {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// No session tickets: Go sends them after the handshake as a
		// separate flight, which the latency model would charge as an
		// extra round trip no client waits for.
		SessionTicketsDisabled: true,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return ep.w.ca.leaf(ep.host.Name, ep.svc.Cert)
		},
	}
	if ep.svc.Kind == KindWeb {
		cfg.NextProtos = []string{"http/1.1"}
	}
	return cfg
}

// goServe runs a server loop that Close waits for.
func (w *World) goServe(serve func()) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		serve()
	}()
}
