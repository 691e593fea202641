package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/netx"
)

// TLSA certificate usages (RFC 6698 §2.1.1, names from RFC 7218).
const (
	usagePKIXTA = 0
	usagePKIXEE = 1
	usageDANETA = 2
	usageDANEEE = 3
)

// DANEResult is the outcome of checking a server's TLSA records.
type DANEResult struct {
	// Name is where the records were looked up: _PORT._tcp.HOST.
	Name string `json:"name"`
	// Records counts the TLSA records found; Usable those this checker
	// understands (usages 0-3, selectors 0-1, matching types 0-2).
	Records int `json:"records"`
	Usable  int `json:"usable"`
	// Authenticated is the DNS AD bit of the TLSA answer. Records that are
	// not authenticated prove nothing (RFC 6698 §4.1) and are only shown.
	Authenticated bool `json:"authenticated"`
	// Match is true when a usable record matched the server's certificate.
	Match bool `json:"match"`
	// Matched is the record that matched, as "usage selector type".
	Matched string `json:"matched,omitempty"`
	// Error is set when the lookup failed.
	Error string `json:"error,omitempty"`
}

// tlsaLookup is a TLSA query started alongside the connection so that it
// costs no extra round trip.
type tlsaLookup struct {
	name   string
	answer chan tlsaAnswer
}

type tlsaAnswer struct {
	records []netx.TLSA
	meta    netx.Meta
	err     error
}

// lookupTLSA starts the TLSA query for s (RFC 6698 §3: _PORT._tcp.HOST).
// It returns nil when there is no resolver or the host is an IP address.
func lookupTLSA(ctx context.Context, r netx.Resolver, s autoconfig.Server) *tlsaLookup {
	host := strings.TrimSuffix(s.Hostname, ".")
	if _, err := netip.ParseAddr(host); r == nil || err == nil {
		return nil
	}
	l := &tlsaLookup{name: fmt.Sprintf("_%d._tcp.%s", s.Port, host), answer: make(chan tlsaAnswer, 1)}
	go func() {
		recs, meta, err := r.LookupTLSA(ctx, l.name)
		l.answer <- tlsaAnswer{records: recs, meta: meta, err: err}
	}()
	return l
}

// check waits for the TLSA answer and matches it against the certificate
// chain the server presented. It returns nil when no TLSA records exist.
// pkixValid says whether the chain verified against the roots, which
// usages 0 and 1 require on top of the match.
func (l *tlsaLookup) check(ctx context.Context, chain []*x509.Certificate, host string, roots *x509.CertPool, pkixValid bool, now time.Time) *DANEResult {
	if l == nil || len(chain) == 0 {
		return nil
	}
	var a tlsaAnswer
	select {
	case a = <-l.answer:
	case <-ctx.Done():
		return &DANEResult{Name: l.name, Error: fmt.Sprintf("TLSA lookup: %v", ctx.Err())}
	}
	if a.err != nil {
		return &DANEResult{Name: l.name, Error: fmt.Sprintf("TLSA lookup: %v", a.err)}
	}
	if len(a.records) == 0 {
		return nil
	}
	res := &DANEResult{Name: l.name, Records: len(a.records), Authenticated: a.meta.Authenticated}
	for _, rec := range a.records {
		if !usableTLSA(rec) {
			continue
		}
		res.Usable++
		if res.Match {
			continue
		}
		if tlsaMatches(rec, chain, host, roots, pkixValid, now) {
			res.Match = true
			res.Matched = fmt.Sprintf("%d %d %d", rec.Usage, rec.Selector, rec.MatchingType)
		}
	}
	return res
}

// usableTLSA reports whether this checker understands the record
// (RFC 7671 §4.1: unusable records are ignored).
func usableTLSA(r netx.TLSA) bool {
	return r.Usage <= usageDANEEE && r.Selector <= 1 && r.MatchingType <= 2
}

// tlsaMatches applies one record to the chain:
//   - DANE-EE(3): the leaf matches; names and dates are not checked
//     (RFC 7671 §5.1);
//   - DANE-TA(2): a certificate of the chain matches and the leaf chains to
//     it with the host's name and current dates (RFC 7671 §5.2);
//   - PKIX-EE(1) / PKIX-TA(0): the leaf / a chain certificate matches and
//     the chain is PKIX-valid (RFC 6698 §2.1.1).
func tlsaMatches(r netx.TLSA, chain []*x509.Certificate, host string, roots *x509.CertPool, pkixValid bool, now time.Time) bool {
	switch r.Usage {
	case usageDANEEE:
		return tlsaData(r, chain[0])
	case usagePKIXEE:
		return pkixValid && tlsaData(r, chain[0])
	case usagePKIXTA:
		if !pkixValid {
			return false
		}
		for _, c := range chain {
			if tlsaData(r, c) {
				return true
			}
		}
	case usageDANETA:
		for i, c := range chain {
			if i == 0 || !tlsaData(r, c) {
				continue
			}
			anchor := x509.NewCertPool()
			anchor.AddCert(c)
			intermediates := x509.NewCertPool()
			for _, ic := range chain[1:i] {
				intermediates.AddCert(ic)
			}
			if _, err := chain[0].Verify(x509.VerifyOptions{DNSName: host, Roots: anchor, Intermediates: intermediates, CurrentTime: now}); err == nil {
				return true
			}
		}
	}
	return false
}

// tlsaData compares the record's data with the selected part of c
// (RFC 6698 §2.1.2, §2.1.3).
func tlsaData(r netx.TLSA, c *x509.Certificate) bool {
	selected := c.Raw
	if r.Selector == 1 {
		selected = c.RawSubjectPublicKeyInfo
	}
	switch r.MatchingType {
	case 0:
		return bytes.Equal(selected, r.Data)
	case 1:
		sum := sha256.Sum256(selected)
		return bytes.Equal(sum[:], r.Data)
	case 2:
		sum := sha512.Sum512(selected)
		return bytes.Equal(sum[:], r.Data)
	}
	return false
}
