package server

import (
	"net/url"
	"strings"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// parseAddress validates an address a client sent. An address at a
// configured domain written the usual way (an ASCII local part, the domain
// as configured) is taken without IDNA processing, which is most of the
// cost; anything else goes through the full parse. FuzzParseAddressFast
// checks that both ways agree.
func (c *Config) parseAddress(s string) (autoconfig.Address, error) {
	if at := strings.LastIndexByte(s, '@'); at > 0 && at <= 64 && plainLocalPart(s[:at]) {
		if site, ok := c.sites[s[at+1:]]; ok {
			return autoconfig.Address{LocalPart: s[:at], Domain: site.domain.ASCII, DomainUnicode: site.domain.Unicode}, nil
		}
	}
	return parseAddress(s)
}

// plainLocalPart reports whether local is made only of RFC 5322 atext
// characters and dots: such a local part is valid as it stands.
func plainLocalPart(local string) bool {
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".!#$%&'*+-/=?^_`{|}~", c) >= 0) {
			return false
		}
	}
	return local != ""
}

// queryValue is url.Values.Get on a raw query without building the map: the
// first value of key, unescaped. Pairs url.ParseQuery skips (a ';' in the
// key, a bad escape) are skipped here too.
func queryValue(raw, key string) string {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(k, "%+") {
			var err error
			if k, err = url.QueryUnescape(k); err != nil {
				continue
			}
		}
		if k != key {
			continue
		}
		if v, err := url.QueryUnescape(v); err == nil {
			return v
		}
	}
	return ""
}
