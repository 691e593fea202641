package autoconfig

// Service is one mail service as RFC 6186 names it in DNS (SRV records for
// IMAP, POP3 and submission) with RFC 8314's implicit-TLS services, and the
// port each is standardized on. discover, dns-records, the server and lint
// all read this one table.
type Service struct {
	// SRVName is the service label, without the protocol label: "_imaps".
	SRVName  string
	Protocol Protocol
	Security Security
	// Port is the service's standard port: 993 and 143 (RFC 8314 §7.2,
	// RFC 9051), 995 and 110 (RFC 8314 §7.2, RFC 1939), 465 and 587
	// (RFC 8314 §7.3, RFC 6409).
	Port int
}

// SRVOwner is the owner name of the service's SRV record for domain
// (RFC 6186 §3): "_imaps._tcp.example.com".
func (s Service) SRVOwner(domain string) string { return s.SRVName + "._tcp." + domain }

// Services returns the RFC 6186/8314 services in order of preference:
// IMAP, then POP3, then submission, and within each protocol implicit TLS
// before STARTTLS (RFC 8314 §5.1). The slice is the caller's own.
func Services() []Service {
	return []Service{
		{"_imaps", IMAP, SecurityTLS, 993},
		{"_imap", IMAP, SecuritySTARTTLS, 143},
		{"_pop3s", POP3, SecurityTLS, 995},
		{"_pop3", POP3, SecuritySTARTTLS, 110},
		{"_submissions", SMTP, SecurityTLS, 465},
		{"_submission", SMTP, SecuritySTARTTLS, 587},
	}
}

// ServiceFor returns the service of protocol p with security sec; ok is
// false for plaintext and for protocols without one.
func ServiceFor(p Protocol, sec Security) (Service, bool) {
	for _, s := range Services() {
		if s.Protocol == p && s.Security == sec {
			return s, true
		}
	}
	return Service{}, false
}

// DefaultPort is the standard port of protocol p with security sec: that
// of ServiceFor, and for plaintext the STARTTLS service's port (the same
// port carries both). It is 0 for protocols mailsetup does not set up.
func DefaultPort(p Protocol, sec Security) int {
	if sec == SecurityPlain {
		sec = SecuritySTARTTLS
	}
	s, _ := ServiceFor(p, sec)
	return s.Port
}

// portRelay is SMTP relay (RFC 5321 §4.5.4.2), which some providers still
// publish for submission; on it TLS is only ever STARTTLS (RFC 3207).
const portRelay = 25

// StandardSecurity is what a well-known mail port is for: implicit TLS on
// 993, 995 and 465, STARTTLS on 143, 110, 587 and 25. ok is false for any
// other port.
func StandardSecurity(port int) (sec Security, ok bool) {
	if port == portRelay {
		return SecuritySTARTTLS, true
	}
	for _, s := range Services() {
		if s.Port == port {
			return s.Security, true
		}
	}
	return "", false
}
