package sandbox

import (
	"github.com/mailsetup/mailsetup/autoconfig"
)

// Shorthands for the catalogue.
const (
	secTLS      = autoconfig.SecurityTLS
	secSTARTTLS = autoconfig.SecuritySTARTTLS
	secPlain    = autoconfig.SecurityPlain
)

// server is a published server entry: password login, the full address as
// username, as most providers publish it.
func server(p autoconfig.Protocol, host string, port int, sec autoconfig.Security) autoconfig.Server {
	return autoconfig.Server{
		Protocol: p, Hostname: host, Port: port, Security: sec,
		Auth: []autoconfig.AuthMethod{autoconfig.AuthPasswordCleartext}, Username: autoconfig.PlaceholderAddress,
	}
}

// settings is a provider's published settings for domain; servers are
// sorted into incoming and outgoing in the order given.
func settings(domain, name string, servers ...autoconfig.Server) *autoconfig.Provider {
	p := &autoconfig.Provider{ID: domain, Domains: []string{domain}, DisplayName: name, DisplayShortName: name}
	for _, s := range servers {
		if s.Protocol == autoconfig.SMTP {
			p.Outgoing = append(p.Outgoing, s)
		} else {
			p.Incoming = append(p.Incoming, s)
		}
	}
	return p
}

// want is an expected server: the published entry with the login name
// the server really accepts.
func want(s autoconfig.Server, login string) *autoconfig.Server {
	s.Username = login
	return &s
}

// Catalogue is every named scenario. Each CriticalPath is counted by hand
// under the round-trip model in doc.go; the comment beside it shows the
// count, one step per round trip, "‖" separating work done in parallel.
func Catalogue() []Scenario {
	const pw = "sandbox-Pa55-"
	var out []Scenario

	// demo: the provider every client dreams of.
	{
		d := "demo.test"
		in := server(autoconfig.IMAP, "imap.demo.test", 993, secTLS)
		out2 := server(autoconfig.SMTP, "smtp.demo.test", 465, secTLS)
		p := settings(d, "Demo Mail",
			in, server(autoconfig.IMAP, "imap.demo.test", 143, secSTARTTLS),
			server(autoconfig.POP3, "pop.demo.test", 995, secTLS), server(autoconfig.POP3, "pop.demo.test", 110, secSTARTTLS),
			out2, server(autoconfig.SMTP, "smtp.demo.test", 587, secSTARTTLS))
		p.Incoming[2].POP3 = &autoconfig.POP3Options{LeaveMessagesOnServer: true}
		p.Incoming[3].POP3 = &autoconfig.POP3Options{LeaveMessagesOnServer: true}
		out = append(out, Scenario{
			Name:        "demo",
			Description: "a good provider: IMAP, POP3 and SMTP on every standard port, SRV records and autoconfig that agree",
			Address:     "alice@demo.test", Password: pw + "demo",
			Expect: Expectation{Incoming: want(in, "alice@demo.test"), Outgoing: want(out2, "alice@demo.test"),
				Notes: "IMAP on 993 and submission on 465: implicit TLS beats STARTTLS (RFC 8314)"},
			// SRV _imaps+_submissions 1 → A imap.,smtp. 2 → connect 3 → TLS 4 →
			// greeting 5 → IMAP LOGIN 6 ‖ SMTP EHLO 6 → AUTH PLAIN 7 (logins
			// one at a time). Autoconfig (4) is in before the first login.
			CriticalPath: 7,
			Domains:      []string{d},
			Hosts: []Host{
				{Name: "imap.demo.test", Services: []Service{IMAPS(), IMAPStartTLS()}},
				{Name: "pop.demo.test", Services: []Service{POP3S(), POP3StartTLS()}},
				{Name: "smtp.demo.test", Services: []Service{Submissions(), Submission()}},
				{Name: "autoconfig.demo.test", Services: []Service{HTTPS(&Site{Autoconfig: p})}},
				{Name: "demo.test", Services: []Service{HTTPS(&Site{WellKnown: p})}},
			},
			Records: []string{
				"_imaps._tcp.demo.test. SRV 0 1 993 imap.demo.test.",
				"_imap._tcp.demo.test. SRV 10 1 143 imap.demo.test.",
				"_pop3s._tcp.demo.test. SRV 20 1 995 pop.demo.test.",
				"_pop3._tcp.demo.test. SRV 30 1 110 pop.demo.test.",
				"_submissions._tcp.demo.test. SRV 0 1 465 smtp.demo.test.",
				"_submission._tcp.demo.test. SRV 10 1 587 smtp.demo.test.",
			},
		})
	}

	// srv-only: RFC 6186/8314 SRV and nothing else, on hosts no guess finds.
	{
		in := server(autoconfig.IMAP, "mailstore.srv-only.test", 993, secTLS)
		o := server(autoconfig.SMTP, "outbound.srv-only.test", 465, secTLS)
		out = append(out, Scenario{
			Name:        "srv-only",
			Description: "only SRV records (_imaps, _submissions) name the servers, under names no guess tries",
			Address:     "alice@srv-only.test", Password: pw + "srv",
			Expect: Expectation{Incoming: want(in, "alice@srv-only.test"), Outgoing: want(o, "alice@srv-only.test"),
				Notes: "found by SRV alone; username unknown, the full address works"},
			// SRV 1 → A 2 → connect 3 → TLS 4 → greeting 5 → LOGIN 6 ‖ EHLO 6 → AUTH 7.
			CriticalPath: 7,
			Domains:      []string{"srv-only.test"},
			Hosts: []Host{
				{Name: "mailstore.srv-only.test", Services: []Service{IMAPS()}},
				{Name: "outbound.srv-only.test", Services: []Service{Submissions()}},
			},
			Records: []string{
				"_imaps._tcp.srv-only.test. SRV 0 1 993 mailstore.srv-only.test.",
				"_submissions._tcp.srv-only.test. SRV 0 1 465 outbound.srv-only.test.",
			},
		})
	}

	// slow-after-failure: servers that hold back every login after a wrong
	// password (issue 11).
	{
		in := server(autoconfig.IMAP, "imap.penalty.test", 993, secTLS)
		o := server(autoconfig.SMTP, "smtp.penalty.test", 465, secTLS)
		out = append(out, Scenario{
			Name:        "slow-after-failure",
			Description: "SRV names servers that refuse a wrong password at once and then answer no login at all, as Dovecot's growing penalty does within a probe's time",
			Address:     "alice@penalty.test", Password: pw + "penalty",
			Expect: Expectation{Incoming: want(in, "alice@penalty.test"), Outgoing: want(o, "alice@penalty.test"),
				Notes: "with a wrong password the first refusal is reported with the server's words; the next attempt gets no answer in the time left, which is said as such and is no refusal"},
			// SRV 1 → A 2 → connect 3 → TLS 4 → greeting 5 → LOGIN 6 ‖ EHLO 6 → AUTH 7.
			CriticalPath: 7,
			Domains:      []string{"penalty.test"},
			Hosts: []Host{
				{Name: "imap.penalty.test", Services: []Service{IMAPS().WithFault(FaultSilentAfterWrongPassword)}},
				{Name: "smtp.penalty.test", Services: []Service{Submissions().WithFault(FaultSilentAfterWrongPassword)}},
			},
			Records: []string{
				"_imaps._tcp.penalty.test. SRV 0 1 993 imap.penalty.test.",
				"_submissions._tcp.penalty.test. SRV 0 1 465 smtp.penalty.test.",
			},
		})
	}

	// srv-fast-web-silent: SRV servers proven at once, web hosts that never
	// answer (issue 11).
	{
		in := server(autoconfig.IMAP, "mail.webdead.test", 993, secTLS)
		o := server(autoconfig.SMTP, "mail.webdead.test", 465, secTLS)
		silent := HTTPS(&Site{}).WithFault(FaultBlackhole)
		out = append(out, Scenario{
			Name:        "srv-fast-web-silent",
			Description: "SRV names IMAP and SMTP with implicit TLS; the autoconfig, .well-known and Autodiscover hosts accept TCP and never answer",
			Address:     "alice@webdead.test", Password: pw + "webdead",
			Expect: Expectation{Incoming: want(in, "alice@webdead.test"), Outgoing: want(o, "alice@webdead.test"),
				Notes: "nothing the silent web hosts could say can outrank servers of the best class proven with a login: stop then, without waiting for them"},
			// SRV 1 → A 2 → connect 3 → TLS 4 → greeting 5 → LOGIN 6 ‖ EHLO 6 → AUTH 7.
			CriticalPath: 7,
			Domains:      []string{"webdead.test"},
			Hosts: []Host{
				{Name: "mail.webdead.test", Services: []Service{IMAPS(), Submissions()}},
				{Name: "autoconfig.webdead.test", Services: []Service{silent}},
				{Name: "webdead.test", Services: []Service{silent}},
				{Name: "autodiscover.webdead.test", Services: []Service{silent}},
			},
			Records: []string{
				"_imaps._tcp.webdead.test. SRV 0 1 993 mail.webdead.test.",
				"_submissions._tcp.webdead.test. SRV 0 1 465 mail.webdead.test.",
			},
		})
	}

	// autoconfig-only: autoconfig.DOMAIN and nothing else.
	{
		d := "autoconfig-only.test"
		in := server(autoconfig.IMAP, "in7.autoconfig-only.test", 993, secTLS)
		o := server(autoconfig.SMTP, "out7.autoconfig-only.test", 465, secTLS)
		p := settings(d, "Autoconfig Only", in, o)
		out = append(out, Scenario{
			Name:        "autoconfig-only",
			Description: "only https://autoconfig.DOMAIN/mail/config-v1.1.xml names the servers",
			Address:     "alice@autoconfig-only.test", Password: pw + "ac",
			Expect: Expectation{Incoming: want(in, "alice@autoconfig-only.test"), Outgoing: want(o, "alice@autoconfig-only.test"),
				Notes: "found by autoconfig alone"},
			// A autoconfig. 1 → connect 2 → TLS 3 → GET 4 → A in7.,out7. 5 →
			// connect 6 → TLS 7 → greeting 8 → LOGIN 9 ‖ EHLO 9 → AUTH 10.
			CriticalPath: 10,
			Domains:      []string{d},
			Hosts: []Host{
				{Name: "autoconfig.autoconfig-only.test", Services: []Service{HTTPS(&Site{Autoconfig: p})}},
				{Name: "in7.autoconfig-only.test", Services: []Service{IMAPS()}},
				{Name: "out7.autoconfig-only.test", Services: []Service{Submissions()}},
			},
		})
	}

	// wellknown-only: the domain's own /.well-known/autoconfig.
	{
		d := "wellknown-only.test"
		in := server(autoconfig.IMAP, "in.wellknown-only.test", 993, secTLS)
		o := server(autoconfig.SMTP, "out.wellknown-only.test", 465, secTLS)
		p := settings(d, "Well-known Only", in, o)
		out = append(out, Scenario{
			Name:        "wellknown-only",
			Description: "only https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml names the servers",
			Address:     "alice@wellknown-only.test", Password: pw + "wk",
			Expect: Expectation{Incoming: want(in, "alice@wellknown-only.test"), Outgoing: want(o, "alice@wellknown-only.test"),
				Notes: "found by the .well-known URL alone"},
			// A DOMAIN 1 → connect 2 → TLS 3 → GET 4 → A 5 → connect 6 → TLS 7 →
			// greeting 8 → LOGIN 9 ‖ EHLO 9 → AUTH 10.
			CriticalPath: 10,
			Domains:      []string{d},
			Hosts: []Host{
				{Name: d, Services: []Service{HTTPS(&Site{WellKnown: p})}},
				{Name: "in.wellknown-only.test", Services: []Service{IMAPS()}},
				{Name: "out.wellknown-only.test", Services: []Service{Submissions()}},
			},
		})
	}

	// autodiscover-redirect-addr: Autodiscover sends the client to another address.
	{
		target := "ad-target.test"
		in := server(autoconfig.IMAP, "post.ad-target.test", 993, secTLS)
		o := server(autoconfig.SMTP, "relay.ad-target.test", 465, secTLS)
		p := settings(target, "Autodiscover Target", in, o)
		login := "alice@ad-target.test"
		out = append(out, Scenario{
			Name:        "autodiscover-redirect-addr",
			Description: "Autodiscover on autodiscover.DOMAIN answers redirectAddr to an address at another domain, whose Autodiscover has the settings",
			Address:     "alice@ad-redirect.test", Username: login, Password: pw + "adaddr",
			Expect: Expectation{Incoming: want(in, login), Outgoing: want(o, login),
				Notes: "follow redirectAddr; the login name is the redirected address"},
			// POST autodiscover.ad-redirect.test: A 1 → connect 2 → TLS 3 →
			// POST 4 (redirectAddr) → POST autodiscover.ad-target.test: A 5 →
			// connect 6 → TLS 7 → POST 8 → A post.,relay. 9 → connect 10 →
			// TLS 11 → greeting 12 → LOGIN 13 ‖ EHLO 13 → AUTH 14.
			CriticalPath: 14,
			Domains:      []string{"ad-redirect.test", target},
			Hosts: []Host{
				{Name: "autodiscover.ad-redirect.test", Services: []Service{HTTPS(&Site{Autodiscover: &AutodiscoverAnswer{RedirectAddr: login}})}},
				{Name: "autodiscover.ad-target.test", Services: []Service{HTTPS(&Site{Autodiscover: &AutodiscoverAnswer{Settings: p}})}},
				{Name: "post.ad-target.test", Services: []Service{IMAPS()}},
				{Name: "relay.ad-target.test", Services: []Service{Submissions()}},
			},
		})
	}

	// autodiscover-redirect-url: Autodiscover sends the client to another URL.
	{
		hosting := "ad-url-hosting.test"
		in := server(autoconfig.IMAP, "mx-store.ad-url-hosting.test", 993, secTLS)
		o := server(autoconfig.SMTP, "mx-store.ad-url-hosting.test", 465, secTLS)
		p := settings(hosting, "Autodiscover Hosting", in, o)
		out = append(out, Scenario{
			Name:        "autodiscover-redirect-url",
			Description: "Autodiscover on the domain answers redirectUrl to the hoster's https endpoint, which has the settings",
			Address:     "alice@ad-url.test", Password: pw + "adurl",
			Expect: Expectation{Incoming: want(in, "alice@ad-url.test"), Outgoing: want(o, "alice@ad-url.test"),
				Notes: "follow redirectUrl (https only); no credentials go to Autodiscover"},
			// POST https://ad-url.test/...: A 1 → connect 2 → TLS 3 → POST 4
			// (redirectUrl) → A exchange. 5 → connect 6 → TLS 7 → POST 8 → A
			// mx-store. 9 → connect 10 → TLS 11 → greeting 12 → LOGIN 13 ‖
			// EHLO 13 → AUTH 14.
			CriticalPath: 14,
			Domains:      []string{"ad-url.test", hosting},
			Hosts: []Host{
				{Name: "ad-url.test", Services: []Service{HTTPS(&Site{Autodiscover: &AutodiscoverAnswer{
					RedirectURL: "https://exchange.ad-url-hosting.test/autodiscover/autodiscover.xml"}})}},
				{Name: "exchange.ad-url-hosting.test", Services: []Service{HTTPS(&Site{Autodiscover: &AutodiscoverAnswer{Settings: p}})}},
				{Name: "mx-store.ad-url-hosting.test", Services: []Service{IMAPS(), Submissions()}},
			},
		})
	}

	// autodiscover-http-redirect: Outlook's HTTP-redirect method.
	{
		hosting := "ad-http-hosting.test"
		in := server(autoconfig.IMAP, "mailhub.ad-http-hosting.test", 993, secTLS)
		o := server(autoconfig.SMTP, "mailhub.ad-http-hosting.test", 465, secTLS)
		p := settings(hosting, "Autodiscover via HTTP redirect", in, o)
		out = append(out, Scenario{
			Name:        "autodiscover-http-redirect",
			Description: "http://autodiscover.DOMAIN/autodiscover/autodiscover.xml answers 302 to the hoster's https endpoint, which takes the POST",
			Address:     "alice@ad-http.test", Password: pw + "adhttp",
			Expect: Expectation{Incoming: want(in, "alice@ad-http.test"), Outgoing: want(o, "alice@ad-http.test"), NeedsConsent: true,
				Notes: "the HTTP-redirect method: GET over http, then POST to the https target; autodiscover.DOMAIN has no https. " +
					"Anyone on the path could have written the redirect, and the target lies in another domain: Outlook asks before following it, and the password goes there only once the user confirms the host"},
			// GET http://autodiscover.: A 1 → connect 2 → GET 3 (302) → A
			// autodiscover.ad-http-hosting. 4 → connect 5 → TLS 6 → POST 7 → A
			// mailhub. 8 → connect 9 → TLS 10 → greeting 11 → LOGIN 12 ‖ EHLO
			// 12 → AUTH 13.
			CriticalPath: 13,
			Domains:      []string{"ad-http.test", hosting},
			Hosts: []Host{
				{Name: "autodiscover.ad-http.test", Services: []Service{HTTP(&Site{
					AutodiscoverRedirect: "https://autodiscover.ad-http-hosting.test/autodiscover/autodiscover.xml"})}},
				{Name: "autodiscover.ad-http-hosting.test", Services: []Service{HTTPS(&Site{Autodiscover: &AutodiscoverAnswer{Settings: p}})}},
				{Name: "mailhub.ad-http-hosting.test", Services: []Service{IMAPS(), Submissions()}},
			},
		})
	}

	// autoconfig-http-elsewhere: the autoconfig file only over plain http,
	// naming servers in another domain (issue 11).
	{
		hosting := "plainweb-hosting.test"
		in := server(autoconfig.IMAP, "imap.plainweb-hosting.test", 993, secTLS)
		o := server(autoconfig.SMTP, "smtp.plainweb-hosting.test", 465, secTLS)
		p := settings("plainweb.test", "Autoconfig over plain http", in, o)
		out = append(out, Scenario{
			Name:        "autoconfig-http-elsewhere",
			Description: "autoconfig.DOMAIN publishes its file only over plain http, naming IMAP and SMTP servers in another domain with valid certificates",
			Address:     "alice@plainweb.test", Password: pw + "plainweb",
			Expect: Expectation{Incoming: want(in, "alice@plainweb.test"), Outgoing: want(o, "alice@plainweb.test"), NeedsConsent: true,
				Notes: "anyone on the path (a café's Wi-Fi) can write an http answer: the servers are reported, not confirmed, and get no password unless the user confirms them"},
			// https: A autoconfig. 1 → connect refused 2; http: connect 3 →
			// GET 4 → A imap.,smtp. 5 → connect 6 → TLS 7 → greeting 8 →
			// LOGIN 9 ‖ EHLO 9 → AUTH 10.
			CriticalPath: 10,
			Domains:      []string{"plainweb.test", hosting},
			Hosts: []Host{
				{Name: "autoconfig.plainweb.test", Services: []Service{HTTP(&Site{Autoconfig: p})}},
				{Name: "imap.plainweb-hosting.test", Services: []Service{IMAPS()}},
				{Name: "smtp.plainweb-hosting.test", Services: []Service{Submissions()}},
			},
		})
	}

	// guessable: nothing published, standard host names.
	{
		in := server(autoconfig.IMAP, "imap.guessable.test", 993, secTLS)
		o := server(autoconfig.SMTP, "smtp.guessable.test", 465, secTLS)
		out = append(out, Scenario{
			Name:        "guessable",
			Description: "nothing published; imap. and smtp. answer on the standard ports",
			Address:     "alice@guessable.test", Password: pw + "guess",
			Expect: Expectation{Incoming: want(in, "alice@guessable.test"), Outgoing: want(o, "alice@guessable.test"),
				Notes: "only guessing finds them; guessing starts once every published source came back empty"},
			// Published sources empty by 4 (the ISPDB's 404: A 1 → connect 2 →
			// TLS 3 → GET 4; the rest NXDOMAIN at 1) → A imap.,smtp. 5 →
			// connect 6 → TLS 7 → greeting 8 → LOGIN 9 ‖ EHLO 9 → AUTH 10.
			CriticalPath: 10,
			Domains:      []string{"guessable.test"},
			Hosts: []Host{
				{Name: "imap.guessable.test", Services: []Service{IMAPS(), IMAPStartTLS()}},
				{Name: "smtp.guessable.test", Services: []Service{Submissions(), Submission()}},
			},
		})
	}

	// pop3-only: no IMAP, said plainly with SRV ".".
	{
		d := "pop3-only.test"
		in := server(autoconfig.POP3, "pop.pop3-only.test", 995, secTLS)
		in.POP3 = &autoconfig.POP3Options{LeaveMessagesOnServer: true}
		o := server(autoconfig.SMTP, "smtp.pop3-only.test", 465, secTLS)
		p := settings(d, "POP3 Only", in, server(autoconfig.POP3, "pop.pop3-only.test", 110, secSTARTTLS), o)
		out = append(out, Scenario{
			Name:        "pop3-only",
			Description: "POP3 (995, 110 with STLS) and no IMAP: SRV _imaps and _imap have target \".\"",
			Address:     "alice@pop3-only.test", Password: pw + "pop",
			Expect: Expectation{Incoming: want(in, "alice@pop3-only.test"), Outgoing: want(o, "alice@pop3-only.test"),
				Notes: "recommend POP3 with leave-on-server and say what IMAP would give; SRV \".\" means do not guess IMAP"},
			// SRV 1 → A 2 → connect 3 → TLS 4 → greeting 5 → CAPA 6 → AUTH
			// PLAIN 7 ‖ EHLO 6, then AUTH 8 after the POP3 login.
			CriticalPath: 8,
			Domains:      []string{d},
			Hosts: []Host{
				{Name: "pop.pop3-only.test", Services: []Service{POP3S(), POP3StartTLS()}},
				{Name: "smtp.pop3-only.test", Services: []Service{Submissions()}},
				{Name: "autoconfig.pop3-only.test", Services: []Service{HTTPS(&Site{Autoconfig: p})}},
			},
			Records: []string{
				"_imaps._tcp.pop3-only.test. SRV 0 0 0 .",
				"_imap._tcp.pop3-only.test. SRV 0 0 0 .",
				"_pop3s._tcp.pop3-only.test. SRV 0 1 995 pop.pop3-only.test.",
				"_pop3._tcp.pop3-only.test. SRV 10 1 110 pop.pop3-only.test.",
				"_submissions._tcp.pop3-only.test. SRV 0 1 465 smtp.pop3-only.test.",
			},
		})
	}

	// starttls-only: no implicit TLS anywhere.
	{
		d := "starttls-only.test"
		in := server(autoconfig.IMAP, "imap.starttls-only.test", 143, secSTARTTLS)
		o := server(autoconfig.SMTP, "smtp.starttls-only.test", 587, secSTARTTLS)
		p := settings(d, "STARTTLS Only", in, o)
		out = append(out, Scenario{
			Name:        "starttls-only",
			Description: "IMAP 143 and submission 587 with STARTTLS; 993 and 465 are closed (SRV \".\")",
			Address:     "alice@starttls-only.test", Password: pw + "stls",
			Expect: Expectation{Incoming: want(in, "alice@starttls-only.test"), Outgoing: want(o, "alice@starttls-only.test"),
				Notes: "STARTTLS is fine when the client insists on it; capabilities must be read again after TLS"},
			// SRV 1 → A 2 → connect 3 → greeting 4 → STARTTLS 5 → TLS 6 →
			// CAPABILITY 7 → LOGIN 8 ‖ SMTP greeting 4 → EHLO 5 → STARTTLS 6
			// → TLS 7 → EHLO 8 → AUTH 9.
			CriticalPath: 9,
			Domains:      []string{d},
			Hosts: []Host{
				{Name: "imap.starttls-only.test", Services: []Service{IMAPStartTLS()}},
				{Name: "smtp.starttls-only.test", Services: []Service{Submission()}},
				{Name: "autoconfig.starttls-only.test", Services: []Service{HTTPS(&Site{Autoconfig: p})}},
			},
			Records: []string{
				"_imaps._tcp.starttls-only.test. SRV 0 0 0 .",
				"_imap._tcp.starttls-only.test. SRV 0 1 143 imap.starttls-only.test.",
				"_submissions._tcp.starttls-only.test. SRV 0 0 0 .",
				"_submission._tcp.starttls-only.test. SRV 0 1 587 smtp.starttls-only.test.",
			},
		})
	}

	// bad-cert-993: the implicit-TLS ports present bad certificates.
	{
		d := "badcert.test"
		in := server(autoconfig.IMAP, "imap.badcert.test", 143, secSTARTTLS)
		o := server(autoconfig.SMTP, "smtp.badcert.test", 587, secSTARTTLS)
		p := settings(d, "Bad Certificates",
			server(autoconfig.IMAP, "imap.badcert.test", 993, secTLS), in,
			server(autoconfig.SMTP, "smtp.badcert.test", 465, secTLS), o)
		out = append(out, Scenario{
			Name:        "bad-cert-993",
			Description: "993 presents a certificate for another name and 465 an expired one; 143 and 587 have good ones",
			Address:     "alice@badcert.test", Password: pw + "cert",
			Expect: Expectation{Incoming: want(in, "alice@badcert.test"), Outgoing: want(o, "alice@badcert.test"),
				Notes: "no password may reach 993 or 465; report the names the bad certificate covers (mail.shared-hosting.test)"},
			// A autoconfig. 1 → connect 2 → TLS 3 → GET 4 → A 5 → connect 6 →
			// greeting 7 → STARTTLS 8 → TLS 9 → CAPABILITY 10 → LOGIN 11 ‖
			// SMTP greeting 7 → EHLO 8 → STARTTLS 9 → TLS 10 → EHLO 11 → AUTH 12.
			CriticalPath: 12,
			Domains:      []string{d},
			Hosts: []Host{
				{Name: "imap.badcert.test", Services: []Service{IMAPS().WithCert(CertWrongName), IMAPStartTLS()}},
				{Name: "smtp.badcert.test", Services: []Service{Submissions().WithCert(CertExpired), Submission()}},
				{Name: "autoconfig.badcert.test", Services: []Service{HTTPS(&Site{Autoconfig: p})}},
			},
		})
	}

	// srv-autoconfig-disagree: two sources, two answers, both working.
	{
		d := "disagree.test"
		in := server(autoconfig.IMAP, "imap-new.disagree.test", 993, secTLS)
		o := server(autoconfig.SMTP, "smtp-new.disagree.test", 465, secTLS)
		p := settings(d, "Disagreeing Sources", in, o)
		out = append(out, Scenario{
			Name:        "srv-autoconfig-disagree",
			Description: "SRV names imap-old/smtp-old, autoconfig names imap-new/smtp-new; all four work",
			Address:     "alice@disagree.test", Password: pw + "dis",
			Expect: Expectation{Incoming: want(in, "alice@disagree.test"), Outgoing: want(o, "alice@disagree.test"),
				Notes: "when both verify, autoconfig wins (it names username and authentication); report the disagreement"},
			// Autoconfig: A 1 → connect 2 → TLS 3 → GET 4 → A imap-new. 5 →
			// connect 6 → TLS 7 → greeting 8 → LOGIN 9 ‖ EHLO 9 → AUTH 10.
			CriticalPath: 10,
			Domains:      []string{d},
			Hosts: []Host{
				{Name: "imap-old.disagree.test", Services: []Service{IMAPS()}},
				{Name: "smtp-old.disagree.test", Services: []Service{Submissions()}},
				{Name: "imap-new.disagree.test", Services: []Service{IMAPS()}},
				{Name: "smtp-new.disagree.test", Services: []Service{Submissions()}},
				{Name: "autoconfig.disagree.test", Services: []Service{HTTPS(&Site{Autoconfig: p})}},
			},
			Records: []string{
				"_imaps._tcp.disagree.test. SRV 0 1 993 imap-old.disagree.test.",
				"_submissions._tcp.disagree.test. SRV 0 1 465 smtp-old.disagree.test.",
			},
		})
	}

	// blackholed-preferred: the most preferred hosts never answer.
	{
		in := server(autoconfig.IMAP, "imap2.blackhole.test", 993, secTLS)
		o := server(autoconfig.SMTP, "smtp2.blackhole.test", 465, secTLS)
		out = append(out, Scenario{
			Name:        "blackholed-preferred",
			Description: "the priority-0 SRV targets are dead: imap1 accepts and never speaks, smtp1 never completes the connect; the priority-10 ones work",
			Address:     "alice@blackhole.test", Password: pw + "bh",
			Expect: Expectation{Incoming: want(in, "alice@blackhole.test"), Outgoing: want(o, "alice@blackhole.test"),
				Notes: "costs at most one timeout in total, not one per candidate: probe the SRV targets in parallel"},
			// SRV 1 → A imap1,imap2,smtp1,smtp2 2 → connect 3 → TLS 4 →
			// greeting 5 → LOGIN 6 ‖ EHLO 6 → AUTH 7; plus the prober's own
			// timeout for imap1/smtp1 if it waits for them, not counted.
			CriticalPath: 7,
			Domains:      []string{"blackhole.test"},
			Hosts: []Host{
				{Name: "imap1.blackhole.test", Services: []Service{IMAPS().WithFault(FaultBlackhole)}},
				{Name: "imap2.blackhole.test", Services: []Service{IMAPS()}},
				{Name: "smtp1.blackhole.test", Services: []Service{Submissions().WithFault(FaultUnreachable)}},
				{Name: "smtp2.blackhole.test", Services: []Service{Submissions()}},
			},
			Records: []string{
				"_imaps._tcp.blackhole.test. SRV 0 1 993 imap1.blackhole.test.",
				"_imaps._tcp.blackhole.test. SRV 10 1 993 imap2.blackhole.test.",
				"_submissions._tcp.blackhole.test. SRV 0 1 465 smtp1.blackhole.test.",
				"_submissions._tcp.blackhole.test. SRV 10 1 465 smtp2.blackhole.test.",
			},
		})
	}

	// mx-big-provider: a domain hosted at a provider the ISPDB knows.
	{
		big := "bigmail.test"
		in := server(autoconfig.IMAP, "imap.bigmail.test", 993, secTLS)
		o := server(autoconfig.SMTP, "smtp.bigmail.test", 465, secTLS)
		p := settings(big, "BigMail", in, o)
		out = append(out, Scenario{
			Name:        "mx-big-provider",
			Description: "the domain publishes only MX records, pointing at mx1.bigmail.test; the ISPDB knows bigmail.test",
			Address:     "alice@hosted-at-bigmail.test", Password: pw + "mx",
			Expect: Expectation{Incoming: want(in, "alice@hosted-at-bigmail.test"), Outgoing: want(o, "alice@hosted-at-bigmail.test"),
				Notes: "MX → registrable domain (bigmail.test) → ISPDB; the MX host itself is no IMAP server"},
			// MX 1 (A ispdb.test 1, in parallel) → connect 2 → TLS 3 → GET
			// /v1.1/bigmail.test 4 → A imap.,smtp.bigmail.test 5 → connect 6 →
			// TLS 7 → greeting 8 → LOGIN 9 ‖ EHLO 9 → AUTH 10.
			CriticalPath: 10,
			Domains:      []string{"hosted-at-bigmail.test", big},
			Hosts: []Host{
				{Name: "mx1.bigmail.test"},
				{Name: "imap.bigmail.test", Services: []Service{IMAPS()}},
				{Name: "smtp.bigmail.test", Services: []Service{Submissions()}},
			},
			Records: []string{"hosted-at-bigmail.test. MX 10 mx1.bigmail.test."},
			ISPDB:   []*autoconfig.Provider{p},
		})
	}

	// nothing: a domain with no mail service at all.
	out = append(out, Scenario{
		Name:        "nothing",
		Description: "the domain has an address and nothing else: no records, no web, every mail port refused",
		Address:     "alice@nothing.test", Password: pw + "none",
		Expect: Expectation{Notes: "nothing works: say what was tried (exit 3)"},
		// Published sources empty by 4 (the ISPDB's 404) → A of the guesses 5
		// → every connect refused 6.
		CriticalPath: 6,
		Domains:      []string{"nothing.test"},
		Hosts:        []Host{{Name: "nothing.test"}},
	})

	// plaintext-only: servers without any TLS.
	{
		d := "plaintext.test"
		p := settings(d, "Plaintext Only",
			server(autoconfig.IMAP, "imap.plaintext.test", 143, secPlain),
			server(autoconfig.SMTP, "smtp.plaintext.test", 587, secPlain))
		out = append(out, Scenario{
			Name:        "plaintext-only",
			Description: "IMAP 143 and submission 587 without STARTTLS; autoconfig publishes them as plain",
			Address:     "alice@plaintext.test", Password: pw + "plain",
			Expect: Expectation{Notes: "only insecure servers work: recommend nothing without --allow-plaintext (exit 5); no password may reach them"},
			// A autoconfig. 1 → connect 2 → TLS 3 → GET 4 → A 5 → connect 6 →
			// greeting 7 (no STARTTLS) ‖ SMTP greeting 7 → EHLO 8 (no STARTTLS).
			CriticalPath: 8,
			Domains:      []string{d},
			Hosts: []Host{
				{Name: "imap.plaintext.test", Services: []Service{IMAPPlain()}},
				{Name: "smtp.plaintext.test", Services: []Service{SubmissionPlain()}},
				{Name: "autoconfig.plaintext.test", Services: []Service{HTTPS(&Site{Autoconfig: p})}},
			},
		})
	}

	// starttls-broken: STARTTLS advertised, then refused.
	out = append(out, Scenario{
		Name:        "starttls-broken",
		Description: "IMAP 143, POP3 110 and submission 587 advertise STARTTLS/STLS and then answer it with an error",
		Address:     "alice@brokentls.test", Password: pw + "broken",
		Expect: Expectation{Notes: "a failed STARTTLS is a security finding, not a reason to fall back to plaintext; no password may reach any host"},
		// SRV 1 → A 2 → connect 3 → greeting 4 → STARTTLS refused 5 ‖ SMTP
		// greeting 4 → EHLO 5 → STARTTLS refused 6.
		CriticalPath: 6,
		Domains:      []string{"brokentls.test"},
		Hosts: []Host{
			{Name: "imap.brokentls.test", Services: []Service{IMAPStartTLS().WithFault(FaultSTARTTLSFails)}},
			{Name: "pop.brokentls.test", Services: []Service{POP3StartTLS().WithFault(FaultSTARTTLSFails)}},
			{Name: "smtp.brokentls.test", Services: []Service{Submission().WithFault(FaultSTARTTLSFails)}},
		},
		Records: []string{
			"_imap._tcp.brokentls.test. SRV 0 1 143 imap.brokentls.test.",
			"_pop3._tcp.brokentls.test. SRV 0 1 110 pop.brokentls.test.",
			"_submission._tcp.brokentls.test. SRV 0 1 587 smtp.brokentls.test.",
		},
	})

	// dns-trouble: the DNS server fails some questions.
	{
		d := "dnsfail.test"
		in := server(autoconfig.IMAP, "store.dnsfail.test", 993, secTLS)
		o := server(autoconfig.SMTP, "send.dnsfail.test", 465, secTLS)
		p := settings(d, "DNS Trouble", in, o)
		out = append(out, Scenario{
			Name:        "dns-trouble",
			Description: "every SRV question for the domain gets SERVFAIL and the MX question is never answered; autoconfig works",
			Address:     "alice@dnsfail.test", Password: pw + "dns",
			Expect: Expectation{Incoming: want(in, "alice@dnsfail.test"), Outgoing: want(o, "alice@dnsfail.test"),
				Notes: "report the failed lookups and go on; the MX time-out must not hold the result back, MX-based findings cannot outrank autoconfig"},
			// A autoconfig. 1 → connect 2 → TLS 3 → GET 4 → A 5 → connect 6 →
			// TLS 7 → greeting 8 → LOGIN 9 ‖ EHLO 9 → AUTH 10.
			CriticalPath: 10,
			Domains:      []string{d},
			Hosts: []Host{
				{Name: "autoconfig.dnsfail.test", Services: []Service{HTTPS(&Site{Autoconfig: p})}},
				{Name: "store.dnsfail.test", Services: []Service{IMAPS()}},
				{Name: "send.dnsfail.test", Services: []Service{Submissions()}},
			},
			DNSFaults: []DNSFault{
				{Name: "_imaps._tcp.dnsfail.test", Kind: DNSServFail},
				{Name: "_imap._tcp.dnsfail.test", Kind: DNSServFail},
				{Name: "_pop3s._tcp.dnsfail.test", Kind: DNSServFail},
				{Name: "_pop3._tcp.dnsfail.test", Kind: DNSServFail},
				{Name: "_submissions._tcp.dnsfail.test", Kind: DNSServFail},
				{Name: "_submission._tcp.dnsfail.test", Kind: DNSServFail},
				{Name: "_autodiscover._tcp.dnsfail.test", Kind: DNSServFail},
				{Name: "dnsfail.test", Type: "MX", Kind: DNSTimeout},
			},
		})
	}

	// dnssec-signed: SRV answers come back authenticated.
	{
		in := server(autoconfig.IMAP, "imap.signed.test", 993, secTLS)
		o := server(autoconfig.SMTP, "smtp.signed.test", 465, secTLS)
		out = append(out, Scenario{
			Name:        "dnssec-signed",
			Description: "a DNSSEC-signed zone: answers carry the AD bit to a client that asks with AD or DO; TLSA records (DANE-EE on 993, DANE-TA on 465) match the certificates",
			Address:     "alice@signed.test", Password: pw + "sig",
			Expect: Expectation{Incoming: want(in, "alice@signed.test"), Outgoing: want(o, "alice@signed.test"),
				Notes: "mark the SRV finding as DNSSEC-authenticated (the AD bit from a loopback resolver); the TLSA records match"},
			// SRV 1 → A 2 → connect 3 → TLS 4 → greeting 5 → LOGIN 6 ‖ EHLO 6 → AUTH 7.
			CriticalPath: 7,
			Domains:      []string{"signed.test"},
			Signed:       true,
			Hosts: []Host{
				{Name: "imap.signed.test", Services: []Service{IMAPS()}},
				{Name: "smtp.signed.test", Services: []Service{Submissions()}},
			},
			Records: []string{
				"_imaps._tcp.signed.test. SRV 0 1 993 imap.signed.test.",
				"_submissions._tcp.signed.test. SRV 0 1 465 smtp.signed.test.",
				"_993._tcp.imap.signed.test. TLSA 3 1 1 " + PlaceholderLeafSPKI,
				"_465._tcp.smtp.signed.test. TLSA 2 0 1 " + PlaceholderCACert,
			},
		})
	}

	// hostile-dns: answers meant to hang or exhaust a resolver.
	{
		d := "hostile-dns.test"
		in := server(autoconfig.IMAP, "in.hostile-dns.test", 993, secTLS)
		o := server(autoconfig.SMTP, "out.hostile-dns.test", 465, secTLS)
		p := settings(d, "Hostile DNS", in, o)
		out = append(out, Scenario{
			Name:        "hostile-dns",
			Description: "_imaps and _submissions answer with 2000 SRV records each, autoconfig.DOMAIN is a CNAME loop; .well-known has the settings",
			Address:     "alice@hostile-dns.test", Password: pw + "hdns",
			Expect: Expectation{Incoming: want(in, "alice@hostile-dns.test"), Outgoing: want(o, "alice@hostile-dns.test"),
				Notes: "the hostile answers give clear errors and no hang; the .well-known settings win"},
			// .well-known: A 1 → connect 2 → TLS 3 → GET 4 → A 5 → connect 6 →
			// TLS 7 → greeting 8 → LOGIN 9 ‖ EHLO 9 → AUTH 10.
			CriticalPath: 10,
			Domains:      []string{d},
			Hosts: []Host{
				{Name: d, Services: []Service{HTTPS(&Site{WellKnown: p})}},
				{Name: "in.hostile-dns.test", Services: []Service{IMAPS()}},
				{Name: "out.hostile-dns.test", Services: []Service{Submissions()}},
			},
			Records: []string{
				"autoconfig.hostile-dns.test. CNAME loop.hostile-dns.test.",
				"loop.hostile-dns.test. CNAME autoconfig.hostile-dns.test.",
			},
			DNSFaults: []DNSFault{
				{Name: "_imaps._tcp.hostile-dns.test", Type: "SRV", Kind: DNSHugeSRV},
				{Name: "_submissions._tcp.hostile-dns.test", Type: "SRV", Kind: DNSHugeSRV},
			},
		})
	}

	// hostile-servers: preferred servers that misbehave in every way.
	{
		d := "hostile-servers.test"
		in := server(autoconfig.IMAP, "imap-e.hostile-servers.test", 993, secTLS)
		o := server(autoconfig.SMTP, "smtp-b.hostile-servers.test", 465, secTLS)
		p := settings(d, "Hostile Servers",
			server(autoconfig.IMAP, "imap-a.hostile-servers.test", 993, secTLS),
			server(autoconfig.IMAP, "imap-b.hostile-servers.test", 993, secTLS),
			server(autoconfig.IMAP, "imap-c.hostile-servers.test", 993, secTLS),
			server(autoconfig.IMAP, "imap-d.hostile-servers.test", 993, secTLS),
			in,
			server(autoconfig.SMTP, "smtp-a.hostile-servers.test", 465, secTLS),
			o)
		out = append(out, Scenario{
			Name: "hostile-servers",
			Description: "autoconfig lists four bad IMAP servers before the good one (close in greeting, endless line, " +
				"1 MiB line, self-signed certificate) and a bad SMTP server (endless line) before the good one",
			Address: "alice@hostile-servers.test", Password: pw + "hsrv",
			Expect: Expectation{Incoming: want(in, "alice@hostile-servers.test"), Outgoing: want(o, "alice@hostile-servers.test"),
				Notes: "bounded lines and time; no password to the self-signed imap-d"},
			// A autoconfig. 1 → connect 2 → TLS 3 → GET 4 → A 5 → connect 6 →
			// TLS 7 → greeting 8 → LOGIN 9 ‖ EHLO 9 → AUTH 10.
			CriticalPath: 10,
			Domains:      []string{d},
			Hosts: []Host{
				{Name: "autoconfig.hostile-servers.test", Services: []Service{HTTPS(&Site{Autoconfig: p})}},
				{Name: "imap-a.hostile-servers.test", Services: []Service{IMAPS().WithFault(FaultCloseInGreeting)}},
				{Name: "imap-b.hostile-servers.test", Services: []Service{IMAPS().WithFault(FaultEndlessLine)}},
				{Name: "imap-c.hostile-servers.test", Services: []Service{IMAPS().WithFault(FaultOversizedLine)}},
				{Name: "imap-d.hostile-servers.test", Services: []Service{IMAPS().WithCert(CertSelfSigned)}},
				{Name: "imap-e.hostile-servers.test", Services: []Service{IMAPS()}},
				{Name: "smtp-a.hostile-servers.test", Services: []Service{Submissions().WithFault(FaultEndlessLine)}},
				{Name: "smtp-b.hostile-servers.test", Services: []Service{Submissions()}},
			},
		})
	}

	// username-localpart: the login is the local part only.
	{
		d := "localpart.test"
		in := server(autoconfig.IMAP, "imap.localpart.test", 993, secTLS)
		in.Username = autoconfig.PlaceholderLocalPart
		o := server(autoconfig.SMTP, "smtp.localpart.test", 465, secTLS)
		o.Username = autoconfig.PlaceholderLocalPart
		p := settings(d, "Local-part Logins", in, o)
		out = append(out, Scenario{
			Name:        "username-localpart",
			Description: "autoconfig says the username is %EMAILLOCALPART%; the servers refuse the full address",
			Address:     "alice@localpart.test", Username: "alice", Password: pw + "lp",
			Expect: Expectation{Incoming: want(in, "alice"), Outgoing: want(o, "alice"),
				Notes: "use the published username template; the full address would be refused"},
			// A autoconfig. 1 → connect 2 → TLS 3 → GET 4 → A 5 → connect 6 →
			// TLS 7 → greeting 8 → LOGIN 9 ‖ EHLO 9 → AUTH 10.
			CriticalPath: 10,
			Domains:      []string{d},
			Hosts: []Host{
				{Name: "autoconfig.localpart.test", Services: []Service{HTTPS(&Site{Autoconfig: p})}},
				{Name: "imap.localpart.test", Services: []Service{IMAPS()}},
				{Name: "smtp.localpart.test", Services: []Service{Submissions()}},
			},
		})
	}
	// calendar-contacts: mail, calendars, contacts and JMAP, each published
	// the RFC 6764 / RFC 8620 way.
	{
		d := "groupware.test"
		in := server(autoconfig.IMAP, "imap.groupware.test", 993, secTLS)
		o := server(autoconfig.SMTP, "smtp.groupware.test", 465, secTLS)
		_, calHome, _, cardHome := DAVHomeSets("alice")
		out = append(out, Scenario{
			Name:        "calendar-contacts",
			Description: "IMAP and SMTP by SRV; CalDAV and CardDAV by SRV with TXT path= and by .well-known redirects; JMAP by SRV and by .well-known",
			Address:     "alice@groupware.test", Password: pw + "gw",
			Expect: Expectation{Incoming: want(in, "alice@groupware.test"), Outgoing: want(o, "alice@groupware.test"),
				Notes: "find the calendar and address-book homes after a login (RFC 6764, 4791, 6352), and the JMAP session (RFC 8620); the _caldav record for plain http is reported, never used",
				DAV: []DAVExpectation{
					{Kind: "caldav", URL: "https://dav.groupware.test" + CalDAVPath, Home: "https://dav.groupware.test" + calHome},
					{Kind: "carddav", URL: "https://dav.groupware.test" + CardDAVPath, Home: "https://dav.groupware.test" + cardHome},
					{Kind: "jmap", URL: "https://jmap.groupware.test/.well-known/jmap", Home: "https://jmap.groupware.test" + jmapAPIPath},
				}},
			// As srv-only for the mail: SRV 1 → A 2 → connect 3 → TLS 4 →
			// greeting 5 → LOGIN 6 ‖ EHLO 6 → AUTH 7. Then, one login at a
			// time: CalDAV connect 8 → TLS 9 → PROPFIND 10 → PROPFIND
			// principal 11; CardDAV on the same connection 12 → 13; JMAP
			// connect 14 → TLS 15 → GET 16.
			CriticalPath: 16,
			Domains:      []string{d},
			Hosts: []Host{
				{Name: "imap.groupware.test", Services: []Service{IMAPS()}},
				{Name: "smtp.groupware.test", Services: []Service{Submissions()}},
				{Name: d, Services: []Service{HTTPS(&Site{JMAP: true,
					WellKnownCalDAV: "https://dav.groupware.test" + CalDAVPath, WellKnownCardDAV: "https://dav.groupware.test" + CardDAVPath})}},
				{Name: "dav.groupware.test", Services: []Service{HTTPS(&Site{DAV: true}), HTTP(&Site{DAV: true})}},
				{Name: "jmap.groupware.test", Services: []Service{HTTPS(&Site{JMAP: true})}},
			},
			Records: []string{
				"_imaps._tcp.groupware.test. SRV 0 1 993 imap.groupware.test.",
				"_submissions._tcp.groupware.test. SRV 0 1 465 smtp.groupware.test.",
				"_caldavs._tcp.groupware.test. SRV 0 1 443 dav.groupware.test.",
				`_caldavs._tcp.groupware.test. TXT "path=` + CalDAVPath + `"`,
				"_carddavs._tcp.groupware.test. SRV 0 1 443 dav.groupware.test.",
				`_carddavs._tcp.groupware.test. TXT "path=` + CardDAVPath + `"`,
				"_caldav._tcp.groupware.test. SRV 0 1 80 dav.groupware.test.",
				"_jmap._tcp.groupware.test. SRV 0 1 443 jmap.groupware.test.",
			},
		})
	}

	// dav-elsewhere: the calendar and contacts server lies in another
	// domain, named only by SRV records without DNSSEC (no TXT: the
	// well-known URI on the target redirects to the context path).
	{
		d := "dav-elsewhere.test"
		in := server(autoconfig.IMAP, "imap.dav-elsewhere.test", 993, secTLS)
		o := server(autoconfig.SMTP, "smtp.dav-elsewhere.test", 465, secTLS)
		_, calHome, _, cardHome := DAVHomeSets("alice")
		host := "https://cloud.dav-hosting.test"
		out = append(out, Scenario{
			Name:        "dav-elsewhere",
			Description: "CalDAV and CardDAV at a host in another domain, named by SRV records without DNSSEC",
			Address:     "alice@dav-elsewhere.test", Password: pw + "dav",
			Expect: Expectation{Incoming: want(in, "alice@dav-elsewhere.test"), Outgoing: want(o, "alice@dav-elsewhere.test"),
				Notes: "the DAV host is reported but gets no password without the user's consent (--trust-host); with it, the homes are found",
				DAV: []DAVExpectation{
					{Kind: "caldav", URL: host + CalDAVPath, Home: host + calHome, NeedsConsent: true},
					{Kind: "carddav", URL: host + CardDAVPath, Home: host + cardHome, NeedsConsent: true},
				}},
			// Mail as srv-only (7); then CalDAV connect 8 → TLS 9 → PROPFIND
			// 10 → PROPFIND principal 11; CardDAV 12 → 13.
			CriticalPath: 13,
			Domains:      []string{d, "dav-hosting.test"},
			Hosts: []Host{
				{Name: "imap.dav-elsewhere.test", Services: []Service{IMAPS()}},
				{Name: "smtp.dav-elsewhere.test", Services: []Service{Submissions()}},
				{Name: "cloud.dav-hosting.test", Services: []Service{HTTPS(&Site{DAV: true,
					WellKnownCalDAV: host + CalDAVPath, WellKnownCardDAV: host + CardDAVPath})}},
			},
			Records: []string{
				"_imaps._tcp.dav-elsewhere.test. SRV 0 1 993 imap.dav-elsewhere.test.",
				"_submissions._tcp.dav-elsewhere.test. SRV 0 1 465 smtp.dav-elsewhere.test.",
				"_caldavs._tcp.dav-elsewhere.test. SRV 0 1 443 cloud.dav-hosting.test.",
				"_carddavs._tcp.dav-elsewhere.test. SRV 0 1 443 cloud.dav-hosting.test.",
			},
		})
	}
	return out
}
