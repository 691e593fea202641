// Package profiles turns a provider's settings (the autoconfig model) and one
// account into files that mail clients import as they are:
//
//   - Thunderbird: the provider's config-v1.1 XML for the install's isp/
//     folder (draft-ietf-mailmaint-autoconfig), and a user.js that creates the
//     whole account in a new profile;
//   - classic Outlook for Windows: an Autodiscover POX response (MS-OXDSCLI)
//     with the .reg file that makes Outlook read it (PreferLocalXML), and a
//     .prf profile for outlook.exe /importprf;
//   - Apple: a .mobileconfig with a com.apple.mail.managed payload (Apple's
//     device-management schema), optionally CMS-signed (RFC 5652);
//   - Android: the Thunderbird-for-Android QR import format, version 1, as PNG
//     and text, with a note for the other Android apps;
//   - a printable setup sheet (HTML and plain text) for typing the settings.
//
// Every writer takes an Account and writes to an io.Writer, so the HTTP
// server (autoconfig/server) serves the same bytes the command writes. Write
// renders every file first and then moves them into place together: a failed
// run leaves nothing behind, and nothing is overwritten unless asked.
package profiles

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// Sentinel errors; wrapped with %w and the detail that says what to do.
var (
	// ErrNoServer: the settings have no usable server for the account.
	ErrNoServer = errors.New("profiles: no usable server")
	// ErrUnsupported: a client's format cannot express the settings.
	ErrUnsupported = errors.New("profiles: not possible in this client's format")
	// ErrBadSigner: the signing certificate, key or chain cannot be used.
	ErrBadSigner = errors.New("profiles: cannot sign")
	// ErrBadPath: the Autodiscover path is not an absolute Windows path.
	ErrBadPath = errors.New("profiles: bad path")
	// ErrBadFormat: an unknown format name.
	ErrBadFormat = errors.New("profiles: unknown format")
	// ErrExists: a file is in the way and overwriting was not allowed.
	ErrExists = errors.New("profiles: file exists")
)

// Account is one person's mailbox at a provider: the address, the name their
// mail is sent with, and the servers chosen for them. Incoming and Outgoing
// keep the provider's templates (%EMAILLOCALPART%, mail.%EMAILDOMAIN%); the
// writers expand them for Address.
type Account struct {
	Address autoconfig.Address
	// DisplayName is the sender name; every format that carries one gets it.
	DisplayName string
	// Provider is the full settings: Thunderbird's isp/ file carries all of
	// them, and the Apple profile looks there for implicit-TLS alternatives.
	Provider *autoconfig.Provider
	// Incoming is the chosen IMAP or POP3 server, Outgoing the SMTP server.
	Incoming autoconfig.Server
	Outgoing autoconfig.Server

	// unproven is Options.Unproven, set by Render for the writers.
	unproven bool
}

// NewAccount picks the servers for addr from p: the provider's first server of
// protocol (IMAP when protocol is "" and the provider has one, else POP3) and
// its first SMTP server. A POP3 account always leaves messages on the server,
// whatever the provider's file says, so that POP3 never deletes the only copy
// of someone's mail.
func NewAccount(p *autoconfig.Provider, addr autoconfig.Address, displayName string, protocol autoconfig.Protocol) (Account, error) {
	var in autoconfig.Server
	var ok bool
	switch protocol {
	case "":
		in, ok = p.PreferredIncoming()
	case autoconfig.IMAP, autoconfig.POP3:
		in, ok = p.FirstIncoming(protocol)
	default:
		return Account{}, fmt.Errorf("%w: protocol %q: choose imap or pop3", ErrNoServer, protocol)
	}
	if !ok {
		what := "IMAP or POP3 server"
		if protocol != "" {
			what = protocol.DisplayName() + " server"
		}
		return Account{}, fmt.Errorf("%w: the settings for %s have no %s; choose the other protocol or give other settings",
			ErrNoServer, addr.Domain, what)
	}
	out, ok := p.PreferredOutgoing()
	if !ok {
		return Account{}, fmt.Errorf("%w: the settings for %s have no SMTP server for sending; give settings that name one",
			ErrNoServer, addr.Domain)
	}
	for _, s := range []autoconfig.Server{in, out} {
		if s.Hostname == "" || s.Port < 1 || s.Port > 65535 || !s.Security.Valid() || len(s.Auth) == 0 {
			return Account{}, fmt.Errorf("%w: the %s server %q:%d lacks a host, a port from 1 to 65535, a security or an authentication method; fix the settings",
				ErrNoServer, s.Protocol.DisplayName(), s.Hostname, s.Port)
		}
	}
	p = p.Clone()
	if p.ID == "" {
		p.ID = addr.Domain
	}
	if !slices.Contains(p.Domains, addr.Domain) {
		p.Domains = append(p.Domains, addr.Domain)
	}
	if in.Username == "" {
		in.Username = autoconfig.PlaceholderAddress
	}
	if out.Username == "" && out.PreferredAuth().UsesPassword() {
		out.Username = in.Username
	}
	if in.Protocol == autoconfig.POP3 {
		o := autoconfig.POP3Options{}
		if in.POP3 != nil {
			o = *in.POP3
		}
		o.LeaveMessagesOnServer = true
		in.POP3 = &o
	}
	return Account{Address: addr, DisplayName: displayName, Provider: p, Incoming: in, Outgoing: out}, nil
}

// expanded returns s with its host name and username filled in for the account.
func (a Account) expanded(s autoconfig.Server) autoconfig.Server {
	s.Hostname = s.ExpandHostname(a.Address)
	s.Username = s.ExpandUsername(a.Address)
	return s
}

// In is the incoming server with host and username expanded.
func (a Account) In() autoconfig.Server { return a.expanded(a.Incoming) }

// Out is the outgoing server with host and username expanded.
func (a Account) Out() autoconfig.Server { return a.expanded(a.Outgoing) }

// name is the display name, or the address when none was given.
func (a Account) name() string {
	if a.DisplayName != "" {
		return a.DisplayName
	}
	return a.Address.ASCII()
}

// providerName is how the provider calls itself, or its domain.
func (a Account) providerName() string {
	if a.Provider != nil && a.Provider.DisplayName != "" {
		return a.Provider.DisplayName
	}
	return a.Address.DomainUnicode
}

// Format is one client family's set of files.
type Format string

const (
	Thunderbird Format = "thunderbird"
	Outlook     Format = "outlook"
	Apple       Format = "apple"
	Android     Format = "android"
	Sheet       Format = "sheet"
)

// AllFormats lists every format in the order they are written and reported.
var AllFormats = []Format{Thunderbird, Outlook, Apple, Android, Sheet}

// ParseFormats reads a comma-separated list such as "thunderbird,apple" or
// "all". Duplicates are dropped; the order is AllFormats'.
func ParseFormats(s string) ([]Format, error) {
	want := map[Format]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		switch {
		case f == "all":
			for _, a := range AllFormats {
				want[a] = true
			}
		case slices.Contains(AllFormats, Format(f)):
			want[Format(f)] = true
		default:
			return nil, fmt.Errorf("%w %q: use thunderbird, outlook, apple, android, sheet or all", ErrBadFormat, f)
		}
	}
	var out []Format
	for _, f := range AllFormats {
		if want[f] {
			out = append(out, f)
		}
	}
	return out, nil
}

// Clients names who takes the format's files, for the command's output.
func (f Format) Clients() string {
	switch f {
	case Thunderbird:
		return "Thunderbird (desktop)"
	case Outlook:
		return "classic Outlook for Windows: .prf 2010-2024, .reg+xml 2016-2024, both Microsoft 365 (not New Outlook, not Outlook for Mac)"
	case Apple:
		return "iPhone, iPad, Mac (Apple Mail)"
	case Android:
		return "Thunderbird for Android (QR); Gmail, Samsung Email, Outlook: by hand"
	case Sheet:
		return "any client, typed by hand"
	}
	return string(f)
}

// NextStep is the one thing to do next with the format's files.
func (f Format) NextStep() string {
	switch f {
	case Thunderbird:
		return "new profile: copy thunderbird/user.js into it and start Thunderbird (read the comments first: it replaces the account list); or copy thunderbird/isp/*.xml into Thunderbird's isp/ folder"
	case Outlook:
		return "run outlook.exe /importprf \"FULL-PATH\\outlook.prf\"; or keep autodiscover.xml where autodiscover.reg says, double-click the .reg, then File > Add Account"
	case Apple:
		return "iPhone/iPad: AirDrop or mail the .mobileconfig, open it, then Settings > Profile Downloaded > Install (within 8 minutes); Mac: double-click it, then System Settings > Privacy & Security > Profiles"
	case Android:
		return "Thunderbird for Android: Import settings > Scan QR code, scan android/thunderbird-qr.png; other apps: type the settings in android/README.txt"
	case Sheet:
		return "print sheet/setup.html (or read sheet/setup.txt) and type the settings into the mail app"
	}
	return ""
}

// File is one rendered file, not yet on disk.
type File struct {
	Format Format `json:"format"`
	// Path is slash-separated and relative to the output directory.
	Path string `json:"path"`
	// About says in a few words what the file is.
	About string `json:"about"`
	// Secret marks a file that holds a password: it is written 0600.
	Secret bool   `json:"secret,omitempty"`
	Data   []byte `json:"-"`
}

// Options change what the writers put in the files.
type Options struct {
	// AutodiscoverPath is the absolute Windows path where the user will keep
	// the Autodiscover XML; the .reg file points Outlook there. Empty writes
	// a placeholder the user must replace.
	AutodiscoverPath string
	// Apple holds the .mobileconfig's password and signing options.
	Apple AppleOptions
	// Unproven says the settings were not proven to work (no login was
	// made, or it did not finish): every file that carries comments or notes
	// then says so inside itself, so that a file found later does not claim
	// more than was checked.
	Unproven bool
}
