package verify

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// clientTLSConfig is the configuration of every handshake. Go's own
// verification is off because we verify ourselves after the handshake and
// want to report why a certificate fails rather than only that it did;
// nothing is believed, and no password is sent, before that verification.
// judge, when set, runs inside the handshake and may abort it.
func clientTLSConfig(host string, judge func(tls.ConnectionState) error) *tls.Config {
	return &tls.Config{
		ServerName:         host,
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS12,
		VerifyConnection:   judge,
	}
}

// inspect judges the certificate a handshake showed for host, at time now.
func inspect(cs tls.ConnectionState, host string, roots *x509.CertPool, opts Options, now time.Time) *TLSInfo {
	info := &TLSInfo{Version: tls.VersionName(cs.Version)}
	if len(cs.PeerCertificates) == 0 {
		info.Reason, info.Problems = ReasonHandshake, []Reason{ReasonHandshake}
		info.Error = "the server sent no certificate"
		return info
	}
	leaf := cs.PeerCertificates[0]
	sum := sha256.Sum256(leaf.Raw)
	info.SHA256 = hex.EncodeToString(sum[:])
	info.Subject = leaf.Subject.String()
	info.Issuer = leaf.Issuer.String()
	info.Names = append(info.Names, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		info.Names = append(info.Names, ip.String())
	}
	info.NotBefore, info.NotAfter = leaf.NotBefore, leaf.NotAfter
	info.Pinned = opts.pinned(info.SHA256)

	var msgs []string
	add := func(r Reason, msg string) {
		for _, p := range info.Problems {
			if p == r {
				return
			}
		}
		info.Problems = append(info.Problems, r)
		msgs = append(msgs, msg)
	}
	intermediates := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		intermediates.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, CurrentTime: now})
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case err == nil:
	case errors.As(err, &unknown) && selfSigned(leaf):
		add(ReasonSelfSigned, fmt.Sprintf("the certificate is self-signed by %q", leaf.Subject.String()))
	case errors.As(err, &unknown):
		add(ReasonUnknownAuthority, fmt.Sprintf("the certificate is signed by %q, an authority this computer does not trust", leaf.Issuer.String()))
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		// Reported below from the leaf's own dates, or here when an
		// intermediate has expired.
		if now.After(leaf.NotBefore) && now.Before(leaf.NotAfter) {
			add(ReasonExpired, "a certificate in the chain has expired")
		}
	default:
		add(ReasonInvalid, fmt.Sprintf("the certificate is not valid: %v", err))
	}
	switch {
	case now.After(leaf.NotAfter):
		add(ReasonExpired, fmt.Sprintf("the certificate expired on %s", leaf.NotAfter.UTC().Format(time.DateOnly)))
	case now.Before(leaf.NotBefore):
		add(ReasonNotYetValid, fmt.Sprintf("the certificate is valid only from %s", leaf.NotBefore.UTC().Format(time.DateOnly)))
	}
	// Go's Verify stops at the first problem, and it checks dates before
	// the chain: check the chain again as of a moment the leaf was valid,
	// so an expired certificate from an unknown authority shows both.
	if len(info.Problems) > 0 && (info.Problems[0] == ReasonExpired || info.Problems[0] == ReasonNotYetValid) {
		mid := leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) / 2)
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, CurrentTime: mid}); errors.As(err, &unknown) {
			if selfSigned(leaf) {
				add(ReasonSelfSigned, fmt.Sprintf("the certificate is self-signed by %q", leaf.Subject.String()))
			} else {
				add(ReasonUnknownAuthority, fmt.Sprintf("the certificate is signed by %q, an authority this computer does not trust", leaf.Issuer.String()))
			}
		}
	}
	if err := leaf.VerifyHostname(host); err != nil {
		msg := fmt.Sprintf("the certificate is not for %q", host)
		if len(info.Names) > 0 {
			msg += fmt.Sprintf(" but for %s: connect to %s instead", strings.Join(quoteAll(info.Names), ", "), info.Names[0])
		}
		add(ReasonNameMismatch, msg)
	}
	if len(info.Problems) == 0 {
		info.Valid = true
		return info
	}
	info.Reason = info.Problems[0]
	info.Error = strings.Join(msgs, "; ")
	return info
}

// selfSigned reports whether the certificate is signed by its own key.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) &&
		c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

func quoteAll(names []string) []string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return q
}

// handshake runs TLS over raw for the conversation's server and records
// what it showed in res.TLS, DANE included. It fails only when the
// handshake itself fails; a bad certificate is recorded, not an error.
func (c *conversation) handshake(raw net.Conn) (*tls.Conn, error) {
	host := c.res.Server.Hostname
	tc := tls.Client(raw, clientTLSConfig(host, nil))
	if err := tc.HandshakeContext(c.ctx); err != nil {
		if contextDone(c.ctx) != nil {
			c.res.TLS = &TLSInfo{Reason: ReasonHandshake, Problems: []Reason{ReasonHandshake}, Error: "the TLS handshake did not finish within the time allowed"}
			return nil, fmt.Errorf("TLS handshake with %s: %w", c.res.Server.Address(), errCtx(c.ctx, err))
		}
		c.res.TLS = &TLSInfo{Reason: ReasonHandshake, Problems: []Reason{ReasonHandshake}, Error: fmt.Sprintf("the TLS handshake failed: %v", err)}
		return nil, fmt.Errorf("%w with %s: %w", ErrTLS, c.res.Server.Address(), err)
	}
	cs := tc.ConnectionState()
	info := inspect(cs, host, c.opts.Env.RootCAs, c.opts, time.Now())
	info.DANE = c.tlsa.check(c.ctx, cs.PeerCertificates, host, c.opts.Env.RootCAs, info.Valid, time.Now())
	c.res.TLS = info
	if !info.Valid {
		c.res.addFinding(SeverityCritical, FindingCertificateInvalid, "%s: %s", c.res.Server.Address(), info.Error)
	}
	if d := info.DANE; d != nil && d.Authenticated && d.Usable > 0 && !d.Match {
		c.res.addFinding(SeverityCritical, FindingDANEMismatch, "%s: the certificate matches none of the %d DNSSEC-signed TLSA records at %s", c.res.Server.Address(), d.Usable, d.Name)
	}
	return tc, nil
}
