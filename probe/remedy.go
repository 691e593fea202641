package probe

import "github.com/mailsetup/mailsetup/autoconfig"

// Remedy is something the user can do about what the probe found. The
// library names the what (a fingerprint, a host); the command line says how
// (which flag), so no message of this package names a flag (issue 12).
type Remedy struct {
	Kind RemedyKind `json:"kind"`
	// Host and Port name the server concerned, when there is one.
	Host string `json:"host,omitempty"`
	Port int    `json:"port,omitempty"`
	// SHA256 is the certificate fingerprint to pin (RemedyPinCertificate).
	SHA256 string `json:"sha256,omitempty"`
}

// RemedyKind says what a Remedy is.
type RemedyKind string

const (
	// RemedyPinCertificate: the server's certificate does not verify; if
	// the user trusts it, pinning SHA256 lets the password go there.
	RemedyPinCertificate RemedyKind = "pin-certificate"
	// RemedyAllowPlaintext: the server has no encryption; allowing that
	// sends the password readable by anyone on the way.
	RemedyAllowPlaintext RemedyKind = "allow-plaintext"
	// RemedyConfirmHost: the host lies outside the address's domain and
	// only unauthenticated sources named it (docs/password-rule.md).
	RemedyConfirmHost RemedyKind = "confirm-host"
	// RemedyLongerTimeout: the time ran out with servers not checked.
	RemedyLongerTimeout RemedyKind = "longer-timeout"
)

// remedies are what the user can do about the ranked candidates, in the
// order of the servers, each once.
func remedies(cs []*candidate, in, smtp *candidate) []Remedy {
	var out []Remedy
	add := func(r Remedy) {
		for _, have := range out {
			if have == r {
				return
			}
		}
		out = append(out, r)
	}
	for _, c := range []*candidate{in, smtp} {
		if c != nil && c.unconfirmed {
			add(Remedy{Kind: RemedyConfirmHost, Host: c.server.Hostname})
		}
	}
	for _, c := range cs {
		if c.check.status != checkInsecure {
			continue
		}
		if c.server.Security == autoconfig.SecurityPlain {
			add(Remedy{Kind: RemedyAllowPlaintext, Host: c.server.Hostname, Port: c.server.Port})
		} else if t := c.check.report.TLS; t != nil && t.SHA256 != "" {
			add(Remedy{Kind: RemedyPinCertificate, Host: c.server.Hostname, Port: c.server.Port, SHA256: t.SHA256})
		}
	}
	return out
}
