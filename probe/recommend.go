package probe

import (
	"fmt"
	"strings"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe/discover"
	"github.com/mailsetup/mailsetup/probe/verify"
)

// Confidence values: how the recommended settings were proven.
const (
	ConfidenceLogin         = "login"          // the password was accepted
	ConfidenceTLS           = "tls"            // valid certificate, protocol answered, no login tried
	ConfidencePinned        = "pinned"         // certificate accepted only by --trust-cert
	ConfidencePlaintext     = "plaintext"      // unencrypted, allowed by --allow-plaintext
	ConfidenceLoginRejected = "login-rejected" // proven by TLS, but the login was refused
	// ConfidenceUnconfirmed: proven by TLS, but the login was skipped for
	// want of the user's consent, or got no answer in the time left.
	ConfidenceUnconfirmed = "unconfirmed"
)

// confidenceOrder lists the confidences strongest first; a recommendation
// has the weaker of its two servers'.
var confidenceOrder = []string{ConfidenceLogin, ConfidenceTLS, ConfidencePinned, ConfidencePlaintext, ConfidenceUnconfirmed, ConfidenceLoginRejected}

// conclusion is what the ranked candidates add up to.
type conclusion struct {
	rec           *Recommendation
	status        Status
	warnings      []string
	disagreements []string
	remedies      []Remedy
}

// conclude ranks the candidates and picks the best incoming server (IMAP
// whenever one works) and the best outgoing one. addr is nil when a bare
// domain was probed.
func conclude(addr *autoconfig.Address, knownUser, domain string, cs []*candidate, withPassword bool) conclusion {
	rank(cs)
	var out conclusion
	in := best(cs, true)
	smtp := best(cs, false)
	out.disagreements = disagreements(cs)
	out.warnings = warnings(cs, in, smtp, withPassword)
	out.remedies = remedies(cs, in, smtp)
	if in == nil {
		out.status = StatusNothingFound
		for _, c := range cs {
			if c.check.status == checkInsecure {
				out.status = StatusInsecureOnly
			}
		}
		return out
	}
	out.status = StatusOK
	switch {
	case refusedOnly(cs, true) || refusedOnly(cs, false):
		out.status = StatusLoginRejected
	case in.unconfirmed || smtp != nil && smtp.unconfirmed || noAnswerOnly(cs, true) || noAnswerOnly(cs, false):
		out.status = StatusUnconfirmed
	}
	rec := &Recommendation{
		Protocol:     in.server.Protocol,
		Incoming:     endpoint(in, addr, knownUser),
		Confidence:   confidence(in),
		Alternatives: []Endpoint{},
	}
	if smtp != nil {
		e := endpoint(smtp, addr, knownUser)
		rec.Outgoing = &e
		if worse(confidence(smtp), rec.Confidence) {
			rec.Confidence = confidence(smtp)
		}
	} else {
		out.warnings = append(out.warnings, "No outgoing (SMTP) server could be proven: you can read mail but a client cannot send it with these settings.")
	}
	if in.server.Protocol == autoconfig.POP3 {
		rec.LeaveMessagesOnServer = true
		rec.WithoutIMAP = "IMAP would have kept your mail and folders the same on every device; with POP3 each device downloads its own copy, so \"leave messages on server\" is on."
		out.warnings = append(out.warnings, "Only POP3 works for this address: IMAP is not offered or could not be proven.")
	}
	rec.Reason = reason(in)
	published := publishedSettings(in)
	rec.Alternatives = alternatives(published, cs, in, smtp, addr, knownUser)
	if published != nil {
		rec.DisplayName = published.DisplayName
		rec.OAuth2 = published.OAuth2
	}
	rec.Requirement = requirement(domain, in, smtp)
	if rec.Requirement != nil && in.login.status != LoginOK {
		// After a successful login the user evidently has what the
		// provider wants; the requirement stays in the recommendation.
		out.warnings = append(out.warnings, rec.Requirement.Summary+" "+rec.Requirement.Fix)
	}
	out.rec = rec
	return out
}

// publishedSettings is the settings file of the recommended incoming
// server's best-ranked source that has one (autoconfig, .well-known, the
// ISPDB, Autodiscover), nil when only SRV records or guesses named it.
func publishedSettings(in *candidate) *autoconfig.Provider {
	for _, s := range in.sources {
		if s.provider != nil {
			return s.provider
		}
	}
	return nil
}

// alternatives are the other servers the winning published settings list,
// in their order (incoming, then outgoing), without the recommended ones and
// without unencrypted ones. What goes into the files must not depend on
// which checks happened to finish before the probe stopped (issue 11), so
// this is the provider's word, not the list of servers proven in time.
func alternatives(p *autoconfig.Provider, cs []*candidate, in, smtp *candidate, addr *autoconfig.Address, knownUser string) []Endpoint {
	out := []Endpoint{}
	if p == nil {
		return out
	}
	byKey := map[serverKey]*candidate{}
	for _, c := range cs {
		byKey[keyOf(c.server)] = c
	}
	seen := map[serverKey]bool{keyOf(in.server): true}
	if smtp != nil {
		seen[keyOf(smtp.server)] = true
	}
	for _, s := range append(append([]autoconfig.Server{}, p.Incoming...), p.Outgoing...) {
		k := keyOf(s)
		c := byKey[k]
		if seen[k] || c == nil || s.Security == autoconfig.SecurityPlain {
			continue
		}
		seen[k] = true
		out = append(out, endpoint(c, addr, knownUser))
	}
	return out
}

// best is the top candidate of a direction that is proven (even if its login
// was refused: the settings are right, the password is not).
func best(cs []*candidate, incoming bool) *candidate {
	for _, c := range cs {
		if c.incoming() == incoming && c.tier() <= tierRejected {
			return c
		}
	}
	return nil
}

// noAnswerOnly reports whether, in a direction, passwords went out and no
// server either accepted or refused them in the time left.
func noAnswerOnly(cs []*candidate, incoming bool) bool {
	silent := false
	for _, c := range cs {
		if c.incoming() != incoming {
			continue
		}
		if c.login.status == LoginOK || c.login.status == LoginFailed {
			return false
		}
		silent = silent || c.login.noAnswer
	}
	return silent
}

// refusedOnly reports whether logins were refused in a direction and none
// worked.
func refusedOnly(cs []*candidate, incoming bool) bool {
	refused := false
	for _, c := range cs {
		if c.incoming() != incoming {
			continue
		}
		if c.login.status == LoginOK {
			return false
		}
		refused = refused || c.login.status == LoginFailed
	}
	return refused
}

func confidence(c *candidate) string {
	switch {
	case c.login.status == LoginOK && c.check.status == checkPassed:
		return ConfidenceLogin
	case c.login.status == LoginFailed:
		return ConfidenceLoginRejected
	case c.unconfirmed || c.login.noAnswer:
		return ConfidenceUnconfirmed
	case c.check.status == checkWeak && c.server.Security == autoconfig.SecurityPlain:
		return ConfidencePlaintext
	case c.check.status == checkWeak:
		return ConfidencePinned
	}
	return ConfidenceTLS
}

func worse(a, b string) bool {
	ia, ib := 0, 0
	for i, c := range confidenceOrder {
		if c == a {
			ia = i
		}
		if c == b {
			ib = i
		}
	}
	return ia > ib
}

// endpoint is the candidate as a client setting for addr: the username
// that logged in there, else the login name the user gave, else the
// source's template.
func endpoint(c *candidate, addr *autoconfig.Address, knownUser string) Endpoint {
	tmpl := c.server.Username
	if knownUser != "" {
		tmpl = knownUser
	}
	if c.login.status == LoginOK && c.login.detail != nil && addr != nil {
		switch c.login.detail.Username {
		case addr.ASCII():
			tmpl = autoconfig.PlaceholderAddress
		case addr.LocalPart:
			tmpl = autoconfig.PlaceholderLocalPart
		default:
			tmpl = c.login.detail.Username
		}
	}
	if tmpl == "" {
		tmpl = autoconfig.PlaceholderAddress
	}
	user := tmpl
	if addr != nil {
		user = autoconfig.ExpandTemplate(tmpl, *addr)
	}
	return Endpoint{
		Protocol:         c.server.Protocol,
		Host:             c.server.Hostname,
		Port:             c.server.Port,
		Security:         c.server.Security,
		Username:         user,
		UsernameTemplate: tmpl,
		Auth:             authOf(c),
		NotConfirmed:     notConfirmed(c),
	}
}

func notConfirmed(c *candidate) string {
	if c.unconfirmed {
		return NotConfirmed
	}
	return ""
}

// authOf picks the authentication to configure: how the password went
// where a login worked (the proof beats any source: an Autodiscover answer
// without <SPA> reads as NTLM, yet the server took PLAIN), else a password
// method the sources name, else what the server offers after TLS.
func authOf(c *candidate) autoconfig.AuthMethod {
	if c.login.status == LoginOK {
		switch strings.ToUpper(c.login.mechanism) {
		case "PLAIN", "LOGIN", "USER":
			return autoconfig.AuthPasswordCleartext
		case "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256":
			return autoconfig.AuthPasswordEncrypted
		}
	}
	for _, a := range c.server.Auth {
		if a.UsesPassword() {
			return a
		}
	}
	if len(c.server.Auth) > 0 {
		return c.server.Auth[0]
	}
	mechs := map[string]bool{}
	for _, m := range c.check.report.AuthMechanisms {
		mechs[strings.ToUpper(m)] = true
	}
	switch {
	case mechs["PLAIN"] || mechs["LOGIN"] || len(mechs) == 0:
		// Over TLS a cleartext password is protected by the connection;
		// POP3 USER/PASS and IMAP LOGIN list no mechanism at all.
		return autoconfig.AuthPasswordCleartext
	case mechs["CRAM-MD5"] || mechs["SCRAM-SHA-1"] || mechs["SCRAM-SHA-256"]:
		return autoconfig.AuthPasswordEncrypted
	case mechs["XOAUTH2"] || mechs["OAUTHBEARER"]:
		return autoconfig.AuthOAuth2
	}
	return autoconfig.AuthPasswordCleartext
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func describeSecurity(s autoconfig.Security) string {
	switch s {
	case autoconfig.SecurityTLS:
		return "implicit TLS"
	case autoconfig.SecuritySTARTTLS:
		return "STARTTLS"
	}
	return "no encryption"
}

// proofWords says how the server was proven, as the end of a sentence that
// began with its address.
func proofWords(c *candidate) string {
	var how string
	switch c.server.Security {
	case autoconfig.SecurityTLS:
		how = "uses TLS from the first byte"
	case autoconfig.SecuritySTARTTLS:
		how = "uses STARTTLS"
	default:
		return "is unencrypted, as you allowed"
	}
	switch confidence(c) {
	case ConfidenceLogin:
		return how + ", its certificate is valid and your password was accepted"
	case ConfidenceLoginRejected:
		return how + " and its certificate is valid, but your login was refused"
	case ConfidencePinned:
		return how + " with a certificate accepted only because you pinned it"
	}
	return how + " and its certificate is valid"
}

// reason is the sentence that says why these servers; how they were found
// and the outgoing server's proof are in the report's tables and JSON.
func reason(in *candidate) string {
	why := "IMAP keeps your mail on the server for every device"
	if in.server.Protocol != autoconfig.IMAP {
		why = "Only POP3 works here, so mail is downloaded and also left on the server"
	}
	return fmt.Sprintf("%s; %s %s.", why, in.server.Address(), proofWords(in))
}

// requirement is what the provider demands beyond a password: from the
// table of known providers, from its published settings (OAuth2 only), or
// from what its login answer said.
func requirement(domain string, in, smtp *candidate) *Requirement {
	hosts := []string{in.server.Hostname}
	if smtp != nil {
		hosts = append(hosts, smtp.server.Hostname)
	}
	if r := requirementFor(domain, hosts); r != nil {
		return r
	}
	if r := publishedOAuth2Only(in.server); r != nil {
		return r
	}
	for _, c := range []*candidate{in, smtp} {
		if c == nil || c.login.detail == nil {
			continue
		}
		kind := loginKindRequirement[c.login.kind]
		if kind == "" {
			continue
		}
		return &Requirement{
			Provider: c.server.Hostname,
			Kind:     kind,
			Summary:  fmt.Sprintf("%s did not take the password: %s", c.server.Hostname, c.login.detail.Reason),
			Fix:      c.login.detail.Fix,
		}
	}
	return nil
}

// loginKindRequirement maps a login refusal that is not a wrong password to
// the requirement it reveals.
var loginKindRequirement = map[string]string{
	string(verify.KindAppPasswordRequired): RequireAppPassword,
	string(verify.KindOAuthOnly):           RequireOAuth2,
	string(verify.KindWebLoginRequired):    RequireEnableAccess,
}

// warnings are what the user must know besides the recommendation.
func warnings(cs []*candidate, in, smtp *candidate, withPassword bool) []string {
	var w []string
	for _, c := range cs {
		name := c.server.Protocol.DisplayName() + " " + c.server.Address()
		if c.check.status == checkWeak && (c == in || c == smtp || len(c.login.tried) > 0) {
			if c.server.Security == autoconfig.SecurityPlain {
				w = append(w, "WARNING: "+name+" is unencrypted: your password and mail cross the network readable by anyone on the way (you allowed plaintext).")
			} else {
				w = append(w, "WARNING: "+name+" has an invalid certificate ("+c.check.report.TLS.Error+"); it was accepted only because you pinned its fingerprint.")
			}
		}
		if c.check.status == checkInsecure {
			w = append(w, name+" was not used: "+insecureReason(c))
		}
		for _, f := range c.check.report.Findings {
			w = append(w, name+": "+f)
		}
		if d := c.login.detail; c.login.status == LoginFailed && d != nil {
			msg := fmt.Sprintf("Login to %s as %q was refused: %s.", name, d.Username, d.Reason)
			if d.Fix != "" {
				msg += " " + d.Fix
			}
			w = append(w, msg)
		}
	}
	for _, c := range []*candidate{in, smtp} {
		if c != nil && c.unconfirmed {
			var named []string
			for _, s := range c.sources {
				named = append(named, s.Target)
			}
			w = append(w, fmt.Sprintf("%s %s is %s (%s): no password was sent there, and a client set up with it would send yours there.",
				c.server.Protocol.DisplayName(), c.server.Address(), NotConfirmed, strings.Join(named, ", ")))
		}
	}
	if withPassword {
		for _, c := range []*candidate{in, smtp} {
			if c != nil && c.login.status == LoginSkipped && c.login.detail != nil && c.login.detail.Reason != "" {
				w = append(w, "No login was tried on "+c.server.Address()+": "+c.login.detail.Reason)
			}
		}
	}
	return w
}

func insecureReason(c *candidate) string {
	if c.server.Security == autoconfig.SecurityPlain {
		return "it is unencrypted."
	}
	msg := "its certificate is not valid"
	if t := c.check.report.TLS; t != nil && t.Error != "" {
		msg += " (" + t.Error + ")"
	}
	return msg + "."
}

// disagreements names where the domain's SRV records and its autoconfig file
// point at different proven servers, and which one was chosen and why
// (issue 5: the one whose login succeeded, then autoconfig).
func disagreements(cs []*candidate) []string {
	var out []string
	for _, incoming := range []bool{true, false} {
		srv := bestFrom(cs, incoming, discover.MethodSRV)
		ac := bestFrom(cs, incoming, discover.MethodAutoconfig, discover.MethodWellKnown)
		if srv == nil || ac == nil || srv == ac {
			continue
		}
		chosen, other := ac, srv
		if compareCandidates(srv, ac) < 0 {
			chosen, other = srv, ac
		}
		var why string
		switch {
		case chosen.login.status == LoginOK && other.login.status == LoginFailed:
			why = "its login succeeded where the other's was refused"
		case chosen == ac:
			why = "where both work, the autoconfig file wins: it also names the username and authentication"
		case chosen.login.status == LoginOK:
			why = "its login succeeded"
		default:
			why = "it ranks higher on protocol and security"
		}
		out = append(out, fmt.Sprintf("SRV records name %s %s, the autoconfig file names %s %s; %s was chosen because %s.",
			srv.server.Protocol.DisplayName(), srv.server.Address(), ac.server.Protocol.DisplayName(), ac.server.Address(), chosen.server.Address(), why))
	}
	return out
}

// bestFrom is the best proven candidate of a direction named by method.
func bestFrom(cs []*candidate, incoming bool, methods ...string) *candidate {
	for _, c := range cs {
		if c.incoming() != incoming || c.tier() > tierWeak {
			continue
		}
		for _, s := range c.sources {
			if contains(methods, s.Method) {
				return c
			}
		}
	}
	return nil
}
