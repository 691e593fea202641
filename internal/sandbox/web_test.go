package sandbox

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// httpClient is net/http trusting only the world's CA and dialing through
// its dialer; it does not follow redirects, so tests see them.
func httpClient(w *World) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DialContext:     w.Dialer().DialContext,
			TLSClientConfig: &tls.Config{RootCAs: w.RootCAs()},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func getConfig(t *testing.T, c *http.Client, url string) *autoconfig.Provider {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	p, _, err := autoconfig.ReadConfig(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return p
}

func postAutodiscover(t *testing.T, c *http.Client, url, email string) *autoconfig.AutodiscoverResponse {
	t.Helper()
	var body bytes.Buffer
	autoconfig.NewAutodiscoverRequest(email).WriteTo(&body)
	resp, err := c.Post(url, "text/xml", &body)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	r, err := autoconfig.ReadAutodiscoverResponse(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return r
}

func TestAutoconfigAndISPDB(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"demo", "mx-big-provider", "username-localpart"}})
	c := httpClient(w)

	p := getConfig(t, c, "https://autoconfig.demo.test/mail/config-v1.1.xml?emailaddress=alice%40demo.test")
	if in, _ := p.PreferredIncoming(); in.Hostname != "imap.demo.test" || in.Port != 993 {
		t.Errorf("autoconfig incoming = %+v", in)
	}
	if len(p.Incoming) != 4 || len(p.Outgoing) != 2 {
		t.Errorf("autoconfig has %d incoming and %d outgoing servers, want 4 and 2", len(p.Incoming), len(p.Outgoing))
	}
	p = getConfig(t, c, "https://demo.test/.well-known/autoconfig/mail/config-v1.1.xml")
	if p.ID != "demo.test" {
		t.Errorf("well-known provider id %q", p.ID)
	}
	p = getConfig(t, c, "https://autoconfig.localpart.test/mail/config-v1.1.xml")
	if p.Incoming[0].Username != autoconfig.PlaceholderLocalPart {
		t.Errorf("username template %q, want %%EMAILLOCALPART%%", p.Incoming[0].Username)
	}

	p = getConfig(t, c, w.ISPDBURL()+"bigmail.test")
	if in, _ := p.PreferredIncoming(); in.Hostname != "imap.bigmail.test" {
		t.Errorf("ISPDB bigmail.test incoming = %+v", in)
	}
	for _, url := range []string{
		w.ISPDBURL() + "unknown.test",
		"https://autoconfig.demo.test/mail/other.xml",
		// The subdomain form is not served at the domain, nor the reverse.
		"https://demo.test/mail/config-v1.1.xml",
	} {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %s, want 404", url, resp.Status)
		}
	}
	// A host without a web service refuses the connection.
	if _, err := c.Get("https://imap.demo.test/mail/config-v1.1.xml"); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("GET from a mail-only host: err = %v, want refused", err)
	}
}

func TestAutodiscover(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"autodiscover-redirect-addr", "autodiscover-redirect-url", "autodiscover-http-redirect"}})
	c := httpClient(w)

	// redirectAddr, then the settings for the new address; the path in
	// Outlook's own letter case.
	r := postAutodiscover(t, c, "https://autodiscover.ad-redirect.test/Autodiscover/Autodiscover.xml", "alice@ad-redirect.test")
	if r.Action != autoconfig.ActionRedirectAddr || r.RedirectAddr != "alice@ad-target.test" {
		t.Fatalf("first answer: %+v", r)
	}
	r = postAutodiscover(t, c, "https://autodiscover.ad-target.test/autodiscover/autodiscover.xml", r.RedirectAddr)
	p, err := r.Provider("ad-target.test")
	if err != nil {
		t.Fatal(err)
	}
	if in, _ := p.PreferredIncoming(); in.Hostname != "post.ad-target.test" || in.Port != 993 || in.Security != autoconfig.SecurityTLS ||
		in.Username != "alice@ad-target.test" {
		t.Errorf("settings incoming = %+v", in)
	}

	// redirectUrl.
	r = postAutodiscover(t, c, "https://ad-url.test/AUTODISCOVER/AUTODISCOVER.XML", "alice@ad-url.test")
	if r.Action != autoconfig.ActionRedirectURL || !strings.HasPrefix(r.RedirectURL, "https://exchange.ad-url-hosting.test/") {
		t.Fatalf("redirectUrl answer: %+v", r)
	}
	r = postAutodiscover(t, c, r.RedirectURL, "alice@ad-url.test")
	if len(r.Protocols) != 2 {
		t.Errorf("redirected settings: %+v", r.Protocols)
	}

	// A GET is no Autodiscover request: error 600, as Exchange answers.
	resp, err := c.Get("https://exchange.ad-url-hosting.test/autodiscover/autodiscover.xml")
	if err != nil {
		t.Fatal(err)
	}
	r, err = autoconfig.ReadAutodiscoverResponse(resp.Body)
	resp.Body.Close()
	if err != nil || r.Error == nil || r.Error.Code != autoconfig.AutodiscoverErrInvalidRequest {
		t.Errorf("GET: %+v, %v; want error 600", r, err)
	}

	// The HTTP-redirect method: plain http, 302 to https.
	resp, err = c.Get("http://autodiscover.ad-http.test/autodiscover/autodiscover.xml")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "https://autodiscover.ad-http-hosting.test/") {
		t.Fatalf("HTTP redirect: %s to %q", resp.Status, loc)
	}
	r = postAutodiscover(t, c, loc, "alice@ad-http.test")
	if len(r.Protocols) != 2 || r.Protocols[0].Server != "mailhub.ad-http-hosting.test" {
		t.Errorf("after the HTTP redirect: %+v", r.Protocols)
	}
	// autodiscover.ad-http.test has no https at all.
	if _, err := c.Get("https://autodiscover.ad-http.test/autodiscover/autodiscover.xml"); err == nil {
		t.Error("https on the redirect-only host answered")
	}
}

func TestBadCertificates(t *testing.T) {
	w := startWorld(t, Options{Scenarios: []string{"bad-cert-993", "hostile-servers"}})
	for _, tc := range []struct {
		host, port string
		check      func(error) bool
		want       string
	}{
		{"imap.badcert.test", "993", func(err error) bool {
			var e x509.HostnameError
			return errors.As(err, &e) && strings.Contains(e.Error(), wrongCertName)
		}, "a name mismatch that names " + wrongCertName},
		{"smtp.badcert.test", "465", func(err error) bool {
			var e x509.CertificateInvalidError
			return errors.As(err, &e) && e.Reason == x509.Expired
		}, "an expired certificate"},
		{"imap-d.hostile-servers.test", "993", func(err error) bool {
			var e x509.UnknownAuthorityError
			return errors.As(err, &e)
		}, "an unknown authority"},
	} {
		_, err := dialTLS(t, w, tc.host, tc.port)
		if !tc.check(err) {
			t.Errorf("%s:%s: handshake error %v, want %s", tc.host, tc.port, err, tc.want)
		}
	}
	// The good ones on the same hosts verify.
	c := dial(t, w, "imap.badcert.test:143")
	line := make([]byte, 512)
	if n, _ := c.Read(line); !bytes.HasPrefix(line[:n], []byte("* OK")) {
		t.Errorf("imap.badcert.test:143 greeting %q", line[:n])
	}
	if _, err := dialTLS(t, w, "imap-e.hostile-servers.test", "993"); err != nil {
		t.Errorf("good certificate: %v", err)
	}
	// The CA can vouch for .test names only.
	block := w.CACertPEM()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(block) {
		t.Fatal("CACertPEM is not a PEM certificate")
	}
	if ca := w.ca.cert; !ca.PermittedDNSDomainsCritical || len(ca.PermittedDNSDomains) != 1 {
		t.Errorf("CA name constraints: %v", ca.PermittedDNSDomains)
	}
}

func TestWebLatencyIsOneDelayPerRoundTrip(t *testing.T) {
	const latency = 25 * time.Millisecond
	w := startWorld(t, Options{Scenarios: []string{"demo"}, Latency: latency})
	c := httpClient(w)
	start := time.Now()
	resp, err := c.Get("https://autoconfig.demo.test/mail/config-v1.1.xml")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// The dialer's name lookup, the connect, the TLS handshake, the response.
	if d := time.Since(start); d < 4*latency {
		t.Errorf("a cold HTTPS GET took %v, want at least 4 × %v", d, latency)
	}
}
