package probe

import (
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// SchemaVersion is the version of the Report's JSON form, documented in
// docs/json-schema.md. Bump it on any change a consumer could notice.
const SchemaVersion = 2

// Report is everything one probe found, tried and concluded. Its JSON form is
// the documented output of `mailsetup probe --json`.
type Report struct {
	SchemaVersion int `json:"schema_version"`
	// Email is the probed address; empty when a bare domain was probed.
	Email  string `json:"email"`
	Domain string `json:"domain"`
	// Status summarises the outcome; the CLI maps it to an exit code.
	Status Status `json:"status"`
	// Recommendation is nil when nothing works.
	Recommendation *Recommendation `json:"recommendation"`
	// Servers are all candidates, best first, merged by (protocol, host,
	// port, security) with every source that named them.
	Servers       []ServerReport `json:"servers"`
	Lookups       []Lookup       `json:"lookups"`
	Disagreements []string       `json:"disagreements"`
	Warnings      []string       `json:"warnings"`
	// Remedies are what the user can do about the findings (pin a
	// certificate, confirm a host, ...); the command line words them.
	Remedies []Remedy `json:"remedies,omitempty"`
	// DAV are the calendar (CalDAV) and contacts (CardDAV) services found,
	// in order of preference per kind; JMAP the JMAP session resources,
	// reported beside IMAP and never recommended over it (schema 2).
	DAV       []DAVReport `json:"dav"`
	JMAP      []DAVReport `json:"jmap"`
	ElapsedMS int64       `json:"elapsed_ms"`
}

// Status is the outcome of a probe.
type Status string

const (
	// StatusOK: working settings were found (and the login, if tried, worked).
	StatusOK Status = "ok"
	// StatusNothingFound: no server could be reached and proven.
	StatusNothingFound Status = "nothing-found"
	// StatusLoginRejected: settings were proven, but every login was refused.
	StatusLoginRejected Status = "login-rejected"
	// StatusInsecureOnly: only servers without valid TLS work, and insecure
	// use was not allowed (--allow-plaintext, --trust-cert).
	StatusInsecureOnly Status = "insecure-only"
	// StatusUnconfirmed: settings were found but not proven: the login was skipped for want of the
	// user's consent, or no answer came in the time left.
	StatusUnconfirmed Status = "unconfirmed"
	// StatusTimedOut: time ran out before anything was proven.
	StatusTimedOut Status = "timed-out"
	// StatusCancelled: the run was cancelled (Ctrl-C, SIGTERM) before it ended.
	StatusCancelled Status = "cancelled"
)

// LoginStatus is whether a login with the user's password was tried on a
// server and how it went.
type LoginStatus string

const (
	LoginOK      LoginStatus = "ok"
	LoginFailed  LoginStatus = "failed"
	LoginSkipped LoginStatus = "skipped"
)

// Source is one way a candidate was found, with how far it can be trusted.
type Source struct {
	// Method is the discovery method (srv, autoconfig, well-known,
	// autoconfig-http, ispdb, mx-ispdb, mx-autoconfig, autodiscover, guess;
	// see docs/json-schema.md).
	Method string `json:"method"`
	// Target is what was asked: a DNS name, a URL or host:port.
	Target string `json:"target"`
	// Trust says how the answer travelled: domain-https, dnssec,
	// domain-dns, plain-http, third-party, guess.
	Trust string `json:"trust"`
}

// ServerReport is one candidate server and what verifying it showed.
type ServerReport struct {
	Protocol autoconfig.Protocol `json:"protocol"`
	Host     string              `json:"host"`
	Port     int                 `json:"port"`
	Security autoconfig.Security `json:"security"`
	Sources  []Source            `json:"sources"`
	// Reachable is true once a TCP connection was made.
	Reachable bool `json:"reachable"`
	// Error says why the check failed, why the server was not used, or
	// that it was never checked (a better one was proven first, or the
	// time ran out).
	Error          string     `json:"error,omitempty"`
	TLS            *TLSReport `json:"tls"`
	Capabilities   []string   `json:"capabilities"`
	AuthMechanisms []string   `json:"auth_mechanisms"`
	LoginDisabled  bool       `json:"login_disabled,omitempty"`
	// Findings are security observations (STARTTLS stripped, ...).
	Findings []string `json:"findings,omitempty"`
	// NotConfirmed, when set, says why no password may go to this server
	// without the user's consent (Options.TrustHosts): NotConfirmed.
	NotConfirmed string      `json:"not_confirmed,omitempty"`
	Login        LoginStatus `json:"login"`
	// LoginDetail says why the login failed or was skipped, or which username
	// worked.
	LoginDetail *LoginReport `json:"login_detail,omitempty"`
}

// TLSReport is the certificate a server presented.
type TLSReport struct {
	Valid bool `json:"valid"`
	// Error says why the certificate is not valid; empty when it is.
	Error string `json:"error"`
	// Trusted is true when an invalid certificate was accepted because
	// --trust-cert pinned its fingerprint.
	Trusted  bool     `json:"trusted_by_pin,omitempty"`
	Version  string   `json:"version,omitempty"`
	Subject  string   `json:"subject,omitempty"`
	Names    []string `json:"names,omitempty"`
	Issuer   string   `json:"issuer,omitempty"`
	NotAfter string   `json:"not_after,omitempty"`
	SHA256   string   `json:"sha256,omitempty"`
	DANE     string   `json:"dane,omitempty"`
}

// LoginReport details one login on a server.
type LoginReport struct {
	Username string `json:"username,omitempty"`
	// Reason says why the login failed or was not attempted.
	Reason     string `json:"reason,omitempty"`
	ServerText string `json:"server_text,omitempty"`
	// Kind tells a wrong password from "use an app password", "web login
	// required" and OAuth-only providers.
	Kind string `json:"kind,omitempty"`
	Fix  string `json:"fix,omitempty"`
}

// Lookup is one outbound request of the discovery.
type Lookup struct {
	Method string `json:"method"`
	Target string `json:"target"`
	// Status is found, none, error or skipped.
	Status    string `json:"status"`
	Error     string `json:"error"`
	ElapsedMS int64  `json:"elapsed_ms"`
	// Sent is what the request carried beyond the target (e.g. the address).
	Sent string `json:"sent,omitempty"`
}

// Endpoint is one server of the recommendation, ready to type into a client.
type Endpoint struct {
	Protocol autoconfig.Protocol `json:"protocol"`
	Host     string              `json:"host"`
	Port     int                 `json:"port"`
	Security autoconfig.Security `json:"security"`
	Username string              `json:"username"`
	// UsernameTemplate is Username with config-v1.1 placeholders
	// (%EMAILADDRESS%, %EMAILLOCALPART%), so the settings serve every
	// address of the domain.
	UsernameTemplate string                `json:"username_template"`
	Auth             autoconfig.AuthMethod `json:"auth"`
	// NotConfirmed, when set, marks a server that only an unauthenticated
	// source in another domain named (NotConfirmed): a client given these
	// settings would send the password there.
	NotConfirmed string `json:"not_confirmed,omitempty"`
}

// Recommendation is the incoming and outgoing server to use, and why.
type Recommendation struct {
	// Protocol is the incoming protocol: imap, or pop3 when only POP3 works.
	Protocol autoconfig.Protocol `json:"protocol"`
	Reason   string              `json:"reason"`
	// Confidence says how the settings were proven: login (the password
	// worked), tls (valid certificate and protocol answered, no login
	// tried), login-rejected (proven by TLS, the login was refused),
	// pinned (certificate accepted by --trust-cert) or plaintext
	// (unencrypted, allowed by --allow-plaintext).
	Confidence string   `json:"confidence"`
	Incoming   Endpoint `json:"incoming"`
	// Outgoing is nil when no SMTP server could be proven.
	Outgoing *Endpoint `json:"outgoing"`
	// LeaveMessagesOnServer is set for POP3: without it one device takes
	// the mail away from all others.
	LeaveMessagesOnServer bool `json:"leave_messages_on_server,omitempty"`
	// WithoutIMAP says what IMAP would have given, when only POP3 works.
	WithoutIMAP string `json:"without_imap,omitempty"`
	// Requirement is what the provider demands beyond a password (OAuth2,
	// app passwords, enabling IMAP), with the fix.
	Requirement  *Requirement `json:"provider_requirement,omitempty"`
	Alternatives []Endpoint   `json:"alternatives"`
	// DisplayName and OAuth2 come from the provider's published settings.
	DisplayName string             `json:"display_name,omitempty"`
	OAuth2      *autoconfig.OAuth2 `json:"oauth2,omitempty"`
}

// Settings is the recommendation as a provider model, for writing client
// files: the recommended incoming server first (POP3 with "leave messages on
// server"), then the alternatives, and the same for outgoing. It is nil when
// nothing works. It reads only the JSON-visible fields, so a report decoded
// from `mailsetup probe --json` gives the same settings.
func (r *Report) Settings() *autoconfig.Provider {
	rec := r.Recommendation
	if rec == nil {
		return nil
	}
	p := &autoconfig.Provider{
		ID:          r.Domain,
		Domains:     []string{r.Domain},
		DisplayName: rec.DisplayName,
	}
	if rec.OAuth2 != nil {
		o := *rec.OAuth2
		p.OAuth2 = &o
	}
	add := func(e Endpoint) {
		s := e.server()
		if s.Protocol == autoconfig.SMTP {
			p.Outgoing = append(p.Outgoing, s)
		} else {
			p.Incoming = append(p.Incoming, s)
		}
	}
	add(rec.Incoming)
	if rec.Outgoing != nil {
		add(*rec.Outgoing)
	}
	for _, e := range rec.Alternatives {
		add(e)
	}
	p.DAV = r.davSettings()
	if rec.Requirement != nil && rec.Requirement.HelpURL != "" {
		p.Documentation = []autoconfig.Link{{URL: rec.Requirement.HelpURL,
			Descriptions: []autoconfig.Description{{Lang: "en", Text: rec.Requirement.Summary}}}}
	}
	return p
}

// server is the endpoint in the settings model.
func (e Endpoint) server() autoconfig.Server {
	s := autoconfig.Server{
		Protocol: e.Protocol,
		Hostname: e.Host,
		Port:     e.Port,
		Security: e.Security,
		Username: e.UsernameTemplate,
	}
	if s.Username == "" {
		s.Username = e.Username
	}
	if e.Auth != "" {
		s.Auth = []autoconfig.AuthMethod{e.Auth}
	}
	if e.Protocol == autoconfig.POP3 {
		s.POP3 = &autoconfig.POP3Options{LeaveMessagesOnServer: true}
	}
	return s
}

func millis(d time.Duration) int64 { return d.Milliseconds() }
