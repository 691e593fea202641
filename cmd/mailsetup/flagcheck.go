package main

import (
	"net"
	"net/url"
	"strings"
)

// checkTrustCerts refuses a --trust-cert that cannot be a SHA-256
// fingerprint (64 hex digits; colons, spaces and letter case as the report
// or openssl print them): a typo would otherwise pin nothing, silently.
func checkTrustCerts(pins []string) error {
	for _, p := range pins {
		hex := strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(p))
		if len(hex) != 64 || strings.Trim(strings.ToLower(hex), "0123456789abcdef") != "" {
			return usageError("--trust-cert %q is not a SHA-256 fingerprint (64 hex digits): copy the sha256 that 'mailsetup probe' shows for the server", p)
		}
	}
	return nil
}

// checkISPDBURL refuses an --ispdb-url that is not an https URL: the ISPDB's
// answer names servers, so it must come over verified TLS.
func checkISPDBURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
		return usageError("--ispdb-url %q is not an https URL such as https://autoconfig.thunderbird.net/v1.1/", s)
	}
	return nil
}

// dnsServerAddress is --dns-server as HOST:PORT, port 53 when none is given.
func dnsServerAddress(s string) (string, error) {
	if _, _, err := net.SplitHostPort(s); err == nil {
		return s, nil
	}
	host := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if host == "" || strings.ContainsAny(host, " /") {
		return "", usageError("--dns-server %q is not a host or HOST:PORT; write it like 127.0.0.1 or 127.0.0.1:53", s)
	}
	return net.JoinHostPort(host, "53"), nil
}
