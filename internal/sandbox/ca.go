package sandbox

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync"
	"time"
)

// wrongCertName is the name a CertWrongName certificate covers instead of
// the host: the shared-hosting case, where imap.hoster serves a customer.
const wrongCertName = "mail.shared-hosting.test"

// authority is the world's private CA. ECDSA P-256 keys take microseconds to
// make, so a world starts fast; leaf certificates are issued on first use.
type authority struct {
	cert    *x509.Certificate
	certDER []byte
	key     *ecdsa.PrivateKey
	// leafKey is shared by every leaf: a sandbox needs no key separation,
	// and one key saves a key generation per host.
	leafKey *ecdsa.PrivateKey
	pool    *x509.CertPool
	now     func() time.Time

	mu     sync.Mutex
	leaves map[leafKey]*tls.Certificate
	serial int64
}

type leafKey struct {
	host  string
	fault CertFault
}

func newAuthority(now func() time.Time) (*authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sandbox: CA key: %w", err)
	}
	leafK, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sandbox: leaf key: %w", err)
	}
	start := now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailsetup sandbox CA", Organization: []string{"mailsetup sandbox"}},
		NotBefore:             start.Add(-time.Hour),
		NotAfter:              start.Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		// The CA may only vouch for reserved names, so trusting it can
		// never make a real site look genuine.
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         []string{".test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sandbox: CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("sandbox: CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &authority{
		cert: cert, certDER: der, key: key, leafKey: leafK, pool: pool, now: now,
		leaves: map[leafKey]*tls.Certificate{}, serial: 1,
	}, nil
}

// tlsaDigests returns the TLSA data for the placeholders of Scenario.Records:
// the SHA-256 of the shared leaf public key and of the CA certificate, hex.
func (a *authority) tlsaDigests() (leafSPKI, caCert string, err error) {
	spki, err := x509.MarshalPKIXPublicKey(&a.leafKey.PublicKey)
	if err != nil {
		return "", "", fmt.Errorf("sandbox: leaf key: %w", err)
	}
	l, c := sha256.Sum256(spki), sha256.Sum256(a.certDER)
	return hex.EncodeToString(l[:]), hex.EncodeToString(c[:]), nil
}

// pem is the CA certificate in PEM form, for clients outside the process.
func (a *authority) pem() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.certDER})
}

// leaf returns the certificate host presents for a service with fault f,
// issuing it on first use.
func (a *authority) leaf(host string, f CertFault) (*tls.Certificate, error) {
	k := leafKey{host, f}
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.leaves[k]; ok {
		return c, nil
	}
	a.serial++
	start := a.now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(a.serial),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    start.Add(-time.Hour),
		NotAfter:     start.Add(7 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	parent, signer := a.cert, a.key
	switch f {
	case CertWrongName:
		tmpl.Subject.CommonName = wrongCertName
		tmpl.DNSNames = []string{wrongCertName}
	case CertExpired:
		tmpl.NotBefore = start.Add(-60 * 24 * time.Hour)
		tmpl.NotAfter = start.Add(-24 * time.Hour)
	case CertSelfSigned:
		parent, signer = tmpl, a.leafKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &a.leafKey.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("sandbox: certificate for %q: %w", host, err)
	}
	chain := [][]byte{der}
	if f != CertSelfSigned {
		chain = append(chain, a.certDER)
	}
	c := &tls.Certificate{Certificate: chain, PrivateKey: a.leafKey}
	a.leaves[k] = c
	return c, nil
}
