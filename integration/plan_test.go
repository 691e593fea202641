package integration

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// TestAddressPlan checks the servers themselves before any test relies on
// them: which ports listen on which site, and that implicit TLS shows the
// certificate the site is meant to have. A failure here is a broken fixture
// (scripts/realservers.sh), not a mailsetup bug.
func TestAddressPlan(t *testing.T) {
	r := needServers(t)
	all := []uint16{143, 993, 110, 995, 587, 465}
	plan := []struct {
		site    site
		open    []uint16
		certErr bool // implicit TLS fails verification (name mismatch)
	}{
		{r.Good, all, false},
		{r.Mismatch, all, true},
		{r.STARTTLS, []uint16{143, 110, 587}, false},
	}
	for _, p := range plan {
		open := map[uint16]bool{}
		for _, port := range p.open {
			open[port] = true
		}
		for _, port := range all {
			addr := netip.AddrPortFrom(p.site.Addr, port).String()
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if !open[port] {
				if !errors.Is(err, syscall.ECONNREFUSED) {
					t.Errorf("%s (%s): want connection refused, got %v", p.site.Domain, addr, err)
				}
				if c != nil {
					c.Close()
				}
				continue
			}
			if err != nil {
				t.Errorf("%s (%s): %v", p.site.Domain, addr, err)
				continue
			}
			c.Close()
			if port != 993 && port != 995 && port != 465 {
				continue
			}
			conf := &tls.Config{ServerName: p.site.Host("mail"), RootCAs: r.Roots}
			tc, err := tls.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}, "tcp", addr, conf)
			var hostErr x509.HostnameError
			switch {
			case p.certErr && !errors.As(err, &hostErr):
				t.Errorf("%s (%s): want a name mismatch, got %v", p.site.Domain, addr, err)
			case !p.certErr && err != nil:
				t.Errorf("%s (%s): %v", p.site.Domain, addr, err)
			}
			if tc != nil {
				tc.Close()
			}
		}
	}
}
