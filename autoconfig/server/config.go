package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// ErrConfig is returned (wrapped) for a configuration file that cannot be
// used; the message names the file and line.
var ErrConfig = errors.New("server: bad configuration")

// maxConfigSize bounds the configuration file and the provider files it names.
const maxConfigSize = 1 << 20

// Config is a checked configuration file: everything Serve needs, with the
// answers for each domain computed once so that a request does little work.
type Config struct {
	// Path is the file the configuration was read from ("" when parsed
	// from bytes); SIGHUP re-reads it.
	Path string

	Listen   Listen
	Hostname string // the name this server is reached at; CNAME target

	TLS      TLSConfig
	Signing  *SigningConfig
	Timeouts Timeouts
	Limit    RateLimit
	Conns    Connections
	Log      Logging
	// MetricsAllow lists the client networks that may read /metrics.
	MetricsAllow []netip.Prefix
	// Page is the setup page for the hoster's customers (GET /).
	Page PageConfig

	sites   map[string]*site // by A-label domain, lower case; aliases included
	generic *site            // answer for unknown domains; nil means 404
	order   []string         // configured domain names (A-label), file order
}

// Listen holds the listen addresses; an empty one is not opened.
type Listen struct {
	HTTP  string
	HTTPS string
	// Metrics, when set, is the only place /metrics is answered (file key
	// metrics.listen): a port the load balancer does not expose.
	Metrics string
}

// Connections caps open connections; 0 means no cap.
type Connections struct {
	Max       int // overall, per listener
	PerClient int // per client address (IPv6: per /64), trusted proxies aside
}

// TLSConfig says where the HTTPS certificate comes from: files, or ACME.
type TLSConfig struct {
	CertFile, KeyFile string
	ACME              *ACMEConfig
}

// ACMEConfig configures golang.org/x/crypto/acme/autocert.
type ACMEConfig struct {
	DirectoryURL string
	Email        string
	// CacheDir holds account key, certificates and HTTP-01 tokens. Replicas
	// behind one load balancer share it (a shared volume), so that any of
	// them answers a challenge and a certificate is issued once.
	CacheDir string
	// CAFile is the PEM file of roots the ACME directory's HTTPS is checked
	// against (a private ACME server such as Pebble); empty means system roots.
	CAFile string
}

// SigningConfig is the certificate Apple profiles are signed with.
type SigningConfig struct {
	CertFile, KeyFile, ChainFile string
}

// Timeouts bound every connection.
type Timeouts struct {
	ReadHeader, Read, Write, Idle, Shutdown time.Duration
}

// RateLimit is a per-client token bucket; PerMinute 0 turns it off.
type RateLimit struct {
	PerMinute int
	Burst     int
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
}

// Logging configures the structured log.
type Logging struct {
	Level slog.Level
	JSON  bool
	// Requests logs one line per request (at info level).
	Requests bool
	// FullAddresses logs whole e-mail addresses instead of "…@domain".
	FullAddresses bool
}

// Domains returns the configured domain names (not aliases) in file order.
func (c *Config) Domains() []string { return append([]string(nil), c.order...) }

// Provider returns the settings served for domain (A-label or U-label, any
// case), and whether the domain is configured (as a name or an alias).
func (c *Config) Provider(domain string) (*autoconfig.Provider, bool) {
	d, err := autoconfig.ParseDomain(domain)
	if err != nil {
		return nil, false
	}
	s, ok := c.sites[d.ASCII]
	if !ok {
		return nil, false
	}
	return s.provider.Clone(), true
}

// The file format. Field names are the documented keys of examples/serve.yaml.
type fileConfig struct {
	Listen struct {
		HTTP  string `yaml:"http"`
		HTTPS string `yaml:"https"`
	} `yaml:"listen"`
	Hostname string `yaml:"hostname"`
	TLS      struct {
		CertFile string `yaml:"cert_file"`
		KeyFile  string `yaml:"key_file"`
		ACME     *struct {
			DirectoryURL string `yaml:"directory_url"`
			Email        string `yaml:"email"`
			CacheDir     string `yaml:"cache_dir"`
			CAFile       string `yaml:"ca_file"`
			AcceptTOS    bool   `yaml:"accept_tos"`
		} `yaml:"acme"`
	} `yaml:"tls"`
	Signing *struct {
		CertFile  string `yaml:"cert_file"`
		KeyFile   string `yaml:"key_file"`
		ChainFile string `yaml:"chain_file"`
	} `yaml:"signing"`
	Timeouts struct {
		ReadHeader *time.Duration `yaml:"read_header"`
		Read       *time.Duration `yaml:"read"`
		Write      *time.Duration `yaml:"write"`
		Idle       *time.Duration `yaml:"idle"`
		Shutdown   *time.Duration `yaml:"shutdown"`
	} `yaml:"timeouts"`
	RateLimit struct {
		PerMinute      *int     `yaml:"per_minute"`
		Burst          *int     `yaml:"burst"`
		TrustedProxies []string `yaml:"trusted_proxies"`
	} `yaml:"rate_limit"`
	Logging struct {
		Level         string `yaml:"level"`
		Format        string `yaml:"format"`
		Requests      bool   `yaml:"requests"`
		FullAddresses bool   `yaml:"full_addresses"`
	} `yaml:"logging"`
	Connections struct {
		Max       *int `yaml:"max"`
		PerClient *int `yaml:"per_client"`
	} `yaml:"connections"`
	Metrics struct {
		Listen string   `yaml:"listen"`
		Allow  []string `yaml:"allow"`
	} `yaml:"metrics"`
	Page           filePage     `yaml:"page"`
	UnknownDomains string       `yaml:"unknown_domains"`
	Domains        []fileDomain `yaml:"domains"`
}

type fileDomain struct {
	Name     string        `yaml:"name"`
	Aliases  []string      `yaml:"aliases"`
	File     string        `yaml:"file"`
	Provider *fileProvider `yaml:"provider"`
}

type fileProvider struct {
	DisplayName      string       `yaml:"display_name"`
	DisplayShortName string       `yaml:"display_short_name"`
	Incoming         []fileServer `yaml:"incoming"`
	Outgoing         []fileServer `yaml:"outgoing"`
	Documentation    []string     `yaml:"documentation"`
	// CalDAV and CardDAV are the RFC 6764 context URLs of the domain's
	// calendars and address books (https://HOST[:PORT]/PATH).
	CalDAV  string `yaml:"caldav"`
	CardDAV string `yaml:"carddav"`
}

type fileServer struct {
	Protocol string   `yaml:"protocol"`
	Host     string   `yaml:"host"`
	Port     int      `yaml:"port"`
	Security string   `yaml:"security"`
	Auth     []string `yaml:"auth"`
	Username string   `yaml:"username"`
	POP3     *struct {
		LeaveMessagesOnServer bool `yaml:"leave_messages_on_server"`
		DaysToLeave           int  `yaml:"days_to_leave"`
	} `yaml:"pop3"`
}

// Defaults for what the file leaves out.
const (
	defaultReadHeader = 5 * time.Second
	defaultRead       = 10 * time.Second
	defaultWrite      = 10 * time.Second
	// defaultIdle is short: a client that sets up an account asks a few
	// times in a row and then not for days, so a long idle time only lets
	// connections pile up (about 20 KB each).
	defaultIdle      = 30 * time.Second
	defaultShutdown  = 20 * time.Second
	defaultPerMinute = 60
	defaultBurst     = 20
	// With the 30 s idle time these hold about 20 MB of idle connections at
	// most; 64 per address leave room for offices behind one NAT address.
	defaultMaxConns       = 1024
	defaultConnsPerClient = 64
)

// LoadConfig reads and checks the configuration file at path. Provider files
// it names are read relative to the file's directory.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrConfig, path, fileError(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrConfig, path, fileError(err))
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("%w: %s is larger than 1 MiB", ErrConfig, path)
	}
	c, err := ParseConfig(data, path)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ParseConfig checks a configuration held in memory; name is the file name
// used in messages and to resolve relative paths.
func ParseConfig(data []byte, name string) (*Config, error) {
	var fc fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&fc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: %s is empty: start from examples/serve.yaml", ErrConfig, name)
		}
		return nil, fmt.Errorf("%w: %s", ErrConfig, yamlError(name, data, err))
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrConfig, name, err)
	}
	l := &loader{name: name, dir: filepath.Dir(name), root: &root}
	return l.compile(&fc)
}

// loader turns the decoded file into a Config, reporting problems by line.
type loader struct {
	name string
	dir  string
	root *yaml.Node
}

// errorf reports a problem at the node found by path (keys and indexes).
func (l *loader) errorf(path []any, format string, args ...any) error {
	line := l.line(path...)
	where := l.name
	if line > 0 {
		where += ":" + strconv.Itoa(line)
	}
	return fmt.Errorf("%w: %s: %s", ErrConfig, where, fmt.Sprintf(format, args...))
}

// line finds the line of the value at path, or of its nearest existing parent.
func (l *loader) line(path ...any) int {
	n := l.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, p := range path {
		var next *yaml.Node
		switch k := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
			}
		}
		if next == nil {
			return line
		}
		n = next
		line = n.Line
	}
	return line
}

func at(path ...any) []any { return path }

func (l *loader) compile(fc *fileConfig) (*Config, error) {
	c := &Config{
		Listen:   Listen{HTTP: fc.Listen.HTTP, HTTPS: fc.Listen.HTTPS, Metrics: fc.Metrics.Listen},
		Hostname: fc.Hostname,
		sites:    map[string]*site{},
	}
	if err := l.compileServing(fc, c); err != nil {
		return nil, err
	}
	if len(fc.Domains) == 0 {
		return nil, l.errorf(at("domains"), "no domains: add one under domains: (see examples/serve.yaml)")
	}
	for i := range fc.Domains {
		if err := l.compileDomain(c, &fc.Domains[i], i); err != nil {
			return nil, err
		}
	}
	if g := fc.UnknownDomains; g != "" && g != "404" {
		d, err := autoconfig.ParseDomain(g)
		if err != nil {
			return nil, l.errorf(at("unknown_domains"), "unknown_domains must be 404 or a configured domain to answer with: %v", err)
		}
		s, ok := c.sites[d.ASCII]
		if !ok {
			return nil, l.errorf(at("unknown_domains"), "unknown_domains names %q, which is not under domains:", g)
		}
		c.generic = s
	}
	if err := l.compilePage(&fc.Page, c); err != nil {
		return nil, err
	}
	return c, nil
}

// compileServing checks everything but the domains.
func (l *loader) compileServing(fc *fileConfig, c *Config) error {
	if c.Listen.HTTP == "" && c.Listen.HTTPS == "" {
		return l.errorf(at("listen"), "no listen address: set listen.http and/or listen.https, e.g. \":8080\"")
	}
	if m := c.Listen.Metrics; m != "" && (m == c.Listen.HTTP || m == c.Listen.HTTPS) {
		return l.errorf(at("metrics", "listen"), "metrics.listen %q is also a listen address: give /metrics its own port, e.g. \":9090\"", m)
	}
	if c.Hostname != "" {
		d, err := autoconfig.ParseDomain(c.Hostname)
		if err != nil {
			return l.errorf(at("hostname"), "hostname: %v", err)
		}
		c.Hostname = d.ASCII
	}
	t := fc.TLS
	if (t.CertFile == "") != (t.KeyFile == "") {
		return l.errorf(at("tls"), "set both tls.cert_file and tls.key_file, or neither")
	}
	c.TLS = TLSConfig{CertFile: l.path(t.CertFile), KeyFile: l.path(t.KeyFile)}
	if t.ACME != nil {
		if t.CertFile != "" {
			return l.errorf(at("tls", "acme"), "tls has both certificate files and acme: keep one")
		}
		if !t.ACME.AcceptTOS {
			return l.errorf(at("tls", "acme"), "set tls.acme.accept_tos: true to accept the ACME CA's terms of service")
		}
		if t.ACME.CacheDir == "" {
			return l.errorf(at("tls", "acme"), "set tls.acme.cache_dir: a directory (shared by all replicas) for keys and certificates")
		}
		if u := t.ACME.DirectoryURL; u != "" && !strings.HasPrefix(u, "https://") {
			return l.errorf(at("tls", "acme", "directory_url"), "tls.acme.directory_url %q must be an https:// URL", u)
		}
		c.TLS.ACME = &ACMEConfig{
			DirectoryURL: t.ACME.DirectoryURL,
			Email:        t.ACME.Email,
			CacheDir:     l.path(t.ACME.CacheDir),
			CAFile:       l.path(t.ACME.CAFile),
		}
	}
	if c.Listen.HTTPS != "" && c.TLS.CertFile == "" && c.TLS.ACME == nil {
		return l.errorf(at("listen", "https"), "listen.https needs a certificate: set tls.cert_file/key_file or tls.acme")
	}
	if s := fc.Signing; s != nil {
		if s.CertFile == "" || s.KeyFile == "" {
			return l.errorf(at("signing"), "set both signing.cert_file and signing.key_file")
		}
		c.Signing = &SigningConfig{CertFile: l.path(s.CertFile), KeyFile: l.path(s.KeyFile), ChainFile: l.path(s.ChainFile)}
	}

	to := fc.Timeouts
	c.Timeouts = Timeouts{
		ReadHeader: durationOr(to.ReadHeader, defaultReadHeader),
		Read:       durationOr(to.Read, defaultRead),
		Write:      durationOr(to.Write, defaultWrite),
		Idle:       durationOr(to.Idle, defaultIdle),
		Shutdown:   durationOr(to.Shutdown, defaultShutdown),
	}
	for key, d := range map[string]time.Duration{"read_header": c.Timeouts.ReadHeader, "read": c.Timeouts.Read,
		"write": c.Timeouts.Write, "idle": c.Timeouts.Idle, "shutdown": c.Timeouts.Shutdown} {
		if d <= 0 || d > time.Hour {
			return l.errorf(at("timeouts", key), "timeouts.%s %s must be between 1ns and 1h, e.g. 10s", key, d)
		}
	}

	rl := fc.RateLimit
	c.Limit = RateLimit{PerMinute: intOr(rl.PerMinute, defaultPerMinute), Burst: intOr(rl.Burst, defaultBurst)}
	var err error
	if c.Limit.TrustedProxies, err = l.prefixes(rl.TrustedProxies, "rate_limit", "trusted_proxies"); err != nil {
		return err
	}
	if c.Limit.PerMinute < 0 || c.Limit.Burst < 0 {
		return l.errorf(at("rate_limit"), "rate_limit values cannot be negative (per_minute: 0 turns the limit off)")
	}
	if c.Limit.PerMinute > 0 && c.Limit.Burst == 0 {
		return l.errorf(at("rate_limit", "burst"), "rate_limit.burst must be at least 1 while the limit is on")
	}

	c.Conns = Connections{Max: intOr(fc.Connections.Max, defaultMaxConns), PerClient: intOr(fc.Connections.PerClient, defaultConnsPerClient)}
	if c.Conns.Max < 0 || c.Conns.PerClient < 0 {
		return l.errorf(at("connections"), "connections values cannot be negative (0 means no cap)")
	}

	lg := fc.Logging
	switch strings.ToLower(lg.Level) {
	case "", "info":
		c.Log.Level = slog.LevelInfo
	case "debug":
		c.Log.Level = slog.LevelDebug
	case "warn", "warning":
		c.Log.Level = slog.LevelWarn
	case "error":
		c.Log.Level = slog.LevelError
	default:
		return l.errorf(at("logging", "level"), "logging.level %q: use debug, info, warn or error", lg.Level)
	}
	switch lg.Format {
	case "", "json":
		c.Log.JSON = true
	case "text":
	default:
		return l.errorf(at("logging", "format"), "logging.format %q: use json or text", lg.Format)
	}
	c.Log.Requests = lg.Requests
	c.Log.FullAddresses = lg.FullAddresses

	if c.MetricsAllow, err = l.prefixes(fc.Metrics.Allow, "metrics", "allow"); err != nil {
		return err
	}
	if len(c.MetricsAllow) == 0 {
		c.MetricsAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	return nil
}

func (l *loader) compileDomain(c *Config, fd *fileDomain, i int) error {
	here := func(more ...any) []any { return append(at("domains", i), more...) }
	d, err := autoconfig.ParseDomain(fd.Name)
	if err != nil {
		return l.errorf(here("name"), "domains[%d].name: %v", i, err)
	}
	var p *autoconfig.Provider
	switch {
	case fd.File != "" && fd.Provider != nil:
		return l.errorf(here(), "domain %q has both file: and provider:; keep one", d.ASCII)
	case fd.File != "":
		p, err = l.readProviderFile(fd.File, here("file"))
	case fd.Provider != nil:
		p, err = l.inlineProvider(fd.Provider, d, here("provider"))
	default:
		return l.errorf(here(), "domain %q needs its settings: provider: (inline) or file: (a config-v1.1 XML file)", d.ASCII)
	}
	if err != nil {
		return err
	}
	if _, ok := p.PreferredIncoming(); !ok {
		return l.errorf(here(), "domain %q has no IMAP or POP3 server: add one", d.ASCII)
	}
	if _, ok := p.PreferredOutgoing(); !ok {
		return l.errorf(here(), "domain %q has no SMTP server: add one", d.ASCII)
	}
	if err := checkServers(p, d); err != nil {
		return l.errorf(here(), "domain %q: %v", d.ASCII, err)
	}
	aliases := make([]autoconfig.Domain, 0, len(fd.Aliases))
	for j, a := range fd.Aliases {
		ad, err := autoconfig.ParseDomain(a)
		if err != nil {
			return l.errorf(here("aliases", j), "alias of %q: %v", d.ASCII, err)
		}
		aliases = append(aliases, ad)
	}
	p.ID = d.ASCII
	p.Domains = []string{d.ASCII}
	for _, a := range aliases {
		p.Domains = append(p.Domains, a.ASCII)
	}
	if err := checkDAV(p); err != nil {
		return l.errorf(here(), "domain %q: %v", d.ASCII, err)
	}
	if err := p.Validate(); err != nil {
		return l.errorf(here(), "domain %q: %v", d.ASCII, err)
	}
	primary, err := newSite(d, p, nil)
	if err != nil {
		return l.errorf(here(), "domain %q: %v", d.ASCII, err)
	}
	if _, dup := c.sites[d.ASCII]; dup {
		return l.errorf(here("name"), "domain %q is listed twice", d.ASCII)
	}
	c.sites[d.ASCII] = primary
	c.order = append(c.order, d.ASCII)
	for j, a := range aliases {
		if _, dup := c.sites[a.ASCII]; dup {
			return l.errorf(here("aliases", j), "domain %q is listed twice", a.ASCII)
		}
		s, err := newSite(a, p, primary)
		if err != nil {
			return l.errorf(here("aliases", j), "alias %q: %v", a.ASCII, err)
		}
		c.sites[a.ASCII] = s
	}
	return nil
}

// checkDAV refuses a plain-http calendar or contacts URL, whether typed
// under provider: or read from a settings file. The model allows one for a
// provider that offers nothing else, with the user's consent; serve has no
// user to ask: it would hand every client that follows its redirect or
// installs its profile a URL that sends the password in the clear.
func checkDAV(p *autoconfig.Provider) error {
	for _, s := range p.DAV {
		if u, err := autoconfig.ParseDAVURL(s.URL); err == nil && !u.TLS {
			return fmt.Errorf("%s URL %q is plain http, which would send passwords in the clear: serve publishes only https:// URLs, so give it one", s.Kind.DisplayName(), s.URL)
		}
	}
	return nil
}

// checkServers rejects settings a client could not use.
func checkServers(p *autoconfig.Provider, d autoconfig.Domain) error {
	addr := autoconfig.Address{LocalPart: "user", Domain: d.ASCII, DomainUnicode: d.Unicode}
	for _, s := range append(append([]autoconfig.Server(nil), p.Incoming...), p.Outgoing...) {
		if _, err := autoconfig.ParseDomain(s.ExpandHostname(addr)); err != nil {
			return fmt.Errorf("%s server host: %v", s.Protocol.DisplayName(), err)
		}
		if s.Port < 1 || s.Port > 65535 {
			return fmt.Errorf("%s server %s: port %d is not between 1 and 65535", s.Protocol.DisplayName(), s.Hostname, s.Port)
		}
		if err := autoconfig.CheckTemplate(s.Username); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) readProviderFile(name string, path []any) (*autoconfig.Provider, error) {
	full := l.path(name)
	f, err := os.Open(full)
	if err != nil {
		return nil, l.errorf(path, "cannot read provider file %s: %s", full, fileError(err))
	}
	defer f.Close()
	p, diags, err := autoconfig.ReadConfig(f)
	// A finding comes first: a server dropped for a bad host name is why
	// the file may have none left, and the finding names the value.
	for _, dg := range diags {
		if dg.Severity == autoconfig.Error {
			return nil, l.errorf(path, "provider file %s:%d: %s (check it with mailsetup lint)", full, dg.Line, dg.Message)
		}
	}
	if err != nil {
		return nil, l.errorf(path, "provider file %s: %v", full, err)
	}
	return p, nil
}

func (l *loader) inlineProvider(fp *fileProvider, d autoconfig.Domain, path []any) (*autoconfig.Provider, error) {
	p := &autoconfig.Provider{DisplayName: fp.DisplayName, DisplayShortName: fp.DisplayShortName}
	if p.DisplayName == "" {
		p.DisplayName = d.Unicode
	}
	if p.DisplayShortName == "" {
		p.DisplayShortName = p.DisplayName
	}
	for i, fs := range fp.Incoming {
		s, err := l.server(fs, append(append([]any(nil), path...), "incoming", i))
		if err != nil {
			return nil, err
		}
		if s.Protocol != autoconfig.IMAP && s.Protocol != autoconfig.POP3 {
			return nil, l.errorf(append(path, "incoming", i, "protocol"), "incoming protocol %q: use imap or pop3", fs.Protocol)
		}
		p.Incoming = append(p.Incoming, s)
	}
	for i, fs := range fp.Outgoing {
		s, err := l.server(fs, append(append([]any(nil), path...), "outgoing", i))
		if err != nil {
			return nil, err
		}
		if s.Protocol != autoconfig.SMTP {
			return nil, l.errorf(append(path, "outgoing", i, "protocol"), "outgoing protocol %q: use smtp", fs.Protocol)
		}
		p.Outgoing = append(p.Outgoing, s)
	}
	for i, u := range fp.Documentation {
		if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
			return nil, l.errorf(append(path, "documentation", i), "documentation %q must be an http(s) URL", u)
		}
		p.Documentation = append(p.Documentation, autoconfig.Link{URL: u})
	}
	for _, dav := range []struct {
		kind autoconfig.DAVKind
		raw  string
	}{{autoconfig.CalDAV, fp.CalDAV}, {autoconfig.CardDAV, fp.CardDAV}} {
		if dav.raw == "" {
			continue
		}
		key := append(append([]any(nil), path...), string(dav.kind))
		u, err := autoconfig.ParseDAVURL(dav.raw)
		if err != nil {
			return nil, l.errorf(key, "%s: %v", dav.kind, err)
		}
		if !u.TLS {
			return nil, l.errorf(key, "%s %q is plain http, which would send passwords in the clear: write its https:// URL", dav.kind, dav.raw)
		}
		// The calendar and contacts login is the mail login at every
		// hoster we know of (Nextcloud, SOGo, Radicale, mailbox.org).
		username := autoconfig.PlaceholderAddress
		if in, ok := p.PreferredIncoming(); ok {
			username = in.Username
		}
		p.DAV = append(p.DAV, autoconfig.DAVService{Kind: dav.kind, URL: u.String(), Username: username})
	}
	return p, nil
}

func (l *loader) server(fs fileServer, path []any) (autoconfig.Server, error) {
	field := func(k string) []any { return append(append([]any(nil), path...), k) }
	s := autoconfig.Server{
		Protocol: autoconfig.Protocol(strings.ToLower(fs.Protocol)),
		Hostname: fs.Host,
		Port:     fs.Port,
		Security: autoconfig.Security(strings.ToLower(fs.Security)),
		Username: fs.Username,
	}
	if fs.Host == "" {
		return s, l.errorf(field("host"), "server needs host:")
	}
	if !s.Security.Valid() {
		return s, l.errorf(field("security"), "security %q: use tls (implicit TLS), starttls or plain", fs.Security)
	}
	if s.Port == 0 {
		s.Port = autoconfig.DefaultPort(s.Protocol, s.Security)
	}
	if s.Username == "" {
		s.Username = autoconfig.PlaceholderAddress
	}
	if len(fs.Auth) == 0 {
		s.Auth = []autoconfig.AuthMethod{autoconfig.AuthPasswordCleartext}
	}
	for i, a := range fs.Auth {
		m, ok := autoconfig.ParseAuthMethod(a)
		if !ok {
			return s, l.errorf(append(field("auth"), i), "auth %q: use password-cleartext, password-encrypted, OAuth2, NTLM, GSSAPI, client-IP-address, TLS-client-cert or none", a)
		}
		s.Auth = append(s.Auth, m)
	}
	if fs.POP3 != nil {
		if s.Protocol != autoconfig.POP3 {
			return s, l.errorf(field("pop3"), "pop3: options belong to a pop3 server only")
		}
		s.POP3 = &autoconfig.POP3Options{LeaveMessagesOnServer: fs.POP3.LeaveMessagesOnServer, DaysToLeave: fs.POP3.DaysToLeave}
	}
	return s, nil
}

// prefixes parses networks written as CIDR ("10.0.0.0/8") or single addresses.
func (l *loader) prefixes(in []string, section, key string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, v := range in {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return nil, l.errorf(at(section, key, i), "%s %q is not a network: write it as 10.0.0.0/8 or an address", key, v)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// yamlError says what yaml.v3 found wrong in the file in the words of the
// person editing it: FILE:LINE, the key, and what belongs there. yaml.v3's
// own texts name Go types ("into []server.fileDomain"), which mean nothing
// to that person.
func yamlError(name string, data []byte, err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			return name + ":" + m[1] + ": this is not valid YAML: " + m[2]
		}
		return name + ": this is not valid YAML: " + msg
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root)
	var out []string
	for _, e := range te.Errors {
		m := yamlLine.FindStringSubmatch(e)
		if m == nil {
			out = append(out, name+": "+e)
			continue
		}
		line, _ := strconv.Atoi(m[1])
		out = append(out, name+":"+m[1]+": "+typeProblem(m[2], &root, line, data))
	}
	return strings.Join(out, "; ")
}

var (
	yamlLine     = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownField = regexp.MustCompile(`^field (\S+) not found in type `)
	cannotInto   = regexp.MustCompile("^cannot unmarshal (!!\\w+)(?: `(.*)`)? into (.+)$")
)

// typeProblem words one of yaml.v3's type errors.
func typeProblem(msg string, root *yaml.Node, line int, data []byte) string {
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		return "unknown key " + m[1] + ": see examples/serve.yaml for the keys"
	}
	m := cannotInto.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	found, value, into := m[1], m[2], m[3]
	if into == "server.fileConfig" {
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte("<")) {
			return "this looks like XML, but the serve configuration is a YAML mapping " +
				"(see examples/serve.yaml); a provider's XML settings file goes under a domain's file: key"
		}
		return "the file should be a YAML mapping of settings (see examples/serve.yaml), not " + yamlKind(found, value)
	}
	where := ""
	if key := keyAtLine(root, line, found, value); key != "" {
		where = key + " "
	}
	return where + "should be " + expected(into) + ", not " + yamlKind(found, value)
}

// expected names what belongs where yaml.v3 wanted the Go type into.
func expected(into string) string {
	switch {
	case into == "[]server.fileDomain":
		return "a list of domains"
	case into == "[]server.fileServer":
		return "a list of servers"
	case into == "[]string":
		return "a list of values"
	case strings.HasPrefix(into, "[]"):
		return "a list"
	case into == "time.Duration":
		return "a duration with a unit, such as 15s or 2m"
	case into == "int":
		return "a whole number"
	case into == "bool":
		return "true or false"
	case into == "string":
		return "a single value"
	}
	return "a mapping of keys"
}

// yamlKind says what the file holds where something else belongs.
func yamlKind(tag, value string) string {
	switch tag {
	case "!!map":
		return "a mapping"
	case "!!seq":
		return "a list"
	}
	if value != "" {
		return strconv.Quote(value)
	}
	return "a single value"
}

// keyAtLine is the dotted path (domains[0].provider.incoming) of the
// deepest key whose value starts on line and is what yaml.v3 reported (a
// flow mapping holds several keys on one line), or "" when none is found.
func keyAtLine(root *yaml.Node, line int, tag, value string) string {
	value = strings.TrimSuffix(value, "...")
	var best string
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				if v := n.Content[i+1]; v.Line == line && v.Tag == tag && strings.HasPrefix(v.Value, value) {
					best = p
				}
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, path+"["+strconv.Itoa(i)+"]")
			}
		}
	}
	walk(root, "")
	return best
}

// fileError says why a file could not be read, without Go's
// "open NAME: " prefix: the caller names the file.
func fileError(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "no permission to read it"
	case errors.Is(err, syscall.EISDIR):
		return "is a folder, not a file"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// path resolves a file name relative to the configuration's directory.
func (l *loader) path(name string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(l.dir, name)
}

func durationOr(d *time.Duration, def time.Duration) time.Duration {
	if d == nil {
		return def
	}
	return *d
}

func intOr(v *int, def int) int {
	if v == nil {
		return def
	}
	return *v
}
