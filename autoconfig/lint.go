package autoconfig

import (
	"bytes"
	"fmt"
	"io"
)

// Document kinds Lint recognises.
const (
	KindAutoconfig   = "autoconfig"
	KindAutodiscover = "autodiscover"
)

// LintReport is what Lint found in one document.
type LintReport struct {
	Kind     string       `json:"kind"` // KindAutoconfig, KindAutodiscover, or "" when unreadable
	Findings []Diagnostic `json:"findings"`
}

// HasErrors reports whether any finding is an Error.
func (r LintReport) HasErrors() bool {
	for _, f := range r.Findings {
		if f.Severity == Error {
			return true
		}
	}
	return false
}

// Lint judges an autoconfig file or an Autodiscover response the way a mail
// client reads it, for hosters who publish one. IMAP, POP3 and SMTP entries
// are judged; other server types are noted.
func Lint(r io.Reader) LintReport {
	data, err := io.ReadAll(io.LimitReader(r, MaxDocumentSize+1))
	if err != nil {
		return LintReport{Findings: []Diagnostic{{Severity: Error, Message: err.Error()}}}
	}
	root, err := readTree(bytes.NewReader(data))
	if err != nil {
		return LintReport{Findings: []Diagnostic{errorFinding(err)}}
	}
	if root.Name == "Autodiscover" {
		return lintAutodiscover(data)
	}
	return lintAutoconfig(data)
}

func errorFinding(err error) Diagnostic {
	d := Diagnostic{Severity: Error, Message: err.Error()}
	if pe, ok := err.(*ParseError); ok {
		d.Line = pe.Line
		pe2 := *pe
		pe2.Line = 0
		d.Message = pe2.Error()
	}
	return d
}

func lintAutoconfig(data []byte) LintReport {
	rep := LintReport{Kind: KindAutoconfig}
	p, diags, err := ReadConfig(bytes.NewReader(data))
	rep.Findings = append(rep.Findings, diags...)
	if err != nil {
		rep.Findings = append(rep.Findings, errorFinding(err))
		return rep
	}
	add := func(line int, sev Severity, format string, args ...any) {
		rep.Findings = append(rep.Findings, Diagnostic{Line: line, Severity: sev, Message: fmt.Sprintf(format, args...)})
	}
	for _, s := range p.Others {
		add(s.Line, Note, "%s server %s is noted, not judged: mailsetup sets up IMAP, POP3 and SMTP", s.Protocol, firstNonEmpty(s.Hostname, s.URL))
	}
	if _, ok := p.FirstIncoming(IMAP); !ok {
		add(p.Incoming[0].Line, Warning, "POP3 only: without IMAP, mail read on one device is gone from the others")
	}
	if len(p.Outgoing) == 0 {
		add(p.Incoming[0].Line, Warning, "no usable SMTP <outgoingServer>: clients can receive but not send")
	}
	for _, s := range append(append([]Server(nil), p.Incoming...), p.Outgoing...) {
		lintServer(s, add)
	}
	return rep
}

func lintServer(s Server, add func(int, Severity, string, ...any)) {
	name := fmt.Sprintf("%s server %s:%d", s.Protocol.DisplayName(), s.Hostname, s.Port)
	if s.Security == SecurityPlain {
		if s.PreferredAuth() == AuthPasswordCleartext {
			add(s.Line, Warning, "%s sends the password in clear text over an unencrypted connection: offer SSL or STARTTLS", name)
		} else {
			add(s.Line, Warning, "%s uses a plain connection: mail travels unencrypted", name)
		}
	}
	if want, ok := StandardSecurity(s.Port); ok && s.Security != want && s.Security != SecurityPlain {
		add(s.Line, Warning, "%s says %s, but port %d is for %s: clients will fail to connect", name, s.Security.SocketType(), s.Port, want.SocketType())
	}
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func lintAutodiscover(data []byte) LintReport {
	rep := LintReport{Kind: KindAutodiscover}
	add := func(line int, sev Severity, format string, args ...any) {
		rep.Findings = append(rep.Findings, Diagnostic{Line: line, Severity: sev, Message: fmt.Sprintf(format, args...)})
	}
	r, err := ReadAutodiscoverResponse(bytes.NewReader(data))
	if err != nil {
		rep.Findings = append(rep.Findings, errorFinding(err))
		return rep
	}
	switch {
	case r.Error != nil:
		add(0, Error, "the response is error %d (%s): a client gets no settings from it", r.Error.Code, r.Error.Message)
		return rep
	case r.Action == ActionRedirectAddr:
		add(0, Note, "redirects to the address %q: judge that address's response", r.RedirectAddr)
		return rep
	case r.Action == ActionRedirectURL:
		add(0, Note, "redirects to %q: judge the response served there", r.RedirectURL)
		return rep
	case r.Action != ActionSettings:
		add(0, Error, "<Action> is %q; clients need settings, redirectAddr or redirectUrl", r.Action)
		return rep
	}
	if err := CheckOneLine("<DisplayName>", r.DisplayName); err != nil {
		add(r.DisplayNameLine, Error, "%s", reason(err))
	}
	incoming, outgoing := 0, 0
	for _, ap := range r.Protocols {
		name := fmt.Sprintf("%s entry %s:%d", ap.Type, ap.Server, ap.Port)
		switch ap.Type {
		case "IMAP", "POP3":
			incoming++
		case "POP":
			incoming++
			add(ap.Line, Warning, "<Type>POP</Type> is not a protocol Outlook knows: write POP3")
		case "SMTP":
			outgoing++
		default:
			add(ap.Line, Note, "%s entry is noted, not judged", ap.Type)
			continue
		}
		if ap.Server == "" || ap.Port < 1 || ap.Port > 65535 {
			add(ap.Line, Error, "%s lacks a <Server> or a <Port> from 1 to 65535", name)
			continue
		}
		if _, err := ParseHostname(ap.Server); err != nil {
			add(ap.Line, Error, "%s entry: <Server> %s", ap.Type, reason(err))
			continue
		}
		if err := CheckOneLine("<LoginName>", ap.LoginName); err != nil {
			add(ap.Line, Error, "%s entry: %s", ap.Type, reason(err))
		}
		if ap.SPA {
			add(ap.Line, Warning, "%s has SPA on (the default when absent): Outlook then tries NTLM, which IMAP and SMTP servers refuse; write <SPA>off</SPA>", name)
		}
		if ap.Encryption != "" && ap.SSL != (ap.Security() != SecurityPlain) {
			add(ap.Line, Warning, "%s: <SSL> and <Encryption>%s</Encryption> disagree", name, ap.Encryption)
		}
		s := Server{Protocol: Protocol(map[string]string{"IMAP": "imap", "POP3": "pop3", "POP": "pop3", "SMTP": "smtp"}[ap.Type]),
			Hostname: ap.Server, Port: ap.Port, Security: ap.Security(), Auth: []AuthMethod{AuthPasswordCleartext}, Line: ap.Line}
		lintServer(s, add)
	}
	if incoming == 0 {
		add(0, Error, "no IMAP or POP3 <Protocol>: a client has nothing to set up")
	}
	if outgoing == 0 {
		add(0, Warning, "no SMTP <Protocol>: Outlook needs one to create the account")
	}
	return rep
}
