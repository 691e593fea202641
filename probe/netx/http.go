package netx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"time"
)

// MaxBodySize bounds every HTTP body the prober reads (1 MiB): autoconfig
// and Autodiscover documents are a few KiB.
const MaxBodySize = 1 << 20

// MaxRedirects is the most HTTP redirects one request follows.
const MaxRedirects = 10

// defaultHTTPTimeout bounds one request, body included, when the options
// name no timeout.
const defaultHTTPTimeout = 10 * time.Second

// Errors of the HTTP helpers.
var (
	ErrBodyTooLarge    = fmt.Errorf("the answer is larger than %d bytes", MaxBodySize)
	ErrTooManyRedirect = fmt.Errorf("more than %d redirects", MaxRedirects)
	// ErrInsecureRedirect is a redirect from https to http: following it
	// would expose what the request carries.
	ErrInsecureRedirect = errors.New("a redirect away from https was refused")
	// ErrPrivateRedirect is a redirect from a public host into loopback or
	// private address space: an outside server must not make the prober
	// reach a port of this machine or its network.
	ErrPrivateRedirect = errors.New("a redirect into loopback or private address space was refused")
)

// HTTPOptions tune HTTPClient. The zero value follows up to 10 redirects,
// never from https to http, within 10 s per request.
type HTTPOptions struct {
	// Timeout bounds one request from dial to the last byte of the body.
	Timeout time.Duration
	// NoRedirects returns 3xx responses to the caller instead of following
	// them, for callers that must re-send a body (Autodiscover's POST).
	NoRedirects bool
}

// HTTPClient returns a client whose every name is resolved through
// env.Resolver and every connection dialed through env.Dialer (see
// DialHost), so --dns-server and the sandbox move HTTP too. It trusts
// env.RootCAs (system roots when nil), requires TLS 1.2, ignores proxy
// environment variables (a proxy would resolve names itself), bounds
// response headers to 64 KiB and each request by o.Timeout. Read bodies
// with ReadBody. Call CloseIdleConnections when done.
func HTTPClient(env Env, o HTTPOptions) *http.Client {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = defaultHTTPTimeout
	}
	transport := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if publicOnly(ctx) {
				return dialPublic(ctx, env, network, addr)
			}
			return DialHost(ctx, env.Resolver, env.Dialer, network, addr)
		},
		TLSClientConfig:        &tls.Config{RootCAs: env.RootCAs, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    timeout,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if o.NoRedirects {
				return http.ErrUseLastResponse
			}
			if len(via) > MaxRedirects {
				return ErrTooManyRedirect
			}
			if req.URL.Scheme != "https" && via[len(via)-1].URL.Scheme == "https" {
				return fmt.Errorf("%w: to %q", ErrInsecureRedirect, req.URL.Redacted())
			}
			// The next server learns nothing of the last one's URL (it
			// may carry ?emailaddress=).
			req.Header.Del("Referer")
			// Where the first host was public, every hop must be: the
			// dial drops private addresses (checked where the address is
			// chosen, so a second DNS answer cannot slip one in).
			if !publicOnly(req.Context()) && !HostIsPrivate(req.Context(), env.Resolver, via[0].URL.Hostname()) {
				*req = *req.WithContext(context.WithValue(req.Context(), publicOnlyKey{}, true))
			}
			return nil
		},
	}
}

// publicOnlyKey marks a request context whose connections must not go to
// loopback or private addresses.
type publicOnlyKey struct{}

func publicOnly(ctx context.Context) bool {
	v, _ := ctx.Value(publicOnlyKey{}).(bool)
	return v
}

// privateAddr reports whether a lies in loopback, private (RFC 1918, RFC
// 4193), link-local, CGNAT (RFC 6598) or unspecified space.
func privateAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || netip.MustParsePrefix("100.64.0.0/10").Contains(a)
}

// HostIsPrivate reports whether host is, or resolves to, a loopback or
// private address: a redirect from a host that is not must not lead into
// such space (the sandbox and test worlds live on loopback; their
// redirects stay allowed there).
func HostIsPrivate(ctx context.Context, r Resolver, host string) bool {
	if a, err := netip.ParseAddr(host); err == nil {
		return privateAddr(a)
	}
	addrs, _, err := r.LookupAddrs(ctx, host)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if privateAddr(a) {
			return true
		}
	}
	return false
}

// dialPublic is DialHost without private addresses.
func dialPublic(ctx context.Context, env Env, network, hostport string) (net.Conn, error) {
	host, portText, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, fmt.Errorf("%q is not host:port: %w", hostport, err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("%q has no valid port", hostport)
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if addrs, _, err = env.Resolver.LookupAddrs(ctx, host); err != nil {
		return nil, err
	}
	var public []netip.Addr
	for _, a := range addrs {
		if !privateAddr(a) {
			public = append(public, a)
		}
	}
	if len(public) == 0 && len(addrs) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrPrivateRedirect, host)
	}
	conn, _, err := DialAddrs(ctx, env.Dialer, network, public, uint16(port))
	return conn, err
}

// ReadBody reads at most MaxBodySize bytes of r and fails with
// ErrBodyTooLarge beyond that, so a hostile server cannot fill memory.
func ReadBody(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBodySize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxBodySize {
		return nil, ErrBodyTooLarge
	}
	return data, nil
}

// LoadRootCAs returns the system's roots plus the certificates in each
// named PEM file (empty names are skipped), for --ca-file and
// SSL_CERT_FILE: callers pass both. With no file it returns nil, which
// tls.Config reads as "the system's roots".
func LoadRootCAs(files ...string) (*x509.CertPool, error) {
	var pool *x509.CertPool
	for _, f := range files {
		if f == "" {
			continue
		}
		if pool == nil {
			sys, err := x509.SystemCertPool()
			if err != nil {
				sys = x509.NewCertPool()
			}
			pool = sys
		}
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %q holds no PEM certificate; give a file with -----BEGIN CERTIFICATE----- blocks", f)
		}
	}
	return pool, nil
}
