// Package server answers mail clients' account-setup requests for a mail
// hoster's domains: Thunderbird autoconfig (draft-ietf-mailmaint-autoconfig,
// config-v1.1), Microsoft Autodiscover POX (MS-OXDSCLI) and its
// autodiscover.json pointer, Apple configuration profiles and an Android
// setup page. It keeps no state but the ACME certificate cache, so replicas
// scale out behind any load balancer.
//
// Every answer is computed from one checked Config; Reload swaps a new one in
// atomically, so a request sees either the old or the new configuration.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// maxBodySize bounds a request body (an Autodiscover request is ~300 bytes).
const maxBodySize = 64 << 10

// maxHeaderBytes bounds the request line and headers.
const maxHeaderBytes = 32 << 10

// Server answers setup requests. It is an http.Handler; Serve runs it on
// listeners with the configured timeouts and TLS.
type Server struct {
	log     *slog.Logger
	state   atomic.Pointer[state]
	metrics *metrics
	certs   *certSource
	// separateMetrics is set while a metrics listener answers /metrics.
	separateMetrics atomic.Bool
}

// state is everything a request reads, swapped as a whole on Reload.
type state struct {
	cfg     *Config
	limiter *limiter // nil when the rate limit is off
	signer  *signer  // nil when Apple profiles are not signed
	// renders holds the answers rendered per address from this
	// configuration; a reload starts a new one.
	renders *renderCache
}

// New checks what cfg points at (certificate files, signing key) and returns
// a Server ready to serve it. logger receives one line per problem and, if
// the configuration asks for it, per request.
func New(cfg *Config, logger *slog.Logger) (*Server, error) {
	s := &Server{log: logger, metrics: newMetrics()}
	st, err := s.newState(cfg, nil)
	if err != nil {
		return nil, err
	}
	certs, err := newCertSource(cfg, s.hostAllowed)
	if err != nil {
		return nil, err
	}
	s.certs = certs
	s.state.Store(st)
	return s, nil
}

func (s *Server) newState(cfg *Config, old *state) (*state, error) {
	st := &state{cfg: cfg, renders: newRenderCache(maxRenderCacheBytes, maxConcurrentRenders, maxRenderWait, &s.metrics.rendered)}
	if cfg.Limit.PerMinute > 0 {
		if old != nil && old.limiter != nil && old.cfg.Limit.PerMinute == cfg.Limit.PerMinute && old.cfg.Limit.Burst == cfg.Limit.Burst {
			st.limiter = old.limiter // keep the buckets: a reload is no reset
		} else {
			st.limiter = newLimiter(cfg.Limit.PerMinute, cfg.Limit.Burst)
		}
	}
	if cfg.Signing != nil {
		sg, err := loadSigner(cfg.Signing)
		if err != nil {
			return nil, err
		}
		st.signer = sg
	}
	return st, nil
}

// Reload swaps cfg in for every request that starts from now on; requests in
// flight finish with the configuration they started with. Listen addresses,
// timeouts and ACME settings need a restart; certificate files are re-read.
func (s *Server) Reload(cfg *Config) error {
	old := s.state.Load()
	st, err := s.newState(cfg, old)
	if err != nil {
		s.metrics.reloads.failed.Add(1)
		return err
	}
	if err := s.certs.reload(cfg); err != nil {
		s.metrics.reloads.failed.Add(1)
		return err
	}
	if cfg.Listen != old.cfg.Listen || cfg.Timeouts != old.cfg.Timeouts || cfg.Conns != old.cfg.Conns || !sameACME(cfg.TLS.ACME, old.cfg.TLS.ACME) {
		s.log.Warn("reload: listen addresses, timeouts, connection caps and ACME settings take effect only after a restart")
	}
	s.state.Store(st)
	s.metrics.reloads.ok.Add(1)
	s.log.Info("configuration reloaded", "domains", len(cfg.order))
	return nil
}

// ReloadWith reads a configuration with load (LoadConfig, usually) and
// swaps it in as Reload does. A configuration that cannot be read is a
// refused reload too: it is counted in config_reloads_total{result="failed"}
// and the old one kept.
func (s *Server) ReloadWith(load func() (*Config, error)) (*Config, error) {
	cfg, err := load()
	if err != nil {
		s.metrics.reloads.failed.Add(1)
		return nil, err
	}
	if err := s.Reload(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

func sameACME(a, b *ACMEConfig) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// hostAllowed is the ACME host policy: certificates only for the names
// clients look the configured domains up at, and setup.DOMAIN for people.
func (s *Server) hostAllowed(host string) bool {
	cfg := s.state.Load().cfg
	host = hostDomain(host) // HTTP-01 asks with the Host header, port and all
	if host == cfg.Hostname && host != "" {
		return true
	}
	for _, prefix := range []string{"autoconfig.", "autodiscover.", "setup.", ""} {
		if prefix == "setup." && !cfg.Page.Enabled {
			continue // the setup page's name, only while there is a page
		}
		if d, ok := strings.CutPrefix(host, prefix); ok {
			if _, known := cfg.sites[d]; known {
				return true
			}
		}
	}
	return false
}

// Listeners are what Serve answers on; a nil one is not served.
type Listeners struct {
	HTTP, HTTPS net.Listener
	// Metrics answers /metrics and /healthz only (Config.Listen.Metrics);
	// while it is set, the other listeners do not answer /metrics.
	Metrics net.Listener
}

// Serve answers on the given listeners until ctx ends, then shuts down
// gracefully: listeners close at once, requests in flight get the
// configured shutdown time to finish. The HTTP and HTTPS listeners keep at
// most the configured number of connections (Config.Conns).
func (s *Server) Serve(ctx context.Context, ls Listeners) error {
	if ls.HTTP == nil && ls.HTTPS == nil {
		return errors.New("server: nothing to listen on: set listen.http or listen.https")
	}
	cfg := s.state.Load().cfg
	t := cfg.Timeouts
	newHTTP := func(h http.Handler) *http.Server {
		return &http.Server{
			Handler:           h,
			ReadHeaderTimeout: t.ReadHeader,
			ReadTimeout:       t.Read,
			WriteTimeout:      t.Write,
			IdleTimeout:       t.Idle,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		}
	}
	s.separateMetrics.Store(ls.Metrics != nil)
	limit := func(l net.Listener) net.Listener {
		return newConnLimiter(l, cfg.Conns, cfg.Limit.TrustedProxies, s.metrics)
	}
	var servers []*http.Server
	errc := make(chan error, 3)
	if ls.HTTP != nil {
		hs := newHTTP(s.certs.httpHandler(s))
		servers = append(servers, hs)
		go func() { errc <- hs.Serve(limit(ls.HTTP)) }()
		s.log.Info("serving HTTP", "addr", ls.HTTP.Addr().String())
	}
	if ls.HTTPS != nil {
		hs := newHTTP(s)
		hs.TLSConfig = s.certs.tlsConfig()
		servers = append(servers, hs)
		go func() { errc <- hs.Serve(tls.NewListener(limit(ls.HTTPS), hs.TLSConfig)) }()
		s.log.Info("serving HTTPS", "addr", ls.HTTPS.Addr().String())
	}
	if ls.Metrics != nil {
		hs := newHTTP(http.HandlerFunc(s.serveMetricsListener))
		servers = append(servers, hs)
		go func() { errc <- hs.Serve(ls.Metrics) }()
		s.log.Info("serving /metrics", "addr", ls.Metrics.Addr().String())
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		s.log.Error("listener failed", "err", err)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.Shutdown)
	defer cancel()
	var wg sync.WaitGroup
	for _, hs := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if e := hs.Shutdown(sctx); e != nil {
				s.log.Warn("shutdown: requests still running were cut off", "err", e)
			}
		}()
	}
	wg.Wait()
	s.log.Info("stopped")
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// serveMetricsListener answers the metrics listener: /metrics for the
// networks in metrics.allow, /healthz for probes, nothing else.
func (s *Server) serveMetricsListener(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	setHeader(w, "X-Content-Type-Options", valueNosniff)
	switch r.URL.Path {
	case pathMetrics:
		s.writeMetrics(w, st, clientIP(r, nil))
	case pathHealth:
		plainText(w, http.StatusOK, "ok\n")
	default:
		plainText(w, http.StatusNotFound, "not found\n")
	}
}

func (s *Server) writeMetrics(w http.ResponseWriter, st *state, client netip.Addr) outcome {
	if !allowed(client, st.cfg.MetricsAllow) {
		return outcome{status: plainText(w, http.StatusNotFound, "not found\n")}
	}
	setHeader(w, "Content-Type", valuePrometheus)
	w.WriteHeader(http.StatusOK)
	s.metrics.writeTo(w)
	return outcome{status: http.StatusOK}
}

// endpoint names what a request asked for, for metrics and logs.
type endpoint int

const (
	epAutoconfig endpoint = iota
	epAutodiscover
	epAutodiscoverJSON
	epMobileconfig
	epAndroid
	epAndroidQR
	epOutlookPRF
	epSheet
	epPage
	epCalDAVWellKnown
	epCardDAVWellKnown
	epAsset
	epHealth
	epMetrics
	epOther
	numEndpoints
)

var endpointNames = [numEndpoints]string{"autoconfig", "autodiscover", "autodiscover_json", "mobileconfig", "android", "android_qr", "outlook_prf", "sheet", "page", "caldav_well_known", "carddav_well_known", "page_asset", "healthz", "metrics", "other"}

// Paths served. Matching ignores letter case: Outlook sends
// /Autodiscover/Autodiscover.xml, the specification /autodiscover/autodiscover.xml.
const (
	pathAutoconfig          = "/mail/config-v1.1.xml"
	pathAutoconfigWellKnown = "/.well-known/autoconfig/mail/config-v1.1.xml"
	pathAutodiscover        = "/autodiscover/autodiscover.xml"
	pathAutodiscoverJSON    = "/autodiscover/autodiscover.json"
	pathMobileconfig        = "/mail.mobileconfig"
	pathAndroid             = "/android"
	pathAndroidQR           = "/android.png"
	pathOutlookPRF          = "/outlook.prf"
	pathSheet               = "/sheet"
	pathPage                = "/"
	pathPageCSS             = "/setup.css"
	pathPageJS              = "/setup.js"
	pathLogo                = "/logo"
	pathFavicon             = "/favicon.ico"
	pathHealth              = "/healthz"
	pathMetrics             = "/metrics"
)

// outcome is what a handler did, for metrics and the request log.
type outcome struct {
	status int
	domain string
	addr   string // as the client sent it; logged redacted unless configured
}

func route(path string) endpoint {
	switch {
	case strings.EqualFold(path, pathAutoconfig), strings.EqualFold(path, pathAutoconfigWellKnown):
		return epAutoconfig
	case strings.EqualFold(path, pathAutodiscover):
		return epAutodiscover
	case len(path) >= len(pathAutodiscoverJSON) && strings.EqualFold(path[:len(pathAutodiscoverJSON)], pathAutodiscoverJSON):
		return epAutodiscoverJSON
	case strings.EqualFold(path, pathMobileconfig):
		return epMobileconfig
	case strings.EqualFold(path, pathAndroid):
		return epAndroid
	case strings.EqualFold(path, pathAndroidQR):
		return epAndroidQR
	case strings.EqualFold(path, pathOutlookPRF):
		return epOutlookPRF
	case strings.EqualFold(path, pathSheet):
		return epSheet
	case path == pathPage:
		return epPage
	case strings.HasPrefix(path, "/.well-known/"):
		if kind, ok := davWellKnownKind(path); ok {
			if kind == autoconfig.CalDAV {
				return epCalDAVWellKnown
			}
			return epCardDAVWellKnown
		}
	case strings.EqualFold(path, pathPageCSS), strings.EqualFold(path, pathPageJS), strings.EqualFold(path, pathLogo), path == pathFavicon:
		return epAsset
	case path == pathHealth:
		return epHealth
	case path == pathMetrics:
		return epMetrics
	}
	return epOther
}

// ServeHTTP routes a request to its endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	st := s.state.Load()
	ep := route(r.URL.Path)
	client := clientIP(r, st.cfg.Limit.TrustedProxies)
	setHeader(w, "X-Content-Type-Options", valueNosniff)

	var out outcome
	switch {
	// The health check, the metrics and the page's fixed assets are not
	// counted: a page view would otherwise cost several tokens.
	case ep != epHealth && ep != epMetrics && ep != epAsset && st.limiter != nil && !st.limiter.allow(client, start):
		s.metrics.limited.Add(1)
		setHeader(w, "Retry-After", valueRetryAfter)
		out = outcome{status: http.StatusTooManyRequests}
		plainText(w, out.status, "too many requests: try again in a minute\n")
	default:
		out = s.serveEndpoint(w, r, st, ep, client)
		if out.status == http.StatusOK && isDownload(ep) {
			s.metrics.countDownload(ep, queryValue(r.URL.RawQuery, "device"))
		}
	}
	elapsed := time.Since(start)
	s.metrics.observe(ep, out.status, elapsed)
	if st.cfg.Log.Requests || out.status >= 500 {
		s.logRequest(r, st.cfg, ep, out, client, elapsed)
	}
}

func (s *Server) serveEndpoint(w http.ResponseWriter, r *http.Request, st *state, ep endpoint, client netip.Addr) outcome {
	switch ep {
	case epAutoconfig:
		return s.serveAutoconfig(w, r, st)
	case epAutodiscover:
		return s.serveAutodiscover(w, r, st)
	case epAutodiscoverJSON:
		return s.serveAutodiscoverJSON(w, r, st)
	case epMobileconfig:
		return s.serveMobileconfig(w, r, st)
	case epAndroid:
		return s.serveAndroid(w, r, st)
	case epAndroidQR:
		return s.serveAndroidQR(w, r, st)
	case epOutlookPRF:
		return s.serveOutlookPRF(w, r, st)
	case epSheet:
		return s.serveSheet(w, r, st)
	case epPage:
		return s.servePage(w, r, st)
	case epCalDAVWellKnown:
		return s.serveDAVWellKnown(w, r, st, autoconfig.CalDAV)
	case epCardDAVWellKnown:
		return s.serveDAVWellKnown(w, r, st, autoconfig.CardDAV)
	case epAsset:
		return s.serveAsset(w, r, st)
	case epHealth:
		return outcome{status: plainText(w, http.StatusOK, "ok\n")}
	case epMetrics:
		if s.separateMetrics.Load() {
			return outcome{status: plainText(w, http.StatusNotFound, "not found\n")}
		}
		return s.writeMetrics(w, st, client)
	}
	return outcome{status: plainText(w, http.StatusNotFound, "not found\n")}
}

func (s *Server) logRequest(r *http.Request, cfg *Config, ep endpoint, out outcome, client netip.Addr, elapsed time.Duration) {
	level := slog.LevelInfo
	if out.status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("endpoint", endpointNames[ep]),
		slog.String("method", r.Method),
		slog.Int("status", out.status),
		slog.String("client", client.String()),
		slog.Duration("elapsed", elapsed),
	}
	if out.domain != "" {
		attrs = append(attrs, slog.String("domain", out.domain))
	}
	if out.addr != "" {
		attrs = append(attrs, slog.String("address", redact(out.addr, cfg.Log.FullAddresses)))
	}
	s.log.LogAttrs(r.Context(), level, "request", attrs...)
}

// redact keeps an address's domain and hides who asked: "…@example.test".
func redact(addr string, full bool) string {
	if full {
		return addr
	}
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return "…" + addr[at:]
	}
	return "…"
}

// redactError is err's text with the address's local part hidden as redact
// hides it: writers quote the address they refuse (%q, which keeps letters
// outside ASCII as they are).
func redactError(err error, addr string, full bool) string {
	msg := err.Error()
	at := strings.LastIndexByte(addr, '@')
	if full || at <= 0 {
		return msg
	}
	local := addr[:at]
	quoted := strconv.Quote(local)
	msg = strings.ReplaceAll(msg, local+"@", "…@")
	return strings.ReplaceAll(msg, quoted[1:len(quoted)-1]+"@", "…@")
}

// Header values, allocated once: a request sets them without copying.
var (
	valueNosniff     = []string{"nosniff"}
	valueRetryAfter  = []string{"60"}
	valueXML         = []string{"application/xml; charset=utf-8"}
	valueTextXML     = []string{"text/xml; charset=utf-8"}
	valueJSON        = []string{"application/json; charset=utf-8"}
	valueText        = []string{"text/plain; charset=utf-8"}
	valueHTML        = []string{"text/html; charset=utf-8"}
	valueAppleConfig = []string{"application/x-apple-aspen-config"}
	valuePNG         = []string{"image/png"}
	valuePrometheus  = []string{"text/plain; version=0.0.4; charset=utf-8"}
	valueNoStore     = []string{"no-store"}
)

// setHeader sets a canonical header name to a shared value slice.
func setHeader(w http.ResponseWriter, name string, value []string) { w.Header()[name] = value }

func plainText(w http.ResponseWriter, status int, msg string) int {
	setHeader(w, "Content-Type", valueText)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(msg))
	return status
}

// parseAddress validates an address a client sent; control characters,
// which no address has and XML 1.0 cannot carry, are refused too.
func parseAddress(s string) (autoconfig.Address, error) {
	if len(s) > 320 {
		return autoconfig.Address{}, fmt.Errorf("%w: longer than 320 bytes", autoconfig.ErrBadAddress)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\ufffd' {
			return autoconfig.Address{}, fmt.Errorf("%w: control character", autoconfig.ErrBadAddress)
		}
	}
	return autoconfig.ParseAddress(s)
}

// hostDomain is the domain a request's Host header names, without port.
func hostDomain(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}
