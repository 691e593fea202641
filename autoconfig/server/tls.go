package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// certSource hands out the HTTPS certificate: one read from files (re-read on
// Reload) or one obtained and renewed by ACME.
type certSource struct {
	file atomic.Pointer[tls.Certificate]
	acme *autocert.Manager
}

func newCertSource(cfg *Config, allowHost func(string) bool) (*certSource, error) {
	cs := &certSource{}
	if a := cfg.TLS.ACME; a != nil {
		if err := os.MkdirAll(a.CacheDir, 0o700); err != nil {
			return nil, fmt.Errorf("%w: tls.acme.cache_dir: %v", ErrConfig, err)
		}
		client := &acme.Client{DirectoryURL: a.DirectoryURL, UserAgent: "mailsetup-serve"}
		if a.CAFile != "" {
			pem, err := os.ReadFile(a.CAFile)
			if err != nil {
				return nil, fmt.Errorf("%w: tls.acme.ca_file: %v", ErrConfig, err)
			}
			roots := x509.NewCertPool()
			if !roots.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%w: tls.acme.ca_file %s holds no PEM certificate", ErrConfig, a.CAFile)
			}
			client.HTTPClient = &http.Client{
				Timeout:   30 * time.Second,
				Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}},
			}
		}
		cs.acme = &autocert.Manager{
			Prompt: autocert.AcceptTOS,
			Cache:  acmeCache(a.CacheDir),
			HostPolicy: func(_ context.Context, host string) error {
				if !allowHost(host) {
					return fmt.Errorf("server: no certificate for %q: it is not autoconfig., autodiscover., setup. or a configured domain", host)
				}
				return nil
			},
			Client: client,
			Email:  a.Email,
		}
		return cs, nil
	}
	return cs, cs.reload(cfg)
}

// reload re-reads certificate files (renewed by an outside tool).
func (cs *certSource) reload(cfg *Config) error {
	if cs.acme != nil || cfg.TLS.CertFile == "" {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLS.CertFile, cfg.TLS.KeyFile)
	if err != nil {
		return fmt.Errorf("%w: tls certificate: %v", ErrConfig, err)
	}
	cs.file.Store(&cert)
	return nil
}

func (cs *certSource) tlsConfig() *tls.Config {
	if cs.acme != nil {
		c := cs.acme.TLSConfig() // answers tls-alpn-01 challenges too
		c.MinVersion = tls.VersionTLS12
		return c
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return cs.file.Load(), nil
		},
	}
}

// httpHandler wraps the plain-HTTP handler so that it answers ACME HTTP-01
// challenges. Tokens live in the cache directory, so a challenge is answered
// by whichever replica the load balancer picks.
func (cs *certSource) httpHandler(h http.Handler) http.Handler {
	if cs.acme != nil {
		return cs.acme.HTTPHandler(h)
	}
	return h
}
