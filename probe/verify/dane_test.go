package verify

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/netx"
)

func spkiSHA256(c *x509.Certificate) []byte {
	sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
	return sum[:]
}

func TestDANE(t *testing.T) {
	const host = "imap.example.test"
	const name = "_993._tcp.imap.example.test"
	hour := time.Hour
	selfSigned := func(w *world) tls.Certificate {
		return w.ca.SelfSigned(t, time.Now().Add(-hour), time.Now().Add(hour), host)
	}
	cases := []struct {
		name          string
		cert          func(w *world) tls.Certificate
		records       func(w *world, leaf *x509.Certificate) []netx.TLSA
		authenticated bool
		lookupErr     error
		noRoots       bool
		want          DANEResult // Name is filled in
		safe          bool
		finding       string
	}{
		{"dane-ee-spki-sha256-signed", selfSigned, func(w *world, leaf *x509.Certificate) []netx.TLSA {
			return []netx.TLSA{{Usage: 3, Selector: 1, MatchingType: 1, Data: spkiSHA256(leaf)}}
		}, true, nil, false, DANEResult{Records: 1, Usable: 1, Authenticated: true, Match: true, Matched: "3 1 1"}, true, ""},
		{"dane-ee-unsigned-proves-nothing", selfSigned, func(w *world, leaf *x509.Certificate) []netx.TLSA {
			return []netx.TLSA{{Usage: 3, Selector: 1, MatchingType: 1, Data: spkiSHA256(leaf)}}
		}, false, nil, false, DANEResult{Records: 1, Usable: 1, Match: true, Matched: "3 1 1"}, false, FindingCertificateInvalid},
		{"dane-ee-full-cert-exact", selfSigned, func(w *world, leaf *x509.Certificate) []netx.TLSA {
			return []netx.TLSA{{Usage: 3, Selector: 0, MatchingType: 0, Data: leaf.Raw}}
		}, true, nil, false, DANEResult{Records: 1, Usable: 1, Authenticated: true, Match: true, Matched: "3 0 0"}, true, ""},
		{"dane-ee-sha512", selfSigned, func(w *world, leaf *x509.Certificate) []netx.TLSA {
			sum := sha512.Sum512(leaf.Raw)
			return []netx.TLSA{{Usage: 3, Selector: 0, MatchingType: 2, Data: sum[:]}}
		}, true, nil, false, DANEResult{Records: 1, Usable: 1, Authenticated: true, Match: true, Matched: "3 0 2"}, true, ""},
		{"dane-ta-private-ca", func(w *world) tls.Certificate { return w.good(host) }, func(w *world, leaf *x509.Certificate) []netx.TLSA {
			sum := sha256.Sum256(w.ca.Cert.Raw)
			return []netx.TLSA{{Usage: 2, Selector: 0, MatchingType: 1, Data: sum[:]}}
		}, true, nil, true, DANEResult{Records: 1, Usable: 1, Authenticated: true, Match: true, Matched: "2 0 1"}, true, ""},
		{"signed-mismatch-beats-valid-pkix", func(w *world) tls.Certificate { return w.good(host) }, func(w *world, leaf *x509.Certificate) []netx.TLSA {
			return []netx.TLSA{{Usage: 3, Selector: 1, MatchingType: 1, Data: make([]byte, 32)}, {Usage: 1, Selector: 1, MatchingType: 1, Data: make([]byte, 32)}}
		}, true, nil, false, DANEResult{Records: 2, Usable: 2, Authenticated: true}, false, FindingDANEMismatch},
		{"pkix-ee-needs-valid-chain", selfSigned, func(w *world, leaf *x509.Certificate) []netx.TLSA {
			return []netx.TLSA{{Usage: 1, Selector: 1, MatchingType: 1, Data: spkiSHA256(leaf)}}
		}, true, nil, false, DANEResult{Records: 1, Usable: 1, Authenticated: true}, false, FindingDANEMismatch},
		{"unusable-records-ignored", func(w *world) tls.Certificate { return w.good(host) }, func(w *world, leaf *x509.Certificate) []netx.TLSA {
			return []netx.TLSA{{Usage: 4, Selector: 1, MatchingType: 1, Data: spkiSHA256(leaf)}, {Usage: 3, Selector: 2, MatchingType: 1}}
		}, true, nil, false, DANEResult{Records: 2, Authenticated: true}, true, ""},
		{"lookup-failure-reported", func(w *world) tls.Certificate { return w.good(host) }, nil, false, errors.New("SERVFAIL"), false,
			DANEResult{Error: "TLSA lookup: SERVFAIL"}, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			cert := tc.cert(w)
			rec := w.imapServer(host, 993, autoconfig.SecurityTLS, cert, false, nil)
			if tc.records != nil {
				w.res.TLSA[name] = tc.records(w, cert.Leaf)
			}
			w.res.Authentic["TLSA "+name] = tc.authenticated
			if tc.lookupErr != nil {
				w.res.Fail["TLSA "+name] = tc.lookupErr
			}
			opts := w.opts()
			if tc.noRoots {
				opts.Env.RootCAs = x509.NewCertPool()
			}
			s := server(autoconfig.IMAP, host, 993, autoconfig.SecurityTLS)
			res := Check(context.Background(), opts, s)
			if res.Err != nil || res.TLS == nil || res.TLS.DANE == nil {
				t.Fatalf("Check = %+v (err %v)", res, res.Err)
			}
			want := tc.want
			want.Name = name
			if *res.TLS.DANE != want {
				t.Errorf("DANE = %+v\nwant   %+v", *res.TLS.DANE, want)
			}
			if tc.finding != "" && !res.HasFinding(tc.finding) {
				t.Errorf("findings %+v lack %s", res.Findings, tc.finding)
			}
			if ok, why := res.PasswordSafe(opts); ok != tc.safe {
				t.Errorf("PasswordSafe = %v (%s), want %v", ok, why, tc.safe)
			}
			lr := Login(context.Background(), opts, s, testUser, []byte(testPassword))
			if (lr.Status == LoginOK) != tc.safe || rec.sawPassword() != tc.safe {
				t.Errorf("Login = %+v, want it to happen only when safe (%v)", lr, tc.safe)
			}
		})
	}
}

func TestNoTLSAMeansNoDANE(t *testing.T) {
	w := newWorld(t)
	host := "smtp.example.test"
	w.smtpServer(host, 465, autoconfig.SecurityTLS, w.good(host), []string{"PLAIN"}, nil)
	res := Check(context.Background(), w.opts(), server(autoconfig.SMTP, host, 465, autoconfig.SecurityTLS))
	if res.TLS == nil || res.TLS.DANE != nil {
		t.Fatalf("TLS = %+v, want no DANE result", res.TLS)
	}
	if !strings.HasPrefix(res.Greeting, "smtp.example.test") {
		t.Errorf("Greeting = %q", res.Greeting)
	}
}
