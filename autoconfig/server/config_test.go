package server

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mailsetup/mailsetup/autoconfig"
)

func TestExampleConfig(t *testing.T) {
	cfg, err := LoadConfig("../../examples/serve.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Domains(), " "); got != "example.test xn--bcher-kva.example.test" {
		t.Errorf("domains %q", got)
	}
	p, ok := cfg.Provider("EXAMPLE-MAIL.test")
	if !ok {
		t.Fatal("the alias is not served")
	}
	if cal, _ := p.FirstDAV(autoconfig.CalDAV); cal.URL != "https://dav.example.test/dav/calendars/" || len(p.DAV) != 2 {
		t.Errorf("the example's calendar and contacts: %+v", p.DAV)
	}
	if cfg.Limit.PerMinute != 60 || cfg.Timeouts.Shutdown != 20*time.Second || cfg.Hostname != "mailsetup.example.test" {
		t.Errorf("settings not read: %+v %+v", cfg.Limit, cfg.Timeouts)
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig([]byte(`
listen: {http: ":8080"}
domains:
  - name: example.test
    provider:
      incoming: [{protocol: imap, host: imap.example.test, security: tls}]
      outgoing: [{protocol: smtp, host: smtp.example.test, security: starttls}]
`), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := cfg.Provider("example.test")
	if p.Incoming[0].Port != 993 || p.Outgoing[0].Port != 587 || p.Incoming[0].Username != "%EMAILADDRESS%" ||
		p.Incoming[0].PreferredAuth() != "password-cleartext" {
		t.Errorf("defaults not applied: %+v %+v", p.Incoming[0], p.Outgoing[0])
	}
	if cfg.Limit.PerMinute != defaultPerMinute || cfg.Timeouts.ReadHeader != defaultReadHeader || !cfg.Log.JSON {
		t.Errorf("defaults not applied: %+v", cfg)
	}
}

// TestConfigErrors checks that each mistake is an error naming its line.
func TestConfigErrors(t *testing.T) {
	const good = `listen: {http: ":8080"}
domains:
  - name: example.test
    provider:
      incoming: [{protocol: imap, host: imap.example.test, security: tls}]
      outgoing: [{protocol: smtp, host: smtp.example.test, security: tls}]
`
	tests := []struct {
		name, yaml, want string
	}{
		{"typo", strings.Replace(good, "security: tls}]\n      outgoing", "securty: tls}]\n      outgoing", 1), "t.yaml:5: unknown key securty: see examples/serve.yaml for the keys"},
		{"bad security", strings.Replace(good, "security: tls}]\n      outgoing", "security: ssl}]\n      outgoing", 1), `t.yaml:5: security "ssl": use tls`},
		{"bad auth", strings.Replace(good, "security: tls}]\n      outgoing", "security: tls, auth: [kerberos]}]\n      outgoing", 1), `t.yaml:5: auth "kerberos"`},
		{"bad domain", strings.Replace(good, "name: example.test", "name: exa mple.test", 1), "t.yaml:3: domains[0].name"},
		{"duplicate", good + "  - name: EXAMPLE.test\n    file: x.xml\n", "cannot read provider file x.xml: no such file"},
		{"duplicate name", good + "  - name: EXAMPLE.test\n    provider:\n      incoming: [{protocol: imap, host: i.test, security: tls}]\n      outgoing: [{protocol: smtp, host: s.test, security: tls}]\n", `t.yaml:7: domain "example.test" is listed twice`},
		{"no settings", good + "  - name: other.test\n", `t.yaml:7: domain "other.test" needs its settings`},
		{"no smtp", strings.Replace(good, "      outgoing: [{protocol: smtp, host: smtp.example.test, security: tls}]\n", "", 1), "has no SMTP server"},
		{"smtp as incoming", strings.Replace(good, "protocol: imap", "protocol: smtp", 1), `t.yaml:5: incoming protocol "smtp"`},
		{"broken placeholder", strings.Replace(good, "security: tls}]\n      outgoing", "security: tls, username: \"%EMAILADDRESS\"}]\n      outgoing", 1), "broken placeholder"},
		{"https without cert", strings.Replace(good, `{http: ":8080"}`, `{https: ":8443"}`, 1), "t.yaml:1: listen.https needs a certificate"},
		{"no listen", strings.Replace(good, `listen: {http: ":8080"}`, "", 1), "no listen address"},
		{"acme without tos", good + "tls: {acme: {cache_dir: /tmp/x}}\n", "accept_tos"},
		{"bad proxy", good + "rate_limit: {trusted_proxies: [10.0.0.0/33]}\n", `t.yaml:7: trusted_proxies "10.0.0.0/33"`},
		{"bad duration", good + "timeouts: {read: forever}\n", `t.yaml:7: timeouts.read should be a duration with a unit, such as 15s or 2m, not "forever"`},
		{"bad duration among others", good + "timeouts: {write: 5s, read: forever, idle: 1m}\n", `t.yaml:7: timeouts.read should be`},
		{"map for list", "listen: {http: \":8080\"}\ndomains:\n  name: example.test\n", "t.yaml:3: domains should be a list of domains, not a mapping"},
		{"xml", "<?xml version=\"1.0\"?>\n<clientConfig/>\n", "this looks like XML, but the serve configuration is a YAML mapping (see examples/serve.yaml); a provider's XML settings file goes under a domain's file: key"},
		{"not yaml", "listen: [\n", "t.yaml:1: this is not valid YAML"},
		{"unknown generic", good + "unknown_domains: other.test\n", `t.yaml:7: unknown_domains names "other.test"`},
		{"empty", "", "t.yaml is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.yaml), "t.yaml")
			if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// A configuration file that cannot be read says why in words, without
// Go's "open NAME: no such file or directory" (issue 12).
func TestLoadConfigUnreadableInWords(t *testing.T) {
	dir := t.TempDir()
	for path, want := range map[string]string{
		filepath.Join(dir, "none.yaml"): filepath.Join(dir, "none.yaml") + ": no such file",
		dir:                             dir + ": is a folder, not a file",
	} {
		_, err := LoadConfig(path)
		if err == nil || !errors.Is(err, ErrConfig) || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("LoadConfig(%s): %v, want one ending in %q", path, err, want)
		}
	}
}
