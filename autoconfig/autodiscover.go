package autoconfig

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Namespaces of Microsoft Autodiscover POX (MS-OXDSCLI).
const (
	AutodiscoverRequestNS        = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
	AutodiscoverResponseNS       = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	AutodiscoverOutlookSchema    = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
	AutodiscoverMobileSyncSchema = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
)

// Autodiscover Action values.
const (
	ActionSettings     = "settings"
	ActionRedirectAddr = "redirectAddr"
	ActionRedirectURL  = "redirectUrl"
)

// Autodiscover error codes (MS-OXDSCLI §2.2.4.2.1.1).
const (
	AutodiscoverErrNoAddress      = 500 // the address is not known
	AutodiscoverErrBadAddress     = 501 // no configuration for the address
	AutodiscoverErrInvalidRequest = 600
	AutodiscoverErrNoSchema       = 601 // the requested response schema is not offered
	AutodiscoverErrConfig         = 602
	AutodiscoverErrInternal       = 603
)

// AutodiscoverRequest is the body a client POSTs.
type AutodiscoverRequest struct {
	EMailAddress             string
	AcceptableResponseSchema string
}

// NewAutodiscoverRequest asks for the "outlook" (IMAP/POP3/SMTP) settings of email.
func NewAutodiscoverRequest(email string) *AutodiscoverRequest {
	return &AutodiscoverRequest{EMailAddress: email, AcceptableResponseSchema: AutodiscoverOutlookSchema}
}

// ReadAutodiscoverRequest parses a request body. Namespaces are matched by
// local name, as Exchange does; the address is returned as sent (callers
// validate it with ParseAddress).
func ReadAutodiscoverRequest(r io.Reader) (*AutodiscoverRequest, error) {
	root, err := readTree(r)
	if err != nil {
		return nil, err
	}
	if root.Name != "Autodiscover" {
		return nil, &ParseError{Line: root.Line, Element: root.Name, Msg: "the root element must be <Autodiscover>"}
	}
	req := root.child("Request")
	if req == nil {
		return nil, &ParseError{Line: root.Line, Element: "Autodiscover", Msg: "no <Request> element"}
	}
	out := &AutodiscoverRequest{
		EMailAddress:             req.childText("EMailAddress"),
		AcceptableResponseSchema: req.childText("AcceptableResponseSchema"),
	}
	if out.EMailAddress == "" {
		return nil, &ParseError{Line: req.Line, Element: "Request", Msg: "no <EMailAddress>"}
	}
	return out, nil
}

// WriteTo writes the request body.
func (r *AutodiscoverRequest) WriteTo(w io.Writer) (int64, error) {
	x := &xmlWriter{}
	x.raw(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	x.open(0, "Autodiscover", "xmlns", AutodiscoverRequestNS)
	x.open(1, "Request")
	x.leaf(2, "EMailAddress", r.EMailAddress)
	x.leaf(2, "AcceptableResponseSchema", r.AcceptableResponseSchema)
	x.close(1, "Request")
	x.close(0, "Autodiscover")
	n, err := io.WriteString(w, x.String())
	return int64(n), err
}

// AutodiscoverProtocol is one <Protocol> entry as written on the wire.
// On/off values are kept as booleans; Encryption as written ("" when absent).
type AutodiscoverProtocol struct {
	Type           string // IMAP, POP3, SMTP (others are kept, not used)
	Server         string
	Port           int
	LoginName      string
	DomainRequired bool
	DomainName     string
	SPA            bool
	SSL            bool
	Encryption     string // None, SSL, TLS, Auto, or ""
	AuthRequired   bool
	UsePOPAuth     bool
	SMTPLast       bool
	Line           int
}

// AutodiscoverError is an Error response.
type AutodiscoverError struct {
	Code    int
	Message string
}

func (e *AutodiscoverError) Error() string {
	return fmt.Sprintf("autodiscover error %d: %s", e.Code, e.Message)
}

// AutodiscoverResponse is a POX response: settings, a redirect or an error.
type AutodiscoverResponse struct {
	DisplayName string
	// DisplayNameLine is where <DisplayName> was read (0 when not read).
	DisplayNameLine int
	Action          string
	RedirectAddr    string
	RedirectURL     string
	Protocols       []AutodiscoverProtocol
	Error           *AutodiscoverError
}

// NewAutodiscoverResponse answers addr with p's preferred IMAP or POP3
// servers (in p's order, one of each type, as Outlook takes the first) and its
// preferred SMTP server. SPA is always off and SSL and Encryption always
// agree: SPA on or an empty SSL make Outlook fail against IMAP servers.
func NewAutodiscoverResponse(p *Provider, addr Address) *AutodiscoverResponse {
	r := &AutodiscoverResponse{DisplayName: p.DisplayName, Action: ActionSettings}
	seen := map[Protocol]bool{}
	for _, s := range p.Incoming {
		if !seen[s.Protocol] {
			seen[s.Protocol] = true
			r.Protocols = append(r.Protocols, protocolFor(s, addr))
		}
	}
	if s, ok := p.PreferredOutgoing(); ok {
		r.Protocols = append(r.Protocols, protocolFor(s, addr))
	}
	return r
}

func protocolFor(s Server, addr Address) AutodiscoverProtocol {
	ap := AutodiscoverProtocol{
		Type:         strings.ToUpper(string(s.Protocol)),
		Server:       s.ExpandHostname(addr),
		Port:         s.Port,
		LoginName:    s.ExpandUsername(addr),
		SPA:          s.PreferredAuth() == AuthNTLM,
		SSL:          s.Security != SecurityPlain,
		AuthRequired: s.PreferredAuth() != AuthNone && s.PreferredAuth() != AuthClientIP,
	}
	switch s.Security {
	case SecurityTLS:
		ap.Encryption = "SSL"
	case SecuritySTARTTLS:
		ap.Encryption = "TLS"
	default:
		ap.Encryption = "None"
	}
	return ap
}

// NewAutodiscoverRedirectAddr tells the client to ask again for another address.
func NewAutodiscoverRedirectAddr(addr string) *AutodiscoverResponse {
	return &AutodiscoverResponse{Action: ActionRedirectAddr, RedirectAddr: addr}
}

// NewAutodiscoverRedirectURL tells the client to POST again to url (https only).
func NewAutodiscoverRedirectURL(url string) *AutodiscoverResponse {
	return &AutodiscoverResponse{Action: ActionRedirectURL, RedirectURL: url}
}

// NewAutodiscoverError is an Error response with one of the codes above.
func NewAutodiscoverError(code int, msg string) *AutodiscoverResponse {
	return &AutodiscoverResponse{Error: &AutodiscoverError{Code: code, Message: msg}}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// WriteTo writes the response document.
func (r *AutodiscoverResponse) WriteTo(w io.Writer) (int64, error) {
	x := &xmlWriter{}
	x.raw(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	x.open(0, "Autodiscover", "xmlns", AutodiscoverResponseNS)
	if r.Error != nil {
		x.open(1, "Response")
		x.open(2, "Error", "Time", time.Now().UTC().Format("15:04:05.0000000"), "Id", "0")
		x.leaf(3, "ErrorCode", strconv.Itoa(r.Error.Code))
		x.leaf(3, "Message", r.Error.Message)
		x.empty(3, "DebugData")
		x.close(2, "Error")
		x.close(1, "Response")
	} else {
		x.open(1, "Response", "xmlns", AutodiscoverOutlookSchema)
		if r.DisplayName != "" {
			x.open(2, "User")
			x.leaf(3, "DisplayName", r.DisplayName)
			x.close(2, "User")
		}
		x.open(2, "Account")
		x.leaf(3, "AccountType", "email")
		x.leaf(3, "Action", r.Action)
		switch r.Action {
		case ActionRedirectAddr:
			x.leaf(3, "RedirectAddr", r.RedirectAddr)
		case ActionRedirectURL:
			x.leaf(3, "RedirectUrl", r.RedirectURL)
		}
		for _, p := range r.Protocols {
			x.open(3, "Protocol")
			x.leaf(4, "Type", p.Type)
			x.leaf(4, "Server", p.Server)
			x.leaf(4, "Port", strconv.Itoa(p.Port))
			x.leaf(4, "DomainRequired", onOff(p.DomainRequired))
			x.leafIf(4, "DomainName", p.DomainName)
			x.leafIf(4, "LoginName", p.LoginName)
			x.leaf(4, "SPA", onOff(p.SPA))
			x.leaf(4, "SSL", onOff(p.SSL))
			x.leafIf(4, "Encryption", p.Encryption)
			x.leaf(4, "AuthRequired", onOff(p.AuthRequired))
			if p.Type == "SMTP" {
				x.leaf(4, "UsePOPAuth", onOff(p.UsePOPAuth))
				x.leaf(4, "SMTPLast", onOff(p.SMTPLast))
			}
			x.close(3, "Protocol")
		}
		x.close(2, "Account")
		x.close(1, "Response")
	}
	x.close(0, "Autodiscover")
	n, err := io.WriteString(w, x.String())
	return int64(n), err
}

// ReadAutodiscoverResponse parses a POX response. An Error response is
// returned as a response with Error set, not as a Go error: it is a valid
// answer that says "no".
func ReadAutodiscoverResponse(r io.Reader) (*AutodiscoverResponse, error) {
	root, err := readTree(r)
	if err != nil {
		return nil, err
	}
	if root.Name != "Autodiscover" {
		return nil, &ParseError{Line: root.Line, Element: root.Name, Msg: "the root element must be <Autodiscover>"}
	}
	resp := root.child("Response")
	if resp == nil {
		return nil, &ParseError{Line: root.Line, Element: "Autodiscover", Msg: "no <Response> element"}
	}
	out := &AutodiscoverResponse{}
	if e := resp.child("Error"); e != nil {
		code, _ := strconv.Atoi(e.childText("ErrorCode"))
		out.Error = &AutodiscoverError{Code: code, Message: e.childText("Message")}
		return out, nil
	}
	if u := resp.child("User"); u != nil {
		out.DisplayName, out.DisplayNameLine = u.childText("DisplayName"), lineOf(u, "DisplayName")
	}
	acct := resp.child("Account")
	if acct == nil {
		return nil, &ParseError{Line: resp.Line, Element: "Response", Msg: "neither <Account> nor <Error>"}
	}
	out.Action = acct.childText("Action")
	switch out.Action {
	case ActionRedirectAddr:
		out.RedirectAddr = acct.childText("RedirectAddr")
		if out.RedirectAddr == "" {
			return nil, &ParseError{Line: acct.Line, Element: "Account", Msg: "Action redirectAddr without <RedirectAddr>"}
		}
		return out, nil
	case ActionRedirectURL:
		out.RedirectURL = acct.childText("RedirectUrl")
		if out.RedirectURL == "" {
			return nil, &ParseError{Line: acct.Line, Element: "Account", Msg: "Action redirectUrl without <RedirectUrl>"}
		}
		return out, nil
	}
	for _, c := range acct.Children {
		if c.Name != "Protocol" {
			continue
		}
		port, _ := strconv.Atoi(c.childText("Port"))
		out.Protocols = append(out.Protocols, AutodiscoverProtocol{
			Type:           strings.ToUpper(c.childText("Type")),
			Server:         c.childText("Server"),
			Port:           port,
			LoginName:      c.childText("LoginName"),
			DomainRequired: on(c, "DomainRequired", false),
			DomainName:     c.childText("DomainName"),
			SPA:            on(c, "SPA", true), // MS-OXDSCLI: SPA defaults to on
			SSL:            on(c, "SSL", true),
			Encryption:     c.childText("Encryption"),
			AuthRequired:   on(c, "AuthRequired", true),
			UsePOPAuth:     on(c, "UsePOPAuth", false),
			SMTPLast:       on(c, "SMTPLast", false),
			Line:           c.Line,
		})
	}
	return out, nil
}

func on(el *element, name string, def bool) bool {
	c := el.child(name)
	if c == nil || c.text() == "" {
		return def
	}
	return strings.EqualFold(c.text(), "on")
}

// Security is how a client reads the entry: Encryption, where present,
// overrides SSL (MS-OXDSCLI 2021). SSL on alone means STARTTLS on the
// ports where that is the standard (143, 110, 25, 587), as Thunderbird reads it.
func (p AutodiscoverProtocol) Security() Security {
	switch strings.ToLower(p.Encryption) {
	case "none":
		return SecurityPlain
	case "ssl":
		return SecurityTLS
	case "tls":
		return SecuritySTARTTLS
	}
	if !p.SSL {
		return SecurityPlain
	}
	if sec, ok := StandardSecurity(p.Port); ok && sec == SecuritySTARTTLS {
		return SecuritySTARTTLS
	}
	return SecurityTLS
}

// Provider converts a settings response into the model for domain. The
// LoginName is kept literally (it was computed for one address); without
// one, clients log in with the full address.
func (r *AutodiscoverResponse) Provider(domain string) (*Provider, error) {
	if r.Error != nil {
		return nil, r.Error
	}
	if r.Action != "" && r.Action != ActionSettings {
		return nil, fmt.Errorf("%w: the response is a %s, not settings", ErrMalformed, r.Action)
	}
	d, err := ParseDomain(domain)
	if err != nil {
		return nil, err
	}
	if err := CheckOneLine("the <DisplayName>", r.DisplayName); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	p := &Provider{ID: d.ASCII, Domains: []string{d.ASCII}, DisplayName: r.DisplayName}
	for _, ap := range r.Protocols {
		var proto Protocol
		switch ap.Type {
		case "IMAP":
			proto = IMAP
		case "POP3", "POP":
			proto = POP3
		case "SMTP":
			proto = SMTP
		default:
			continue
		}
		if ap.Server == "" || ap.Port < 1 || ap.Port > 65535 {
			continue
		}
		// A bad host name is refused outright, not skipped: the response
		// is broken or hostile, and the next entry is no better trusted.
		host, err := ParseHostname(ap.Server)
		if err != nil {
			return nil, fmt.Errorf("%w: the %s <Server> (line %d): %w", ErrMalformed, ap.Type, ap.Line, err)
		}
		if err := CheckOneLine("the <LoginName>", ap.LoginName); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		s := Server{Protocol: proto, Hostname: host, Port: ap.Port, Security: ap.Security(), Username: ap.LoginName, Line: ap.Line}
		if s.Username == "" {
			s.Username = PlaceholderAddress
		}
		switch {
		case !ap.AuthRequired && proto == SMTP:
			s.Auth = []AuthMethod{AuthNone}
		case ap.SPA:
			s.Auth = []AuthMethod{AuthNTLM}
		default:
			s.Auth = []AuthMethod{AuthPasswordCleartext}
		}
		if proto == SMTP {
			p.Outgoing = append(p.Outgoing, s)
		} else {
			p.Incoming = append(p.Incoming, s)
		}
	}
	if len(p.Incoming) == 0 {
		return nil, fmt.Errorf("%w: the Autodiscover response lists no IMAP or POP3 server", ErrMalformed)
	}
	return p, nil
}
