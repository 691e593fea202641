package testnet

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"slices"
	"testing"
	"time"
)

func TestCAIssuesLeavesItsPoolTrusts(t *testing.T) {
	ca := NewCA(t, "test CA")
	verify := func(name string, leaf *x509.Certificate) error {
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: ca.Pool()})
		return err
	}
	if err := verify("imap.a.test", ca.Leaf(t, "imap.a.test").Leaf); err != nil {
		t.Errorf("leaf: %v", err)
	}
	if err := verify("other.test", ca.Leaf(t, "imap.a.test").Leaf); err == nil {
		t.Error("a leaf for imap.a.test verified for other.test")
	}
	past := time.Now().Add(-48 * time.Hour)
	if err := verify("imap.a.test", ca.LeafValid(t, past, past.Add(time.Hour), "imap.a.test").Leaf); err == nil {
		t.Error("an expired leaf verified")
	}
	if err := verify("127.0.0.1", ca.Leaf(t, "127.0.0.1").Leaf); err != nil {
		t.Errorf("leaf for an IP address: %v", err)
	}
	certPEM, keyPEM := PEM(t, ca.Leaf(t, "smtp.a.test"))
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Errorf("PEM: %v", err)
	}
	byName, err := ca.GetCertificate(&tls.ClientHelloInfo{ServerName: "web.a.test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := verify("web.a.test", byName.Leaf); err != nil {
		t.Errorf("leaf by SNI: %v", err)
	}
	if again, _ := ca.GetCertificate(&tls.ClientHelloInfo{ServerName: "web.a.test"}); again != byName {
		t.Error("a second hello for the same name issued a new certificate")
	}
	if err := verify("imap.a.test", ca.SelfSigned(t, past, time.Now().Add(time.Hour), "imap.a.test").Leaf); err == nil {
		t.Error("a self-signed leaf verified")
	}
}

func TestDialerRoutesMostSpecificRuleAndRefusesTheRest(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("listener"))
			c.Close()
		}
	}()
	var d Dialer
	d.Route("192.0.2.1:993", ln.Addr().String())
	d.Script(":993", []byte("script"))
	d.Hang("192.0.2.9:25")
	read := func(addr string) string {
		c, err := d.DialContext(t.Context(), "tcp", addr)
		if err != nil {
			t.Fatalf("dial %s: %v", addr, err)
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		return string(b)
	}
	if got := read("192.0.2.1:993"); got != "listener" {
		t.Errorf("exact route gave %q", got)
	}
	if got := read("192.0.2.2:993"); got != "script" {
		t.Errorf("port rule gave %q", got)
	}
	if _, err := d.DialContext(t.Context(), "tcp", "192.0.2.1:143"); !errors.Is(err, ErrRefused) {
		t.Errorf("unrouted address: %v, want ErrRefused", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := d.DialContext(ctx, "tcp", "192.0.2.9:25"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hung address: %v, want the context's error", err)
	}
	want := []string{"192.0.2.1:993", "192.0.2.2:993", "192.0.2.1:143", "192.0.2.9:25"}
	if got := d.Dials(); !slices.Equal(got, want) {
		t.Errorf("dials %v, want %v", got, want)
	}
}
