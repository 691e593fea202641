// Package autoconfig is mailsetup's one model of a mail provider's settings:
// incoming (IMAP, POP3) and outgoing (SMTP) servers with their security,
// authentication and username template. It reads and writes the two formats
// mail clients fetch those settings in: Thunderbird's config-v1.1 XML
// (draft-ietf-mailmaint-autoconfig) and Microsoft Autodiscover POX
// (MS-OXDSCLI, the "outlook" response schema).
//
// Every other package speaks this model: probe produces it, profiles turn it
// into client files and autoconfig/server serves it.
package autoconfig

import (
	"fmt"
	"strings"
)

// Protocol names a mail access protocol as config-v1.1 spells its server type.
type Protocol string

const (
	IMAP Protocol = "imap"
	POP3 Protocol = "pop3"
	SMTP Protocol = "smtp"
)

// IsMail reports whether p is one of the protocols mailsetup sets up
// (IMAP, POP3, SMTP). Other server types (exchange, ews, jmap, ...) are kept
// when read so that a file round-trips, but are never recommended.
func (p Protocol) IsMail() bool { return p == IMAP || p == POP3 || p == SMTP }

// Preference orders protocols as mailsetup recommends them: IMAP (the mail
// stays on the server), then POP3; SMTP, alone in its direction, after
// them; anything else last.
func (p Protocol) Preference() int {
	switch p {
	case IMAP:
		return 0
	case POP3:
		return 1
	case SMTP:
		return 2
	}
	return 3
}

// DisplayName is how people write the protocol: "IMAP", "POP3", "SMTP".
func (p Protocol) DisplayName() string { return strings.ToUpper(string(p)) }

// Security is how a connection is protected. The JSON names follow RFC 8314:
// "tls" is implicit TLS from the first byte, "starttls" an upgrade that the
// client must insist on, "plain" no protection at all.
type Security string

const (
	SecurityTLS      Security = "tls"
	SecuritySTARTTLS Security = "starttls"
	SecurityPlain    Security = "plain"
)

// socketType values of config-v1.1.
const (
	socketSSL      = "SSL"
	socketSTARTTLS = "STARTTLS"
	socketPlain    = "plain"
)

// SocketType is the config-v1.1 spelling of s.
func (s Security) SocketType() string {
	switch s {
	case SecurityTLS:
		return socketSSL
	case SecuritySTARTTLS:
		return socketSTARTTLS
	case SecurityPlain:
		return socketPlain
	}
	return string(s)
}

// SecurityFromSocketType parses a config-v1.1 socketType the way Thunderbird
// does: exact values "SSL", "STARTTLS", "plain".
func SecurityFromSocketType(v string) (Security, bool) {
	switch v {
	case socketSSL:
		return SecurityTLS, true
	case socketSTARTTLS:
		return SecuritySTARTTLS, true
	case socketPlain:
		return SecurityPlain, true
	}
	return "", false
}

// Description is a human label for people: "implicit TLS", "STARTTLS", "none".
func (s Security) Description() string {
	switch s {
	case SecurityTLS:
		return "SSL/TLS"
	case SecuritySTARTTLS:
		return "STARTTLS"
	case SecurityPlain:
		return "none (unencrypted)"
	}
	return string(s)
}

// Preference orders security as RFC 8314 §4 and §5 recommend: implicit
// TLS, then STARTTLS, then none.
func (s Security) Preference() int {
	switch s {
	case SecurityTLS:
		return 0
	case SecuritySTARTTLS:
		return 1
	}
	return 2
}

// Valid reports whether s is one of the three known values.
func (s Security) Valid() bool {
	return s == SecurityTLS || s == SecuritySTARTTLS || s == SecurityPlain
}

// AuthMethod is an authentication method as config-v1.1 names it.
type AuthMethod string

const (
	AuthPasswordCleartext AuthMethod = "password-cleartext"
	AuthPasswordEncrypted AuthMethod = "password-encrypted"
	AuthOAuth2            AuthMethod = "OAuth2"
	AuthNTLM              AuthMethod = "NTLM"
	AuthGSSAPI            AuthMethod = "GSSAPI"
	AuthClientIP          AuthMethod = "client-IP-address"
	AuthTLSClientCert     AuthMethod = "TLS-client-cert"
	AuthSMTPAfterPOP      AuthMethod = "smtp-after-pop"
	AuthNone              AuthMethod = "none"
)

// knownAuth maps every accepted spelling, including the legacy aliases
// Thunderbird still reads ("plain", "secure"), to its canonical method.
var knownAuth = map[string]AuthMethod{
	"password-cleartext": AuthPasswordCleartext,
	"plain":              AuthPasswordCleartext,
	"password-encrypted": AuthPasswordEncrypted,
	"secure":             AuthPasswordEncrypted,
	"OAuth2":             AuthOAuth2,
	"NTLM":               AuthNTLM,
	"GSSAPI":             AuthGSSAPI,
	"client-IP-address":  AuthClientIP,
	"TLS-client-cert":    AuthTLSClientCert,
	"smtp-after-pop":     AuthSMTPAfterPOP,
	"none":               AuthNone,
}

// ParseAuthMethod returns the canonical method for a config-v1.1 value.
func ParseAuthMethod(v string) (AuthMethod, bool) {
	m, ok := knownAuth[v]
	return m, ok
}

// UsesPassword reports whether the method sends the user's password.
func (a AuthMethod) UsesPassword() bool {
	return a == AuthPasswordCleartext || a == AuthPasswordEncrypted || a == AuthNTLM
}

// Server is one incoming or outgoing server.
type Server struct {
	Protocol Protocol     `json:"protocol"`
	Hostname string       `json:"host,omitempty"`
	Port     int          `json:"port,omitempty"`
	Security Security     `json:"security,omitempty"`
	Auth     []AuthMethod `json:"auth,omitempty"`
	// Username is a template: it may hold %EMAILADDRESS%, %EMAILLOCALPART%
	// and %EMAILDOMAIN%. Use Username or ExpandUsername for a real name.
	Username string `json:"username,omitempty"`
	// URL is set for URL-based server types (ews, jmap, graph, ...).
	URL string `json:"url,omitempty"`
	// POP3 holds Thunderbird's POP3 options; nil for other protocols.
	POP3 *POP3Options `json:"pop3,omitempty"`
	// Restriction "client-IP-address" marks an SMTP server usable only from
	// the provider's own network.
	Restriction string `json:"restriction,omitempty"`
	// Line is where the server was read from a file (0 when not read).
	Line int `json:"-"`
}

// POP3Options are the POP3 settings Thunderbird understands.
type POP3Options struct {
	LeaveMessagesOnServer bool `json:"leave_messages_on_server"`
	// DaysToLeave is 0 when messages stay until the user deletes them.
	DaysToLeave          int   `json:"days_to_leave,omitempty"`
	DownloadOnBiff       *bool `json:"download_on_biff,omitempty"`
	CheckIntervalMinutes int   `json:"check_interval_minutes,omitempty"`
}

// Address returns "host:port".
func (s Server) Address() string { return fmt.Sprintf("%s:%d", s.Hostname, s.Port) }

// PreferredAuth is the first method the server lists, or "" when none.
func (s Server) PreferredAuth() AuthMethod {
	if len(s.Auth) == 0 {
		return ""
	}
	return s.Auth[0]
}

// HasAuth reports whether the server lists m.
func (s Server) HasAuth(m AuthMethod) bool {
	for _, a := range s.Auth {
		if a == m {
			return true
		}
	}
	return false
}

// ExpandUsername fills the username template for addr.
func (s Server) ExpandUsername(addr Address) string { return ExpandTemplate(s.Username, addr) }

// ExpandHostname fills placeholders in the hostname (ISPDB uses
// mail.%EMAILDOMAIN%); the domain is given in its ASCII (A-label) form.
func (s Server) ExpandHostname(addr Address) string { return ExpandTemplate(s.Hostname, addr) }

// Link is a documentation or "enable IMAP first" page with its descriptions.
type Link struct {
	URL          string        `json:"url"`
	Descriptions []Description `json:"descriptions,omitempty"`
}

// Description is a text in one language.
type Description struct {
	Lang string `json:"lang,omitempty"`
	Text string `json:"text"`
}

// OAuth2 is the provider's OAuth2 configuration.
type OAuth2 struct {
	Issuer   string `json:"issuer"`
	Scope    string `json:"scope,omitempty"`
	AuthURL  string `json:"auth_url,omitempty"`
	TokenURL string `json:"token_url,omitempty"`
}

// Provider is everything a client needs to set up an account at one provider.
type Provider struct {
	// ID is the provider's identifier, conventionally its primary domain.
	ID string `json:"id"`
	// Domains are the address domains the settings apply to, in A-label form.
	Domains          []string `json:"domains"`
	DisplayName      string   `json:"display_name,omitempty"`
	DisplayShortName string   `json:"display_short_name,omitempty"`
	// Incoming lists IMAP and POP3 servers in preference order.
	Incoming []Server `json:"incoming"`
	// Outgoing lists SMTP servers in preference order.
	Outgoing []Server `json:"outgoing"`
	// Others holds server types mailsetup does not set up (exchange, ews,
	// owa, graph, jmap, activesync): kept so a file round-trips.
	Others        []Server `json:"others,omitempty"`
	OAuth2        *OAuth2  `json:"oauth2,omitempty"`
	Documentation []Link   `json:"documentation,omitempty"`
	// Enable is the page where IMAP or POP3 must first be switched on.
	Enable *Link `json:"enable,omitempty"`
	// DAV lists calendar and contacts services, preferred first.
	DAV []DAVService `json:"dav,omitempty"`
}

// FirstIncoming returns the most preferred incoming server of protocol p.
func (p *Provider) FirstIncoming(proto Protocol) (Server, bool) {
	for _, s := range p.Incoming {
		if s.Protocol == proto {
			return s, true
		}
	}
	return Server{}, false
}

// PreferredIncoming is the first IMAP server if there is one, else the first
// POP3 server: IMAP keeps mail on the server for every device.
func (p *Provider) PreferredIncoming() (Server, bool) {
	if s, ok := p.FirstIncoming(IMAP); ok {
		return s, true
	}
	return p.FirstIncoming(POP3)
}

// PreferredOutgoing is the first SMTP server.
func (p *Provider) PreferredOutgoing() (Server, bool) {
	if len(p.Outgoing) == 0 {
		return Server{}, false
	}
	return p.Outgoing[0], true
}

// Clone returns a deep copy, so a caller may edit it freely.
func (p *Provider) Clone() *Provider {
	c := *p
	c.Domains = append([]string(nil), p.Domains...)
	c.Incoming = cloneServers(p.Incoming)
	c.Outgoing = cloneServers(p.Outgoing)
	c.Others = cloneServers(p.Others)
	c.DAV = append([]DAVService(nil), p.DAV...)
	if p.OAuth2 != nil {
		o := *p.OAuth2
		c.OAuth2 = &o
	}
	c.Documentation = nil
	for _, l := range p.Documentation {
		c.Documentation = append(c.Documentation, cloneLink(l))
	}
	if p.Enable != nil {
		l := cloneLink(*p.Enable)
		c.Enable = &l
	}
	return &c
}

func cloneServers(in []Server) []Server {
	if in == nil {
		return nil
	}
	out := make([]Server, len(in))
	for i, s := range in {
		s.Auth = append([]AuthMethod(nil), s.Auth...)
		if s.POP3 != nil {
			o := *s.POP3
			if o.DownloadOnBiff != nil {
				b := *o.DownloadOnBiff
				o.DownloadOnBiff = &b
			}
			s.POP3 = &o
		}
		out[i] = s
	}
	return out
}

func cloneLink(l Link) Link {
	l.Descriptions = append([]Description(nil), l.Descriptions...)
	return l
}
