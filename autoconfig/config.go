package autoconfig

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Severity grades a Diagnostic.
type Severity int

const (
	// Note: something worth knowing that is not judged (a server type
	// mailsetup does not set up, a redirect).
	Note Severity = iota
	// Warning: the file works, but a client would connect unsafely or
	// a person would be surprised.
	Warning
	// Error: a client skips the entry or rejects the file.
	Error
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	}
	return "note"
}

// MarshalText makes Severity print as "error" or "warning" in JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Diagnostic is something a reader noticed while reading leniently: an entry
// skipped the way Thunderbird skips it, or a value it only tolerates.
type Diagnostic struct {
	Line     int      `json:"line"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("line %d: %s: %s", d.Line, d.Severity, d.Message)
}

// ReadConfig reads a Thunderbird config-v1.1 (or draft 1.2) document the way
// Thunderbird's readFromXML does: unknown elements are ignored, a server that
// lacks what it needs is skipped (and reported as an Error diagnostic), and
// the file is rejected only when no usable incoming server is left, when it
// names no domain, or when it is not a clientConfig at all. Of several
// socketType or authentication values the first supported one wins.
func ReadConfig(r io.Reader) (*Provider, []Diagnostic, error) {
	root, err := readTree(r)
	if err != nil {
		return nil, nil, err
	}
	if root.Name != "clientConfig" {
		return nil, nil, &ParseError{Line: root.Line, Element: root.Name,
			Msg: "the root element must be <clientConfig>: this is not a Thunderbird autoconfig file"}
	}
	ep := root.child("emailProvider")
	if ep == nil {
		return nil, nil, &ParseError{Line: root.Line, Element: "clientConfig", Msg: "no <emailProvider> element"}
	}
	cr := &configReader{}
	p := &Provider{}
	p.ID, _ = ep.attr("id")
	for _, c := range ep.Children {
		switch c.Name {
		case "domain":
			if purpose, _ := c.attr("purpose"); purpose == "mx" {
				continue
			}
			d, err := ParseDomain(c.text())
			if err != nil {
				cr.add(c.Line, Error, fmt.Sprintf("<domain> %q is skipped: %v", c.text(), err))
				continue
			}
			p.Domains = append(p.Domains, d.ASCII)
		case "displayName":
			p.DisplayName = cr.oneLine(c, "<displayName>")
		case "displayShortName":
			p.DisplayShortName = cr.oneLine(c, "<displayShortName>")
		case "incomingServer":
			if s, ok := cr.server(c, false); ok {
				if s.Protocol.IsMail() {
					p.Incoming = append(p.Incoming, s)
				} else {
					p.Others = append(p.Others, s)
				}
			}
		case "outgoingServer":
			if s, ok := cr.server(c, true); ok {
				p.Outgoing = append(p.Outgoing, s)
			}
		case "documentation":
			if l, ok := cr.link(c, "url", "descr"); ok {
				p.Documentation = append(p.Documentation, l)
			}
		case "enable":
			if l, ok := cr.link(c, "visiturl", "instruction"); ok {
				p.Enable = &l
			}
		}
	}
	for _, c := range root.Children {
		switch c.Name {
		case "oAuth2":
			o := &OAuth2{
				Issuer:   c.childText("issuer"),
				Scope:    c.childText("scope"),
				AuthURL:  c.childText("authURL"),
				TokenURL: c.childText("tokenURL"),
			}
			if err := o.checkOneLine(); err != nil {
				cr.add(c.Line, Error, "<oAuth2> is skipped: "+reason(err))
				continue
			}
			p.OAuth2 = o
		case "enable":
			if l, ok := cr.link(c, "visiturl", "instruction"); ok && p.Enable == nil {
				p.Enable = &l
			}
		case "calendar", "addressbook", "addressBook":
			if d, ok := cr.dav(c); ok {
				p.DAV = append(p.DAV, d)
			}
		}
	}
	if len(p.Domains) == 0 {
		return nil, cr.diags, &ParseError{Line: ep.Line, Element: "emailProvider",
			Msg: "no valid <domain>: every config names the address domains it serves"}
	}
	if p.ID == "" {
		cr.add(ep.Line, Warning, "<emailProvider> has no id attribute; its first domain stands in")
		p.ID = p.Domains[0]
	}
	if len(p.Incoming) == 0 {
		return nil, cr.diags, &ParseError{Line: ep.Line, Element: "emailProvider",
			Msg: "no usable IMAP or POP3 <incomingServer>: a client has nothing to set up"}
	}
	return p, cr.diags, nil
}

type configReader struct {
	diags []Diagnostic
}

func (cr *configReader) add(line int, sev Severity, msg string) {
	cr.diags = append(cr.diags, Diagnostic{Line: line, Severity: sev, Message: msg})
}

// oneLine is el's text, or "" with an Error when it holds a line break or
// another control character: written into a file it could start a line of
// its own (in user.js, an active user_pref).
func (cr *configReader) oneLine(el *element, what string) string {
	if err := CheckOneLine(what, el.text()); err != nil {
		cr.add(el.Line, Error, what+" is left out: "+reason(err))
		return ""
	}
	return el.text()
}

// reason is err's message without the sentinels' texts: the diagnostic
// already says where it comes from.
func reason(err error) string {
	msg := err.Error()
	for _, prefix := range []string{ErrMalformed.Error() + ": ", ErrBadHostname.Error() + ": "} {
		msg = strings.ReplaceAll(msg, prefix, "")
	}
	return msg
}

// server reads an incomingServer or outgoingServer. Only mail protocols are
// judged; other types are kept as written.
func (cr *configReader) server(el *element, outgoing bool) (Server, bool) {
	typ, _ := el.attr("type")
	s := Server{Protocol: Protocol(typ), Line: el.Line}
	where := fmt.Sprintf("<%s type=%q>", el.Name, typ)
	if outgoing && s.Protocol != SMTP {
		cr.add(el.Line, Error, where+" is skipped: the only outgoing type is smtp")
		return Server{}, false
	}
	if !outgoing && s.Protocol == SMTP {
		cr.add(el.Line, Error, where+" is skipped: smtp belongs in <outgoingServer>")
		return Server{}, false
	}
	judged := s.Protocol.IsMail()
	if !outgoing && !judged {
		// exchange, ews, owa, graph, jmap, activesync: noted, not judged,
		// but kept only with values that are safe to write back.
		s.Hostname = el.childText("hostname")
		s.Port, _ = strconv.Atoi(el.childText("port"))
		s.URL = el.childText("url")
		s.Username = el.childText("username")
		if v := el.childText("socketType"); v != "" {
			if sec, ok := SecurityFromSocketType(v); ok {
				s.Security = sec
			}
		}
		for _, c := range el.Children {
			if c.Name == "authentication" && c.text() != "" {
				s.Auth = append(s.Auth, AuthMethod(c.text()))
			}
		}
		if err := s.validate(); err != nil {
			cr.add(el.Line, Error, where+" is skipped: "+reason(err))
			return Server{}, false
		}
		return s, true
	}

	s.Hostname = el.childText("hostname")
	if s.Hostname == "" {
		cr.add(el.Line, Error, where+" is skipped: it has no <hostname>")
		return Server{}, false
	}
	host, err := checkHostTemplate(s.Hostname)
	if err != nil {
		cr.add(lineOf(el, "hostname"), Error, where+" is skipped: <hostname> "+reason(err))
		return Server{}, false
	}
	s.Hostname = host
	portText := el.childText("port")
	port, err := strconv.Atoi(portText)
	if portText == "" {
		cr.add(el.Line, Error, where+" is skipped: it has no <port>")
		return Server{}, false
	}
	if err != nil || port < 1 || port > 65535 {
		cr.add(lineOf(el, "port"), Error, fmt.Sprintf("%s is skipped: <port> %q is not a number from 1 to 65535", where, portText))
		return Server{}, false
	}
	s.Port = port

	var socketTypes []*element
	for _, c := range el.Children {
		if c.Name == "socketType" {
			socketTypes = append(socketTypes, c)
		}
	}
	for _, c := range socketTypes {
		if sec, ok := SecurityFromSocketType(c.text()); ok {
			s.Security = sec
			break
		}
		cr.add(c.Line, Error, fmt.Sprintf("%s: <socketType> %q is not SSL, STARTTLS or plain", where, c.text()))
	}
	if s.Security == "" {
		if len(socketTypes) == 0 {
			cr.add(el.Line, Error, where+" is skipped: it has no <socketType>")
		} else {
			cr.add(el.Line, Error, where+" is skipped: none of its <socketType> values is known")
		}
		return Server{}, false
	}

	sawAuth := false
	for _, c := range el.Children {
		if c.Name != "authentication" {
			continue
		}
		sawAuth = true
		if sys, _ := c.attr("system"); sys != "" {
			// Draft 1.2 SASL/HTTP mechanisms name no config-v1.1 method.
			continue
		}
		m, ok := ParseAuthMethod(c.text())
		if !ok {
			cr.add(c.Line, Error, fmt.Sprintf("%s: <authentication> %q is not a known method", where, c.text()))
			continue
		}
		if !outgoing && (m == AuthNone || m == AuthClientIP || m == AuthSMTPAfterPOP) {
			cr.add(c.Line, Error, fmt.Sprintf("%s: <authentication> %q is only for outgoing servers", where, c.text()))
			continue
		}
		if !s.HasAuth(m) {
			s.Auth = append(s.Auth, m)
		}
	}
	if len(s.Auth) == 0 {
		if !sawAuth {
			cr.add(el.Line, Error, where+" is skipped: it has no <authentication>")
		} else {
			cr.add(el.Line, Error, where+" is skipped: none of its <authentication> values is known")
		}
		return Server{}, false
	}

	if u := el.child("username"); u != nil {
		s.Username = u.text()
		if err := CheckOneLine("<username>", s.Username); err != nil {
			cr.add(u.Line, Error, where+" is skipped: "+reason(err))
			return Server{}, false
		}
		if err := CheckTemplate(s.Username); err != nil {
			cr.add(u.Line, Error, where+": "+err.Error())
		}
	} else if outgoing {
		if s.PreferredAuth() != AuthNone && s.PreferredAuth() != AuthClientIP {
			cr.add(el.Line, Warning, where+" has no <username>: Thunderbird would log in as \"undefined\"")
		}
	} else {
		cr.add(el.Line, Error, where+" is skipped: it has no <username>")
		return Server{}, false
	}
	if r := el.child("restriction"); r != nil && r.text() != "" {
		s.Restriction = cr.oneLine(r, "<restriction>")
	}
	if s.Protocol == POP3 {
		if pe := el.child("pop3"); pe != nil {
			s.POP3 = readPOP3(pe)
		}
	}
	return s, true
}

// davElements are the config-v1.1 elements of the DAV kinds: the draft's
// <calendar type="caldav"> and <addressbook type="carddav"> (RELAX NG
// schema in its appendix; the older sample file spells it addressBook,
// which is read too). Thunderbird's readFromXML reads neither: it finds
// address books and calendars by itself (docs/clients.md).
var davElements = map[DAVKind]string{CalDAV: "calendar", CardDAV: "addressbook"}

// dav reads a top-level <calendar> or <addressbook>: its <url>, the RFC
// 6764 context URL, and its <username> template. Other types (an ics
// calendar, an LDAP address book) are noted and left out.
func (cr *configReader) dav(el *element) (DAVService, bool) {
	typ, _ := el.attr("type")
	where := fmt.Sprintf("<%s type=%q>", el.Name, typ)
	kind := DAVKind(strings.ToLower(typ))
	if davElements[kind] != strings.ToLower(el.Name) {
		cr.add(el.Line, Note, where+" is not set up: mailsetup sets up only <calendar type=\"caldav\"> and <addressbook type=\"carddav\">")
		return DAVService{}, false
	}
	u, err := ParseDAVURL(el.childText("url"))
	if err != nil {
		cr.add(lineOf(el, "url"), Error, where+" is skipped: <url> "+reason(err))
		return DAVService{}, false
	}
	d := DAVService{Kind: kind, URL: u.String(), Username: el.childText("username")}
	if err := d.validate(); err != nil {
		cr.add(lineOf(el, "username"), Error, where+" is skipped: "+reason(err))
		return DAVService{}, false
	}
	if !u.TLS {
		cr.add(lineOf(el, "url"), Warning, where+" has an http URL: passwords and data would travel unencrypted")
	}
	return d, true
}

func lineOf(el *element, child string) int {
	if c := el.child(child); c != nil {
		return c.Line
	}
	return el.Line
}

func readPOP3(el *element) *POP3Options {
	o := &POP3Options{}
	o.LeaveMessagesOnServer = el.childText("leaveMessagesOnServer") == "true"
	o.DaysToLeave, _ = strconv.Atoi(el.childText("daysToLeaveMessagesOnServer"))
	if v := el.childText("downloadOnBiff"); v != "" {
		b := v == "true"
		o.DownloadOnBiff = &b
	}
	if c := el.child("checkInterval"); c != nil {
		if m, ok := c.attr("minutes"); ok {
			o.CheckIntervalMinutes, _ = strconv.Atoi(m)
		}
	}
	return o
}

func (cr *configReader) link(el *element, urlAttr, descr string) (Link, bool) {
	u, ok := el.attr(urlAttr)
	if !ok || u == "" {
		return Link{}, false
	}
	if err := CheckOneLine(fmt.Sprintf("<%s %s>", el.Name, urlAttr), u); err != nil {
		cr.add(el.Line, Error, fmt.Sprintf("<%s> is skipped: %s", el.Name, reason(err)))
		return Link{}, false
	}
	l := Link{URL: u}
	for _, c := range el.Children {
		if c.Name == descr && c.text() != "" {
			lang, _ := c.attr("lang")
			text := cr.oneLine(c, "<"+descr+">")
			if text == "" || CheckOneLine("lang", lang) != nil {
				continue
			}
			l.Descriptions = append(l.Descriptions, Description{Lang: lang, Text: text})
		}
	}
	return l, true
}

// WriteConfig writes p as a config-v1.1 document that Thunderbird accepts and
// that validates against the draft's RELAX NG schema. Outgoing servers carry
// useGlobalPreferredServer=false so Thunderbird never reuses another
// account's SMTP server.
func WriteConfig(w io.Writer, p *Provider) error {
	if err := p.Validate(); err != nil {
		return err
	}
	x := &xmlWriter{}
	x.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	x.open(0, "clientConfig", "version", "1.1")
	x.open(1, "emailProvider", "id", p.ID)
	for _, d := range p.Domains {
		x.leaf(2, "domain", d)
	}
	x.leafIf(2, "displayName", p.DisplayName)
	x.leafIf(2, "displayShortName", p.DisplayShortName)
	for _, s := range p.Incoming {
		writeServer(x, "incomingServer", s)
	}
	for _, s := range p.Others {
		writeServer(x, "incomingServer", s)
	}
	for _, s := range p.Outgoing {
		writeServer(x, "outgoingServer", s)
	}
	for _, l := range p.Documentation {
		writeLink(x, "documentation", "url", "descr", l)
	}
	if p.Enable != nil {
		writeLink(x, "enable", "visiturl", "instruction", *p.Enable)
	}
	x.close(1, "emailProvider")
	for _, d := range p.DAV {
		x.open(1, davElements[d.Kind], "type", string(d.Kind))
		x.leaf(2, "url", d.URL)
		// The draft's HTTP authentication (its section on <authentication
		// system="http">): DAV servers take the password with Basic.
		x.leaf(2, "authentication", "Basic", "system", "http")
		x.leafIf(2, "username", d.Username)
		x.close(1, davElements[d.Kind])
	}
	if o := p.OAuth2; o != nil {
		x.open(1, "oAuth2")
		x.leafIf(2, "issuer", o.Issuer)
		x.leafIf(2, "scope", o.Scope)
		x.leafIf(2, "authURL", o.AuthURL)
		x.leafIf(2, "tokenURL", o.TokenURL)
		x.close(1, "oAuth2")
	}
	x.close(0, "clientConfig")
	_, err := io.WriteString(w, x.String())
	return err
}

func writeServer(x *xmlWriter, name string, s Server) {
	x.open(2, name, "type", string(s.Protocol))
	x.leafIf(3, "hostname", s.Hostname)
	if s.Port != 0 {
		x.leaf(3, "port", strconv.Itoa(s.Port))
	}
	if s.Security != "" {
		x.leaf(3, "socketType", s.Security.SocketType())
	}
	for _, a := range s.Auth {
		x.leaf(3, "authentication", string(a))
	}
	if s.Username != "" || name == "incomingServer" && s.Protocol.IsMail() {
		// Thunderbird skips an incoming server without <username>, even an empty one.
		x.leaf(3, "username", s.Username)
	}
	x.leafIf(3, "url", s.URL)
	x.leafIf(3, "restriction", s.Restriction)
	if o := s.POP3; o != nil {
		x.open(3, "pop3")
		x.leaf(4, "leaveMessagesOnServer", strconv.FormatBool(o.LeaveMessagesOnServer))
		if o.DownloadOnBiff != nil {
			x.leaf(4, "downloadOnBiff", strconv.FormatBool(*o.DownloadOnBiff))
		}
		if o.DaysToLeave > 0 {
			x.leaf(4, "daysToLeaveMessagesOnServer", strconv.Itoa(o.DaysToLeave))
		}
		if o.CheckIntervalMinutes > 0 {
			x.empty(4, "checkInterval", "minutes", strconv.Itoa(o.CheckIntervalMinutes))
		}
		x.close(3, "pop3")
	}
	if name == "outgoingServer" {
		x.leaf(3, "useGlobalPreferredServer", "false")
	}
	x.close(2, name)
}

func writeLink(x *xmlWriter, name, urlAttr, descr string, l Link) {
	if len(l.Descriptions) == 0 {
		x.empty(2, name, urlAttr, l.URL)
		return
	}
	x.open(2, name, urlAttr, l.URL)
	for _, d := range l.Descriptions {
		if d.Lang != "" {
			x.leaf(3, descr, d.Text, "lang", d.Lang)
		} else {
			x.leaf(3, descr, d.Text)
		}
	}
	x.close(2, name)
}

// xmlWriter writes indented XML by hand: encoding/xml cannot both indent and
// keep text on one line with its element, and the output is small and fixed.
type xmlWriter struct{ strings.Builder }

func (x *xmlWriter) raw(s string) { x.WriteString(s) }

func (x *xmlWriter) indent(depth int) { x.WriteString(strings.Repeat("  ", depth)) }

func (x *xmlWriter) startTag(depth int, name string, attrs []string) {
	x.indent(depth)
	x.WriteString("<" + name)
	for i := 0; i+1 < len(attrs); i += 2 {
		x.WriteString(" " + attrs[i] + `="`)
		x.attrValue(attrs[i+1])
		x.WriteString(`"`)
	}
}

func (x *xmlWriter) open(depth int, name string, attrs ...string) {
	x.startTag(depth, name, attrs)
	x.WriteString(">\n")
}

func (x *xmlWriter) empty(depth int, name string, attrs ...string) {
	x.startTag(depth, name, attrs)
	x.WriteString("/>\n")
}

func (x *xmlWriter) close(depth int, name string) {
	x.indent(depth)
	x.WriteString("</" + name + ">\n")
}

func (x *xmlWriter) leaf(depth int, name, text string, attrs ...string) {
	x.startTag(depth, name, attrs)
	x.WriteString(">")
	x.text(text)
	x.WriteString("</" + name + ">\n")
}

func (x *xmlWriter) leafIf(depth int, name, text string) {
	if text != "" {
		x.leaf(depth, name, text)
	}
}

var (
	textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\n", "&#xA;", "\t", "&#x9;")
)

func (x *xmlWriter) text(s string) { textEscaper.WriteString(x, s) }

func (x *xmlWriter) attrValue(s string) { attrEscaper.WriteString(x, s) }
