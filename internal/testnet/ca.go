package testnet

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// CA is a test certificate authority. ECDSA P-256 keys take microseconds to
// make, so tests may make one each. It is safe for concurrent use.
type CA struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// serial numbers leaves so that no two share one: TLS stacks that cache
	// by issuer and serial must not mix them up.
	serial atomic.Int64

	mu    sync.Mutex
	bySNI map[string]*tls.Certificate
}

// NewCA makes a CA named name, valid from an hour ago for a day.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key := newKey(t)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	ca := &CA{Cert: create(t, tmpl, tmpl, key, key), key: key}
	ca.serial.Store(1)
	return ca
}

// Pool is a pool that trusts only this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// PEM is the CA certificate in PEM form.
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
}

// Leaf issues a certificate for names (the first is also the common name; IP
// literals become IP addresses), valid from an hour ago for a day; its chain
// holds the CA. It serves TLS and signs mail and profiles (S/MIME), so one
// leaf fits every test.
func (ca *CA) Leaf(t testing.TB, names ...string) tls.Certificate {
	t.Helper()
	now := time.Now()
	return ca.LeafValid(t, now.Add(-time.Hour), now.Add(24*time.Hour), names...)
}

// LeafValid is Leaf valid from notBefore to notAfter, for expiry tests.
func (ca *CA) LeafValid(t testing.TB, notBefore, notAfter time.Time, names ...string) tls.Certificate {
	t.Helper()
	return ca.issue(t, ca, notBefore, notAfter, names)
}

// SelfSigned is a server certificate for names that no CA signed, for tests
// of an untrusted peer. It is a method of CA only so that every certificate a
// test makes comes from here; the CA takes no part in it.
func (ca *CA) SelfSigned(t testing.TB, notBefore, notAfter time.Time, names ...string) tls.Certificate {
	t.Helper()
	return ca.issue(t, nil, notBefore, notAfter, names)
}

// PEM encodes c's own certificate (not its chain) and its private key, for
// code that reads certificate and key files.
func PEM(t testing.TB, c tls.Certificate) (certPEM, keyPEM []byte) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// GetCertificate is a tls.Config hook that issues a leaf for whatever name
// the client asks for (SNI), once per name: a server standing in for many
// hosts. It runs on the server's goroutines, so it returns errors rather than
// failing a test.
func (ca *CA) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	if c, ok := ca.bySNI[hello.ServerName]; ok {
		return c, nil
	}
	now := time.Now()
	c, err := ca.issueErr(ca, now.Add(-time.Hour), now.Add(24*time.Hour), []string{hello.ServerName})
	if err != nil {
		return nil, err
	}
	if ca.bySNI == nil {
		ca.bySNI = map[string]*tls.Certificate{}
	}
	ca.bySNI[hello.ServerName] = &c
	return &c, nil
}

func (ca *CA) issue(t testing.TB, parent *CA, notBefore, notAfter time.Time, names []string) tls.Certificate {
	t.Helper()
	c, err := ca.issueErr(parent, notBefore, notAfter, names)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (ca *CA) issueErr(parent *CA, notBefore, notAfter time.Time, names []string) (tls.Certificate, error) {
	if len(names) == 0 || names[0] == "" {
		return tls.Certificate{}, errors.New("testnet: a leaf certificate needs a name")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.serial.Add(1)),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageEmailProtection},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	issuer, signer := tmpl, key
	if parent != nil {
		issuer, signer = parent.Cert, parent.key
	}
	leaf, err := createErr(tmpl, issuer, key, signer)
	if err != nil {
		return tls.Certificate{}, err
	}
	chain := [][]byte{leaf.Raw}
	if parent != nil {
		chain = append(chain, parent.Cert.Raw)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}, nil
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func create(t testing.TB, tmpl, parent *x509.Certificate, key, signer *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	cert, err := createErr(tmpl, parent, key, signer)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// createErr is the one place a test certificate is made.
func createErr(tmpl, parent *x509.Certificate, key, signer *ecdsa.PrivateKey) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}
