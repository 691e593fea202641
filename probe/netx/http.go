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
	"os"
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
	ErrBodyTooLarge    = fmt.Errorf("netx: response body larger than %d bytes", MaxBodySize)
	ErrTooManyRedirect = fmt.Errorf("netx: more than %d redirects", MaxRedirects)
	// ErrInsecureRedirect is a redirect from https to http: following it
	// would expose what the request carries.
	ErrInsecureRedirect = errors.New("netx: refusing a redirect away from https")
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
			return nil
		},
	}
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
			return nil, fmt.Errorf("netx: reading CA file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("netx: CA file %q holds no PEM certificate; give a file with -----BEGIN CERTIFICATE----- blocks", f)
		}
	}
	return pool, nil
}
