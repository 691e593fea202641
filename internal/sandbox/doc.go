// Package sandbox runs a small simulated mail internet inside one process,
// on loopback only, so that tests, benchmarks and `mailsetup demo` exercise
// the prober against real protocol traffic without touching the network:
//
//   - an authoritative DNS server (RFC 1035, miekg/dns) for the *.test zones
//     of the scenarios: A, MX, CNAME, TXT, TLSA and SRV (RFC 2782, 6186,
//     8314, including the "." target), the AD bit for signed zones (RFC 6840
//     §5.7), SERVFAIL, time-outs and hostile answers on demand;
//   - web services: Thunderbird autoconfig (config-v1.1, on autoconfig.DOMAIN
//     and /.well-known/autoconfig), Microsoft Autodiscover POX (MS-OXDSCLI:
//     POST, any letter case, redirectAddr, redirectUrl, the HTTP-redirect
//     method) and an ISPDB-style lookup service at https://ispdb.test/v1.1/;
//   - IMAP (RFC 9051/3501, go-imap v2 imapserver with its in-memory
//     backend), POP3 (RFC 1939, 2449, 2595, 5034: a small server of our own,
//     as there is no maintained Go one) and SMTP submission (RFC 6409, 8314,
//     4954, go-smtp, with AUTH PLAIN and a hand-written LOGIN), each with
//     implicit TLS, STARTTLS or none;
//   - a private CA (ECDSA P-256, limited by name constraints to .test) that
//     issues a certificate per host on first use, and bad ones on demand.
//
// # Addressing
//
// Every simulated host has its own address in 127.1.0.0/16 and its real
// standard ports (993, 143, 995, 110, 465, 587, 443, 80). The listeners sit
// elsewhere: in-process, one TCP listener on 127.0.0.1 carries every service,
// and the world's Dialer maps a plan address onto it, telling the listener
// which host and port were dialed in a 6-byte preamble. So the prober runs
// unprivileged and unmodified: it is handed World.Env(). A dial to an address
// outside the plan fails unless it is loopback. With Options.BindReal (root,
// Linux) each service binds its plan address and port for real, and the DNS
// server 127.53.0.1:53, for a program pointed there with --dns-server.
//
// # Round-trip model
//
// Options.Latency (plus a host's own Latency) is one round trip, charged so:
//
//   - a DNS answer: 1 (the AAAA and A questions of one name go in parallel);
//   - a TCP connect: 1, refused or not;
//   - the server's first write and every write that answers something it
//     read since its previous write: 1 each.
//
// Hence a TLS 1.3 handshake costs 1; a greeting costs 1 on plain TCP and 1
// after implicit TLS (the server writes it after reading the client's
// Finished); every command costs 1; an HTTPS GET from a cold start costs 4
// (DNS, connect, TLS, response). Session tickets are off, since Go would send
// them as a flight of their own that no client waits for.
//
// Each scenario's CriticalPath is counted under this model for a prober that
// starts every published source at once, resolves a host as soon as it learns
// its name, reads capabilities after TLS (IMAP's greeting carries them, POP3
// needs CAPA, SMTP needs EHLO), uses SASL initial responses, and logs in one
// account at a time, so one login waits for the other.
//
// # Passwords
//
// Each scenario has one test account. World.PasswordSeenBy reports whether
// its password reached a host in any form: every server records credentials
// before checking them, and a tap on each connection spots a password sent in
// the clear (raw, or in a base64 SASL token) even when the server library
// refuses it unread, as a LOGIN before STARTTLS is.
//
// # Calendars, contacts and JMAP
//
// A Site with DAV serves CalDAV at CalDAVPath and CardDAV at CardDAVPath
// through emersion/go-webdav's caldav and carddav servers, each account an
// empty home (DAVHomeSets), behind HTTP Basic for the scenario's account;
// WellKnownCalDAV and WellKnownCardDAV answer the RFC 6764 well-known URIs
// with a redirect; JMAP answers /.well-known/jmap with an RFC 8620 session
// object. Scenarios publish the SRV and TXT records in Records and say what
// a probe must find in Expectation.DAV.
package sandbox
