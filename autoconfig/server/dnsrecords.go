package server

import (
	"errors"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// ErrUnknownDomain: DNSRecords was asked for a domain the configuration
// does not serve (a mistake in the request, not in the configuration).
var ErrUnknownDomain = errors.New("server: domain not in the configuration")

// DNSRecord is one resource record to publish, with a note for people.
type DNSRecord struct {
	RR      dns.RR
	Comment string
}

// DNSRecords lists what a domain publishes so that clients find this server
// and the mail servers: autoconfig. and autodiscover. names (CNAME to the
// configured hostname, covered by the server's certificate), setup. for the
// setup page while it is on, the
// _autodiscover._tcp SRV record Outlook falls back to (pointing at the
// configured hostname itself: an SRV target must not be a CNAME), the RFC 6186 /
// RFC 8314 SRV records, with "." (RFC 2782: service not offered) for every
// service the domain does not offer, and the RFC 6764 records of its
// calendar and contacts services (davRecords). Plain-text servers are not
// announced.
func (c *Config) DNSRecords(domain string, ttl uint32) ([]DNSRecord, error) {
	d, err := autoconfig.ParseDomain(domain)
	if err != nil {
		return nil, err
	}
	s, ok := c.sites[d.ASCII]
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a domain or alias in it; it serves %s (or add the domain under domains:)",
			ErrUnknownDomain, domain, strings.Join(c.Domains(), ", "))
	}
	if c.Hostname == "" {
		return nil, fmt.Errorf("%w: set hostname: in the configuration, the name this server is reached at (the CNAME target)", ErrConfig)
	}
	zone := dns.Fqdn(d.ASCII)
	hdr := func(name string, typ uint16) dns.RR_Header {
		return dns.RR_Header{Name: name, Rrtype: typ, Class: dns.ClassINET, Ttl: ttl}
	}
	target := dns.Fqdn(c.Hostname)
	out := []DNSRecord{
		{RR: &dns.CNAME{Hdr: hdr("autoconfig."+zone, dns.TypeCNAME), Target: target}, Comment: "Thunderbird autoconfig"},
		{RR: &dns.CNAME{Hdr: hdr("autodiscover."+zone, dns.TypeCNAME), Target: target}, Comment: "Outlook Autodiscover"},
		// RFC 2782: an SRV target must not be an alias, and autodiscover.
		// above is one; the canonical name is the server's own, which its
		// certificate covers (ACME issues one for it too).
		{RR: &dns.SRV{Hdr: hdr("_autodiscover._tcp."+zone, dns.TypeSRV), Priority: 0, Weight: 0, Port: 443, Target: target},
			Comment: "Outlook's last resort; the target is the server's own name, not an alias (RFC 2782)"},
	}
	if c.Page.Enabled {
		out = append(out, DNSRecord{RR: &dns.CNAME{Hdr: hdr("setup."+zone, dns.TypeCNAME), Target: target},
			Comment: "the setup page for people: https://setup." + d.ASCII + "/"})
	}
	addr := autoconfig.Address{LocalPart: "user", Domain: d.ASCII, DomainUnicode: d.Unicode}
	servers := append(append([]autoconfig.Server(nil), s.provider.Incoming...), s.provider.Outgoing...)
	// autoconfig.Services() is in the order printed. RFC 8314 §5.1: clients
	// compare the priorities of the implicit-TLS and STARTTLS names of one
	// protocol, so the priorities below follow the configured preference
	// across both.
	for _, svc := range autoconfig.Services() {
		name := svc.SRVOwner(zone)
		var recs []DNSRecord
		priority := uint16(0)
		for _, sv := range servers {
			if sv.Protocol != svc.Protocol || sv.Security == autoconfig.SecurityPlain {
				continue
			}
			if sv.Security == svc.Security {
				recs = append(recs, DNSRecord{RR: &dns.SRV{Hdr: hdr(name, dns.TypeSRV), Priority: priority, Weight: 1,
					Port: uint16(sv.Port), Target: dns.Fqdn(sv.ExpandHostname(addr))}})
			}
			priority++
		}
		if len(recs) == 0 {
			recs = []DNSRecord{{RR: &dns.SRV{Hdr: hdr(name, dns.TypeSRV), Target: "."}, Comment: "not offered"}}
		}
		out = append(out, recs...)
	}
	return append(out, davRecords(s.provider, zone, hdr)...), nil
}

// davRecords are the RFC 6764 records of the calendar and contacts
// services the domain is configured with: the _caldavs/_carddavs SRV record
// (§3) with the TXT path= record beside it (§4), which saves clients the
// .well-known round trip, and "." for the plain-text label, so that a
// client does not look for one to fall back to. A service not configured
// gets nothing: its records may be published for a DAV server this
// configuration does not describe.
func davRecords(p *autoconfig.Provider, zone string, hdr func(string, uint16) dns.RR_Header) []DNSRecord {
	var out []DNSRecord
	for _, kind := range []autoconfig.DAVKind{autoconfig.CalDAV, autoconfig.CardDAV} {
		svc, ok := p.FirstDAV(kind)
		if !ok {
			continue
		}
		u, err := autoconfig.ParseDAVURL(svc.URL)
		if err != nil || !u.TLS {
			continue // LoadConfig refused these
		}
		name := kind.SRVName() + "._tcp." + zone
		plain := strings.TrimSuffix(kind.SRVName(), "s") + "._tcp." + zone
		out = append(out,
			DNSRecord{RR: &dns.SRV{Hdr: hdr(name, dns.TypeSRV), Priority: 0, Weight: 1, Port: uint16(u.Port), Target: dns.Fqdn(u.Host)},
				Comment: kind.DisplayName() + " over TLS (RFC 6764 §3)"},
			DNSRecord{RR: &dns.TXT{Hdr: hdr(name, dns.TypeTXT), Txt: []string{"path=" + u.Path}},
				Comment: "the context path (RFC 6764 §4)"},
			DNSRecord{RR: &dns.SRV{Hdr: hdr(plain, dns.TypeSRV), Target: "."},
				Comment: "not offered: " + kind.DisplayName() + " without TLS"},
		)
	}
	return out
}
