// Package verify proves one candidate mail server: it connects (IPv6 and
// IPv4 raced, RFC 8305), completes implicit TLS or the protocol's upgrade
// (IMAP STARTTLS, RFC 9051 §6.2.1; POP3 STLS, RFC 2595 §4; SMTP STARTTLS,
// RFC 3207), verifies the certificate (RFC 5280 path validation, RFC 6125
// names) and any DANE TLSA records (RFC 6698, RFC 7671, RFC 7672, RFC 7673),
// reads the greeting and capabilities after TLS (IMAP CAPABILITY, POP3 CAPA
// RFC 2449, SMTP EHLO RFC 5321) and, with Login, tries a password the way a
// mail client would — only where it is safe to send one.
//
// Check never sends a password, so callers may run it for every candidate
// in parallel. Login sends one; callers run it one attempt at a time. Login
// re-verifies the connection it sends the password over and never trusts an
// earlier Check.
//
// Every network call goes through the netx.Env the caller gives: names
// through its Resolver, connections through its Dialer, trust through its
// RootCAs. Every read is bounded in size (line and session limits) and in
// time (the context's deadline and Options.Timeout, set on the connection).
//
// A caller proves every candidate, then logs in where it is safe:
//
//	opts := verify.Options{Env: env, Timeout: 5 * time.Second}
//	res := verify.Check(ctx, opts, server) // in parallel for every candidate
//	if ok, why := res.PasswordSafe(opts); !ok {
//		fmt.Println("no login:", why) // e.g. "... pass --trust-cert 3a7f..."
//	}
//	lr := verify.Login(ctx, opts, server, username, password) // re-verifies
//	switch lr.Status {
//	case verify.LoginRejected:
//		fmt.Println(lr.ServerText, lr.Kind, lr.Fix)
//	case verify.LoginNotAttempted:
//		fmt.Println(lr.Reason)
//	}
package verify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// Errors a Result or LoginResult may wrap; test with errors.Is.
var (
	// ErrBadServer: the autoconfig.Server cannot be checked (no host, a port
	// out of range, an unknown protocol or security).
	ErrBadServer = errors.New("the server settings cannot be checked")
	// ErrNoAddress: the host name has no IPv4 or IPv6 address.
	ErrNoAddress = errors.New("the host has no address in DNS")
	// ErrProtocol: the server's answer does not follow the protocol.
	ErrProtocol = errors.New("the server broke the protocol")
	// ErrTooLong: the server sent a longer line or more data than any
	// correct server needs; reading stopped there.
	ErrTooLong = errors.New("the server sent far more than any correct server needs")
	// ErrRefused: the server greeted with a refusal (IMAP BYE, SMTP 554,
	// POP3 -ERR).
	ErrRefused = errors.New("the server refused the connection")
	// ErrSTARTTLS: the upgrade to TLS failed; the connection was dropped
	// rather than continued in plaintext.
	ErrSTARTTLS = errors.New("the switch to encryption (STARTTLS) failed")
	// ErrTLS: the TLS handshake failed.
	ErrTLS = errors.New("the encrypted (TLS) connection could not be set up")
	// ErrTimeout: our own deadline (the context's or Options.Timeout)
	// ended the step, which says nothing about the server. It always
	// comes with context.DeadlineExceeded or context.Canceled.
	ErrTimeout = errors.New("no answer in time")
)

// DefaultTimeout is used when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Options are the rules and the environment of a check or a login.
type Options struct {
	// Env carries the network: every connection goes through Env.Dialer,
	// every name through Env.Resolver, and Env.RootCAs are the trust
	// anchors (nil means the system's roots).
	Env netx.Env
	// AllowPlaintext (--allow-plaintext) lets Login send a password over an
	// unencrypted connection.
	AllowPlaintext bool
	// TrustCertSHA256 (--trust-cert) pins certificates: each entry is the
	// hex SHA-256 of one exact leaf certificate (as TLSInfo.SHA256 shows it;
	// colons and letter case are ignored). A pinned certificate is trusted
	// for Login even when its chain, name or dates are invalid.
	TrustCertSHA256 []string
	// Timeout bounds one attempt (DefaultTimeout when zero): a whole
	// Check, and Login up to the moment the password would be written.
	// After that a server gets at least 16 s for its verdict, since servers
	// delay failures on purpose (Dovecot up to 15 s); a wait in
	// BeforePassword is not counted.
	// The context's deadline, when earlier, always wins.
	Timeout time.Duration
	// ClientName is the name sent in SMTP EHLO; "localhost" when empty.
	ClientName string
	// BeforePassword, when not nil, is called by Login on a connection
	// that is set up and safe, right before the password is written, and
	// may block: a caller that prepares several logins at once (IMAP and
	// SMTP) lets their passwords go one at a time, in its own order. An
	// error ends the login as LoginNotAttempted, with Err wrapping it and
	// nothing sent.
	BeforePassword func(ctx context.Context, s autoconfig.Server) error
}

func (o Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

// clientName is ClientName when it is a plausible EHLO name (RFC 5321
// §4.1.1.1: a domain or address literal; no spaces or line breaks).
func (o Options) clientName() string {
	if o.ClientName == "" || len(o.ClientName) > 255 || strings.ContainsAny(o.ClientName, " \t\r\n") {
		return "localhost"
	}
	return o.ClientName
}

// pinned reports whether the certificate with hex SHA-256 fp is pinned.
func (o Options) pinned(fp string) bool {
	if fp == "" {
		return false
	}
	for _, p := range o.TrustCertSHA256 {
		if normalizeFingerprint(p) == fp {
			return true
		}
	}
	return false
}

func normalizeFingerprint(s string) string {
	return strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(s)))
}

// Severity says how much a Finding matters.
type Severity string

const (
	// SeverityInfo is worth knowing (LOGINDISABLED before TLS, ...).
	SeverityInfo Severity = "info"
	// SeverityWarning weakens security but does not expose a password
	// sent by mailsetup (STARTTLS not advertised yet working, ...).
	SeverityWarning Severity = "warning"
	// SeverityCritical means a password must not be sent there (STARTTLS
	// refused, plaintext injection, DANE mismatch, invalid certificate).
	SeverityCritical Severity = "critical"
)

// Finding codes.
const (
	// FindingPlaintext: the server is used without any encryption.
	FindingPlaintext = "plaintext"
	// FindingSTARTTLSNotAdvertised: the server's capabilities before TLS
	// lack STARTTLS/STLS, so a client that believes them would continue in
	// plaintext (a stripping attack looks exactly like this).
	FindingSTARTTLSNotAdvertised = "starttls-not-advertised"
	// FindingSTARTTLSFailed: the upgrade was refused or its handshake failed.
	FindingSTARTTLSFailed = "starttls-failed"
	// FindingSTARTTLSInjection: the server sent data after its STARTTLS
	// go-ahead and before the handshake (RFC 3207 §6, CVE-2011-0411).
	FindingSTARTTLSInjection = "starttls-injection"
	// FindingPreauthPlaintext: an IMAP server greeted with PREAUTH on a
	// connection that was to be upgraded (RFC 9051 §7.1.4).
	FindingPreauthPlaintext = "preauth-before-tls"
	// FindingCertificateInvalid: the certificate does not verify.
	FindingCertificateInvalid = "certificate-invalid"
	// FindingDANEMismatch: DNSSEC-signed TLSA records exist and none
	// matches the certificate (RFC 7672 §2.2).
	FindingDANEMismatch = "dane-mismatch"
	// FindingLoginDisabled: the IMAP server advertises LOGINDISABLED in
	// the capabilities Check keeps (after TLS; the only ones for a plaintext
	// server): no LOGIN command there (RFC 9051 §6.2.3), only AUTHENTICATE.
	FindingLoginDisabled = "login-disabled"
)

// Finding is one security observation about a server.
type Finding struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
}

// Reason says why a certificate is not valid.
type Reason string

const (
	ReasonUnknownAuthority Reason = "unknown-authority"
	ReasonSelfSigned       Reason = "self-signed"
	ReasonNameMismatch     Reason = "name-mismatch"
	ReasonExpired          Reason = "expired"
	ReasonNotYetValid      Reason = "not-yet-valid"
	// ReasonInvalid covers the rest of RFC 5280 (key usage, constraints...).
	ReasonInvalid Reason = "invalid"
	// ReasonHandshake: no certificate to judge, the handshake failed.
	ReasonHandshake Reason = "handshake-failed"
)

// TLSInfo is what the TLS handshake showed.
type TLSInfo struct {
	// Valid is true when the chain verifies against Env.RootCAs, the leaf
	// names the host and the dates are current (PKIX; DANE and pins are
	// reported apart, in DANE and Pinned).
	Valid bool `json:"valid"`
	// Error explains, for people, why the certificate is not valid and
	// what to do ("" when Valid).
	Error string `json:"error,omitempty"`
	// Reason is the first problem; Problems lists every one found.
	Reason   Reason   `json:"reason,omitempty"`
	Problems []Reason `json:"problems,omitempty"`
	Version  string   `json:"version,omitempty"` // "TLS 1.3"
	Subject  string   `json:"subject,omitempty"`
	Issuer   string   `json:"issuer,omitempty"`
	// Names are the DNS names and IP addresses the certificate covers:
	// on a name mismatch, the host the user should connect to instead.
	Names     []string  `json:"names,omitempty"`
	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
	// SHA256 is the lower-case hex SHA-256 of the leaf certificate: the
	// value --trust-cert takes.
	SHA256 string `json:"sha256,omitempty"`
	// Pinned is true when Options.TrustCertSHA256 holds SHA256.
	Pinned bool        `json:"pinned,omitempty"`
	DANE   *DANEResult `json:"dane,omitempty"`
}

// Result is what Check found out about one server.
type Result struct {
	Server autoconfig.Server `json:"server"`
	// Reachable is true once a TCP connection was made.
	Reachable bool `json:"reachable"`
	// Address is the ip:port that answered first.
	Address string `json:"address,omitempty"`
	// TLS is nil for plaintext servers and when no handshake was tried.
	TLS *TLSInfo `json:"tls,omitempty"`
	// Greeting is the server's first words (after TLS for implicit TLS).
	Greeting string `json:"greeting,omitempty"`
	// Capabilities and AuthMechanisms are those the server lists after TLS
	// (before it, for plaintext servers): IMAP capability atoms, POP3 CAPA
	// lines or SMTP EHLO extension lines; mechanisms are upper-case SASL
	// names, plus "USER" for POP3 USER/PASS.
	Capabilities   []string `json:"capabilities,omitempty"`
	AuthMechanisms []string `json:"auth_mechanisms,omitempty"`
	// LoginDisabled is IMAP's LOGINDISABLED after TLS.
	LoginDisabled bool      `json:"login_disabled,omitempty"`
	Findings      []Finding `json:"findings,omitempty"`
	// Err is why the check stopped early; nil when it ran to the end.
	Err     error         `json:"-"`
	Elapsed time.Duration `json:"-"`
}

func (r *Result) addFinding(sev Severity, code, format string, args ...any) {
	r.Findings = append(r.Findings, Finding{Severity: sev, Code: code, Message: fmt.Sprintf(format, args...)})
}

// HasFinding reports whether the result holds a finding with code.
func (r Result) HasFinding(code string) bool {
	for _, f := range r.Findings {
		if f.Code == code {
			return true
		}
	}
	return false
}

// PasswordSafe says whether a password may be sent to this server, and why
// (or why not):
//   - plaintext only with opts.AllowPlaintext;
//   - over TLS only when the handshake completed without a critical finding
//     and the certificate is valid, or matches DNSSEC-authenticated TLSA
//     records (RFC 7672 §3), or is pinned by opts.TrustCertSHA256 — the
//     pin is checked against opts now, not against the Pinned flag.
//
// An authenticated DANE mismatch forbids sending even to a certificate that
// is otherwise valid (RFC 7672 §2.2).
func (r Result) PasswordSafe(opts Options) (bool, string) {
	if !r.Reachable {
		return false, "the server was not reached"
	}
	for _, f := range r.Findings {
		if f.Severity == SeverityCritical && f.Code != FindingCertificateInvalid && f.Code != FindingPlaintext {
			return false, f.Message
		}
	}
	switch r.Server.Security {
	case autoconfig.SecurityPlain:
		if !opts.AllowPlaintext {
			return false, "the connection is not encrypted; pass --allow-plaintext to send the password in the clear anyway"
		}
		return true, "unencrypted, allowed by --allow-plaintext"
	case autoconfig.SecurityTLS, autoconfig.SecuritySTARTTLS:
	default:
		return false, fmt.Sprintf("unknown connection security %q", r.Server.Security)
	}
	t := r.TLS
	if t == nil || t.SHA256 == "" {
		return false, "no TLS connection was made"
	}
	if t.DANE != nil && t.DANE.Authenticated && t.DANE.Usable > 0 && !t.DANE.Match {
		return false, "the certificate matches none of the DNSSEC-signed TLSA records"
	}
	switch {
	case t.Valid:
		return true, "valid certificate"
	case t.DANE != nil && t.DANE.Authenticated && t.DANE.Match:
		return true, "certificate matches a DNSSEC-signed TLSA record"
	case opts.pinned(t.SHA256):
		return true, "certificate pinned by --trust-cert"
	}
	return false, fmt.Sprintf("%s; to trust this exact certificate anyway pass --trust-cert %s", t.Error, t.SHA256)
}

// Check proves one server without sending any password: it connects to
// the host's addresses, completes TLS or the protocol's upgrade, verifies
// the certificate and DANE records, and reads the greeting and the
// capabilities. It never falls back to plaintext: a failed upgrade is a
// finding and ends the check. The returned Result is complete even when
// Err is set, as far as the check got.
func Check(ctx context.Context, opts Options, s autoconfig.Server) Result {
	start := time.Now()
	res := Result{Server: s}
	defer func() { res.Elapsed = time.Since(start) }()
	if err := checkServer(s); err != nil {
		res.Err = err
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, opts.timeout())
	defer cancel()

	tlsa := lookupTLSA(ctx, opts.Env.Resolver, s)
	conn, addr, err := dialHost(ctx, opts.Env, s.Hostname, s.Port)
	if err != nil {
		res.Err = err
		return res
	}
	res.Reachable, res.Address = true, addr
	defer conn.Close()
	defer bound(ctx, conn)()

	c := &conversation{ctx: ctx, opts: opts, res: &res, tlsa: tlsa, raw: conn}
	c.setConn(conn)
	switch s.Protocol {
	case autoconfig.IMAP:
		res.Err = c.imap()
	case autoconfig.POP3:
		res.Err = c.pop3()
	case autoconfig.SMTP:
		res.Err = c.smtp()
	}
	if res.Err == nil && s.Security == autoconfig.SecurityPlain {
		res.addFinding(SeverityCritical, FindingPlaintext, "%s on %s is not encrypted: passwords and mail cross the network readable", s.Protocol.DisplayName(), s.Address())
	}
	return res
}

// checkServer rejects servers that cannot be checked.
func checkServer(s autoconfig.Server) error {
	switch {
	case s.Protocol != autoconfig.IMAP && s.Protocol != autoconfig.POP3 && s.Protocol != autoconfig.SMTP:
		return fmt.Errorf("%w: protocol %q is not imap, pop3 or smtp", ErrBadServer, s.Protocol)
	case s.Hostname == "":
		return fmt.Errorf("%w: no hostname", ErrBadServer)
	case s.Port < 1 || s.Port > 65535:
		return fmt.Errorf("%w: port %d is not within 1-65535", ErrBadServer, s.Port)
	case !s.Security.Valid():
		return fmt.Errorf("%w: security %q is not tls, starttls or plain", ErrBadServer, s.Security)
	}
	return nil
}

// bound makes every read and write on conn end by ctx's deadline, and
// closes conn when ctx is cancelled earlier: the mail libraries Login hands
// the connection to reset deadlines of their own, so closing is the one
// bound they cannot undo. Call the returned function when done.
func bound(ctx context.Context, conn net.Conn) (stop func()) {
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	unregister := context.AfterFunc(ctx, func() { conn.Close() })
	return func() { unregister() }
}
