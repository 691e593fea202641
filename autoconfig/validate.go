package autoconfig

import (
	"fmt"
	"strings"
)

// Validate is the model's one check of values from outside, made before
// any file is written: the readers of config-v1.1 and Autodiscover run it
// (through the same checks), and every other source of a Provider — a
// saved report (--from), SRV targets, the serve YAML, a batch row — calls
// it before handing the Provider on. It reports what would make a written
// file unusable or let a value write more than itself:
//   - no domain, no provider id, no incoming server;
//   - a server without a host, a port from 1 to 65535, a known security or
//     an authentication method;
//   - a host name that ParseHostname refuses, or one not stored in the form
//     it returns (lower case, A-labels, no trailing dot); placeholders such
//     as mail.%EMAILDOMAIN% are judged as filled in;
//   - a domain that ParseDomain refuses;
//   - a line break or other control character in any text that reaches a
//     file: display names, usernames, URLs, link texts, OAuth2 values;
//   - a calendar or contacts service whose URL ParseDAVURL refuses or that
//     is not stored in the form it returns.
//
// The error wraps ErrMalformed (and ErrBadHostname for a host name,
// ErrControlCharacter for a text), quotes
// the bad value and says what to write instead.
func (p *Provider) Validate() error {
	if len(p.Domains) == 0 {
		return fmt.Errorf("%w: the settings name no domain", ErrMalformed)
	}
	if p.ID == "" {
		return fmt.Errorf("%w: the settings have no provider id", ErrMalformed)
	}
	if len(p.Incoming) == 0 {
		return fmt.Errorf("%w: the settings have no incoming server", ErrMalformed)
	}
	for _, d := range p.Domains {
		if ascii, err := ParseDomain(d); err != nil || ascii.ASCII != d {
			return fmt.Errorf("%w: the domain %q is not a domain name in lower-case ASCII (A-label) form, such as example.com", ErrMalformed, d)
		}
	}
	texts := []struct{ what, value string }{
		{"the provider id", p.ID},
		{"the provider's display name", p.DisplayName},
		{"the provider's short name", p.DisplayShortName},
	}
	if o := p.OAuth2; o != nil {
		if err := o.checkOneLine(); err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	links := append([]Link(nil), p.Documentation...)
	if p.Enable != nil {
		links = append(links, *p.Enable)
	}
	for _, l := range links {
		texts = append(texts, struct{ what, value string }{"a link", l.URL})
		for _, d := range l.Descriptions {
			texts = append(texts, struct{ what, value string }{"a link's text", d.Text}, struct{ what, value string }{"a link's language", d.Lang})
		}
	}
	for _, t := range texts {
		if err := CheckOneLine(t.what, t.value); err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	for _, s := range append(append([]Server(nil), p.Incoming...), p.Outgoing...) {
		if s.Hostname == "" || s.Port < 1 || s.Port > 65535 || !s.Security.Valid() || len(s.Auth) == 0 {
			return fmt.Errorf("%w: %s server %q:%d lacks a host, a port from 1 to 65535, a security or an authentication method",
				ErrMalformed, s.Protocol.DisplayName(), s.Hostname, s.Port)
		}
		if err := s.validate(); err != nil {
			return err
		}
	}
	for _, s := range p.Others {
		if err := s.validate(); err != nil {
			return err
		}
	}
	for _, s := range p.DAV {
		if err := s.validate(); err != nil {
			return err
		}
	}
	return nil
}

// validate checks a server's host name (when it has one) and texts.
func (s Server) validate() error {
	if s.Hostname != "" {
		host, err := checkHostTemplate(s.Hostname)
		if err != nil {
			return fmt.Errorf("%w: %s server: %w", ErrMalformed, s.Protocol.DisplayName(), err)
		}
		if host != s.Hostname {
			return fmt.Errorf("%w: %s server: the host name %q is not stored as %q (lower case, A-label form): pass it through ParseHostname first", ErrMalformed, s.Protocol.DisplayName(), s.Hostname, host)
		}
	}
	for _, t := range []struct{ what, value string }{
		{"the protocol", string(s.Protocol)}, {"the username", s.Username}, {"the URL", s.URL}, {"the restriction", s.Restriction},
	} {
		if err := CheckOneLine(s.Protocol.DisplayName()+" server: "+t.what, t.value); err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	for _, a := range s.Auth {
		if err := CheckOneLine(s.Protocol.DisplayName()+" server: the authentication method", string(a)); err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	return nil
}

// checkHostTemplate runs ParseHostname on a host name that may hold
// config-v1.1 placeholders (the ISPDB writes mail.%EMAILDOMAIN%): they are
// judged as filled in with a valid domain. It returns the A-label form of
// a name without placeholders, and the template as it is otherwise.
func checkHostTemplate(host string) (string, error) {
	if !strings.Contains(host, "%") {
		return ParseHostname(host)
	}
	if err := CheckTemplate(host); err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadHostname, err)
	}
	filled := strings.NewReplacer(PlaceholderDomain, "example.com", PlaceholderLocalPart, "user", PlaceholderAddress, "user@example.com").Replace(host)
	if _, err := ParseHostname(filled); err != nil {
		return "", fmt.Errorf("%w: %q filled in for an address at example.com becomes %w", ErrBadHostname, host, err)
	}
	return host, nil
}

func (o *OAuth2) checkOneLine() error {
	for _, t := range []struct{ what, value string }{
		{"<issuer>", o.Issuer}, {"<scope>", o.Scope}, {"<authURL>", o.AuthURL}, {"<tokenURL>", o.TokenURL},
	} {
		if err := CheckOneLine("the OAuth2 "+t.what, t.value); err != nil {
			return err
		}
	}
	return nil
}
