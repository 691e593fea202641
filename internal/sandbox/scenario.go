package sandbox

import (
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// Scenario is one simulated mail provider: its DNS, its web endpoints, its
// mail servers, one test account, and what a correct prober must recommend
// there. Every scenario lives in its own *.test domains, so one World can
// hold the whole catalogue at once.
type Scenario struct {
	Name        string
	Description string
	// Address is the test account's e-mail address in this world.
	Address string
	// Username is the login name the servers accept; empty means Address.
	Username string
	Password string
	// Expect is the recommendation a correct prober arrives at.
	Expect Expectation
	// CriticalPath is the fewest sequential round trips a correct probe
	// with login needs here, counted by hand under the model in doc.go.
	CriticalPath int

	// Domains are the zones this scenario owns; every name below lies in one.
	Domains []string
	// Signed marks the scenario's zones as DNSSEC-signed: answers carry the
	// AD bit when the query asks for it (AD or DO set, RFC 6840 §5.7).
	Signed bool
	// Hosts are the scenario's machines. Each gets an A record and its own
	// address in the world's plan.
	Hosts []Host
	// Records are further DNS records in zone-file syntax (SRV, MX, CNAME,
	// TXT, TLSA, AAAA, ...), e.g. "_imaps._tcp.a.test. SRV 0 1 993 imap.a.test.".
	// For DANE, PlaceholderLeafSPKI and PlaceholderCACert stand for the
	// digests of the world's keys, which are made at start.
	Records []string
	// DNSFaults make chosen names misbehave.
	DNSFaults []DNSFault
	// ISPDB entries this scenario contributes to the world's ISPDB service,
	// keyed there by each provider's Domains.
	ISPDB []*autoconfig.Provider
}

// Placeholders in Records for TLSA data (RFC 6698), replaced when a world
// starts: the SHA-256 of the public key (SubjectPublicKeyInfo) every good
// leaf certificate carries, for "3 1 1" (DANE-EE), and of the CA
// certificate, for "2 0 1" (DANE-TA).
const (
	PlaceholderLeafSPKI = "%LEAF_SPKI_SHA256%"
	PlaceholderCACert   = "%CA_CERT_SHA256%"
)

// Expectation is what a correct prober recommends.
type Expectation struct {
	// Incoming and Outgoing are the recommended servers, with the username
	// the server accepts; nil means no acceptable server exists.
	Incoming *autoconfig.Server
	Outgoing *autoconfig.Server
	// NeedsConsent: only unauthenticated sources in another domain name
	// the servers, so a correct prober reports them as not confirmed and
	// sends the password there only to hosts the user confirmed
	// (docs/password-rule.md).
	NeedsConsent bool
	// Notes say what the scenario tests and which traps a prober must avoid.
	Notes string
	// DAV are the calendar, contacts and JMAP services a probe with the
	// password proves, in the order kind caldav, carddav, jmap.
	DAV []DAVExpectation
}

// DAVExpectation is one service a probe must prove: Kind caldav, carddav
// or jmap; URL the context URL (or the session URL); Home the home set
// (or the JMAP API URL) found after the login.
type DAVExpectation struct {
	Kind, URL, Home string
	// NeedsConsent: the host lies in another domain and only an
	// unauthenticated source named it; the password goes there only with
	// the user's consent (docs/password-rule.md).
	NeedsConsent bool
}

// Login is the name the scenario's servers accept: Username, or the
// address when Username is empty.
func (s Scenario) Login() string {
	if s.Username != "" {
		return s.Username
	}
	return s.Address
}

// Host is one simulated machine.
type Host struct {
	Name string
	// Services are the ports it listens on; every other port refuses.
	Services []Service
	// Latency is added to every DNS answer about its name, every connect
	// to it and every reply it sends, on top of the world's Latency.
	Latency time.Duration
}

// Kind is what a service speaks.
type Kind string

const (
	KindIMAP       Kind = "imap"
	KindPOP3       Kind = "pop3"
	KindSubmission Kind = "smtp"
	KindWeb        Kind = "http"
)

// Service is one listening port of a host.
type Service struct {
	Kind Kind
	Port int
	// Security: SecurityTLS is implicit TLS from the first byte;
	// SecuritySTARTTLS offers the upgrade and refuses passwords before it;
	// SecurityPlain has no TLS at all and takes passwords in the clear.
	Security autoconfig.Security
	Cert     CertFault
	Fault    Fault
	// Web is what an HTTP(S) service publishes.
	Web *Site
}

// WithFault returns s with fault f.
func (s Service) WithFault(f Fault) Service { s.Fault = f; return s }

// WithCert returns s presenting a certificate with fault c.
func (s Service) WithCert(c CertFault) Service { s.Cert = c; return s }

// The standard services on their standard ports.
func IMAPS() Service { return Service{Kind: KindIMAP, Port: 993, Security: autoconfig.SecurityTLS} }
func IMAPStartTLS() Service {
	return Service{Kind: KindIMAP, Port: 143, Security: autoconfig.SecuritySTARTTLS}
}
func IMAPPlain() Service {
	return Service{Kind: KindIMAP, Port: 143, Security: autoconfig.SecurityPlain}
}
func POP3S() Service { return Service{Kind: KindPOP3, Port: 995, Security: autoconfig.SecurityTLS} }
func POP3StartTLS() Service {
	return Service{Kind: KindPOP3, Port: 110, Security: autoconfig.SecuritySTARTTLS}
}
func Submissions() Service {
	return Service{Kind: KindSubmission, Port: 465, Security: autoconfig.SecurityTLS}
}
func Submission() Service {
	return Service{Kind: KindSubmission, Port: 587, Security: autoconfig.SecuritySTARTTLS}
}
func SubmissionPlain() Service {
	return Service{Kind: KindSubmission, Port: 587, Security: autoconfig.SecurityPlain}
}
func HTTPS(site *Site) Service {
	return Service{Kind: KindWeb, Port: 443, Security: autoconfig.SecurityTLS, Web: site}
}
func HTTP(site *Site) Service {
	return Service{Kind: KindWeb, Port: 80, Security: autoconfig.SecurityPlain, Web: site}
}

// Site is what a web service publishes.
type Site struct {
	// Autoconfig is served at /mail/config-v1.1.xml (the autoconfig.DOMAIN
	// form), WellKnown at /.well-known/autoconfig/mail/config-v1.1.xml.
	Autoconfig *autoconfig.Provider
	WellKnown  *autoconfig.Provider
	// Autodiscover answers POST /autodiscover/autodiscover.xml (any case).
	Autodiscover *AutodiscoverAnswer
	// AutodiscoverRedirect, for the HTTP-redirect method, answers any
	// request to /autodiscover/autodiscover.xml with a 302 to this URL.
	AutodiscoverRedirect string
	// ISPDB serves /v1.1/DOMAIN from the world's ISPDB entries.
	ISPDB bool
	// DAV serves CalDAV at CalDAVPath and CardDAV at CardDAVPath with
	// go-webdav, for the scenario's account over HTTP Basic.
	DAV bool
	// WellKnownCalDAV and WellKnownCardDAV, when set, are where
	// /.well-known/caldav and /.well-known/carddav redirect (RFC 6764 §5).
	WellKnownCalDAV, WellKnownCardDAV string
	// JMAP answers /.well-known/jmap with a session resource (RFC 8620
	// §2) for the scenario's account over HTTP Basic.
	JMAP bool
}

// AutodiscoverAnswer is what an Autodiscover endpoint says: settings, or
// one of the two redirects.
type AutodiscoverAnswer struct {
	Settings     *autoconfig.Provider
	RedirectAddr string
	RedirectURL  string
}

// Fault is how a service misbehaves.
type Fault int

const (
	FaultNone Fault = iota
	// FaultBlackhole accepts the connection and never says a word.
	FaultBlackhole
	// FaultUnreachable never completes the connect (dropped SYNs): the dial
	// waits until its context ends. Under BindReal it behaves as a blackhole.
	FaultUnreachable
	// FaultRefused refuses the connection, as a closed port does.
	FaultRefused
	// FaultCloseInGreeting sends half a greeting and hangs up.
	FaultCloseInGreeting
	// FaultEndlessLine sends a greeting line that never ends.
	FaultEndlessLine
	// FaultOversizedLine sends a 1 MiB greeting line, then hangs up.
	FaultOversizedLine
	// FaultSTARTTLSFails advertises STARTTLS (STLS for POP3) and answers the
	// command with an error; passwords sent anyway are recorded and refused.
	FaultSTARTTLSFails
	// FaultSilentAfterWrongPassword refuses a wrong password at once and
	// then answers no further login from anyone until the world closes:
	// Dovecot's pause after a failure and its growing per-client penalty,
	// outgrowing the time left.
	FaultSilentAfterWrongPassword
)

var faultNames = map[Fault]string{
	FaultNone: "none", FaultBlackhole: "blackhole", FaultUnreachable: "unreachable",
	FaultRefused: "refused", FaultCloseInGreeting: "close-in-greeting",
	FaultEndlessLine: "endless-line", FaultOversizedLine: "oversized-line",
	FaultSTARTTLSFails: "starttls-fails", FaultSilentAfterWrongPassword: "silent-after-wrong-password",
}

func (f Fault) String() string { return faultNames[f] }

// CertFault is what is wrong with the certificate a TLS service presents.
type CertFault int

const (
	CertGood CertFault = iota
	// CertWrongName is valid and trusted but names another host
	// (mail.shared-hosting.test), as on shared hosting.
	CertWrongName
	// CertExpired is trusted and names the host but expired a day ago.
	CertExpired
	// CertSelfSigned names the host but is signed by its own key.
	CertSelfSigned
)

var certNames = map[CertFault]string{
	CertGood: "good", CertWrongName: "wrong-name", CertExpired: "expired", CertSelfSigned: "self-signed",
}

func (c CertFault) String() string { return certNames[c] }

// DNSFault makes answers for one name misbehave.
type DNSFault struct {
	// Name is the owner name (no trailing dot); Type a record type such as
	// "SRV", or "" for every type.
	Name string
	Type string
	Kind DNSFaultKind
	// Delay is added to every answer for the name (for DNSSlow).
	Delay time.Duration
}

// DNSFaultKind is how a name's answers misbehave.
type DNSFaultKind int

const (
	// DNSServFail answers SERVFAIL.
	DNSServFail DNSFaultKind = iota + 1
	// DNSTimeout never answers.
	DNSTimeout
	// DNSSlow answers after Delay.
	DNSSlow
	// DNSHugeSRV answers with thousands of SRV records: the UDP answer is
	// truncated, the TCP one close to 64 KiB.
	DNSHugeSRV
)
