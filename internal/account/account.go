// Package account is the one way from a provider's settings and a person's
// answers to the files mail clients import (mailsetup issue 12).
//
// profile, wizard, batch and demo all call Render and then Write: they
// differ only in how they ask for the answers and what they print, so the
// same answers give the same files by construction. Render returns typed
// Notices (a client left out, a placeholder path, a password in a file); the
// command line alone turns them into words, the same words in every command.
package account

import (
	"errors"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/probe"
	"github.com/mailsetup/mailsetup/profiles"
)

// Why a probe report gives no settings to write. Callers branch on them
// (exit codes, batch statuses) with errors.Is.
var (
	// ErrNothingWorks: no incoming server was proven.
	ErrNothingWorks = errors.New("account: no working mail server")
	// ErrInsecureOnly: only servers without valid encryption answered, and
	// insecure use was not allowed.
	ErrInsecureOnly = errors.New("account: only insecure servers work")
	// ErrNoOutgoing: an incoming server works, but no SMTP server does;
	// every client needs one to send mail.
	ErrNoOutgoing = errors.New("account: no working SMTP server")
)

// Why Render refuses to write files (issue 13: values from outside are
// checked once, in the model, before any file is written).
var (
	// ErrBadSettings: the settings hold a value no file may carry (a
	// server name that is no host name, a line break in a text); the
	// error wraps autoconfig.Provider.Validate's, which names the value
	// and says what to write. The settings' source (a file, a report, a
	// server) is at fault, not the person.
	ErrBadSettings = errors.New("account: the settings cannot go into a file")
	// ErrBadAnswer: the person's name or login name holds a line break or
	// another control character (autoconfig.CheckOneLine).
	ErrBadAnswer = errors.New("account: an answer cannot go into a file")
)

// refusal is one of Render's refusals: it reads as the model's own error,
// which already names the value and what to write, and is also kind.
type refusal struct{ kind, err error }

func (r refusal) Error() string   { return r.err.Error() }
func (r refusal) Unwrap() []error { return []error{r.kind, r.err} }

// Settings are a provider's settings and where they came from: a probe, a
// saved report, or a settings file.
type Settings struct {
	Provider *autoconfig.Provider
	// Recommended is the probe's recommended incoming protocol; "" for a
	// settings file, whose first IMAP server is then taken.
	Recommended autoconfig.Protocol
	// Proven says a login worked on the servers the settings recommend.
	// Without it (a settings file, a report whose login was skipped,
	// refused or unanswered) every file says inside itself that its
	// settings were not proven (profiles.Options.Unproven, issue 13).
	Proven bool
}

// FromReport takes the recommendation of a probe report, or says with one
// of the errors above why there is none.
func FromReport(rep *probe.Report) (Settings, error) {
	p := rep.Settings()
	if p == nil {
		if rep.Status == probe.StatusInsecureOnly {
			return Settings{}, ErrInsecureOnly
		}
		return Settings{}, ErrNothingWorks
	}
	if len(p.Outgoing) == 0 {
		return Settings{}, ErrNoOutgoing
	}
	return Settings{Provider: p, Recommended: rep.Recommendation.Protocol, Proven: provenByLogin(rep)}, nil
}

// provenByLogin reads the recommendation's Confidence: "login" is a
// password accepted on both servers over valid TLS. "pinned" and
// "plaintext" say how the connection was trusted, not whether a login was
// made, so for them the servers' own login results decide. Every other
// confidence ("tls", "unconfirmed", "login-rejected") means no login worked.
func provenByLogin(rep *probe.Report) bool {
	rec := rep.Recommendation
	switch rec.Confidence {
	case probe.ConfidenceLogin:
		return true
	case probe.ConfidencePinned, probe.ConfidencePlaintext:
		return loggedIn(rep, rec.Incoming) && (rec.Outgoing == nil || loggedIn(rep, *rec.Outgoing))
	}
	return false
}

// loggedIn says whether the report's server for e took the login.
func loggedIn(rep *probe.Report, e probe.Endpoint) bool {
	for _, s := range rep.Servers {
		if s.Protocol == e.Protocol && s.Host == e.Host && s.Port == e.Port && s.Security == e.Security {
			return s.Login == probe.LoginOK
		}
	}
	return false
}

// Answers are what the person decided. Every field is a flag of profile and
// wizard and a question of the wizard; batch takes Name and Username from
// its CSV.
type Answers struct {
	// Name is the sender name that goes into every file.
	Name string
	// Protocol is imap or pop3; "" takes the recommendation.
	Protocol autoconfig.Protocol
	// Username is the login name when it is not what the provider's
	// template gives (often the address); "" keeps the template.
	Username string
	Formats  []profiles.Format
	// AutodiscoverPath is where the person keeps outlook/autodiscover.xml
	// on Windows; "" leaves a placeholder in the .reg (and a Notice).
	AutodiscoverPath string
	// Signer signs the Apple profile; nil leaves it unsigned.
	Signer *profiles.Signer
	// Password goes into the Apple profile (--include-password); nil keeps
	// every file free of it.
	Password []byte
	// Services are what the files set up besides mail (--services); nil
	// sets up everything the provider offers.
	Services []Service
}

// Rendered is the files for one account, not yet written.
type Rendered struct {
	Account profiles.Account
	// Protocol is the incoming protocol the files use.
	Protocol autoconfig.Protocol
	Files    []profiles.File
	// Services are what the files set up: mail, and the calendar and
	// contacts that were both chosen and found.
	Services []Service
	// Notices are what the person must know before importing the files.
	Notices []Notice
}

// NoticeKind says what a Notice is about.
type NoticeKind string

const (
	// NoticeOmitted: a client got no files (Format, Err say which and
	// why), or, when File is set, only that one of its files was left out.
	NoticeOmitted NoticeKind = "omitted"
	// NoticeSecretFile: File holds the password in clear text.
	NoticeSecretFile NoticeKind = "secret-file"
	// NoticeAutodiscoverPlaceholder: File (the .reg) points at a
	// placeholder path because the Autodiscover path was not given.
	NoticeAutodiscoverPlaceholder NoticeKind = "autodiscover-placeholder"
	// NoticeCaveat: File may do less in its client than the settings say
	// (profiles.Caveats: STARTTLS in the .prf or the Apple profile, POP3
	// removed after some days, an IDN domain to type as xn--); Caveat has
	// the kind and the remedy.
	NoticeCaveat NoticeKind = "caveat"
	// NoticeUnencrypted: Server sends passwords and mail unencrypted.
	NoticeUnencrypted NoticeKind = "unencrypted"
	// NoticeServiceNotFound: Service was asked for (--services) but the
	// provider's settings offer none.
	NoticeServiceNotFound NoticeKind = "service-not-found"
)

// Notice is one thing to tell the person about the files, typed so that
// every command words it the same way.
type Notice struct {
	Kind   NoticeKind
	Format profiles.Format
	// File is the slash path of the file concerned, relative to the folder.
	File   string
	Server autoconfig.Server
	// Err is why a client was left out (NoticeOmitted).
	Err error
	// Service is the calendar or contacts asked for but not found
	// (NoticeServiceNotFound).
	Service Service
	// Caveat is what a file cannot promise in its client (NoticeCaveat);
	// Files are all the files it concerns, once per remedy, so that one
	// problem gives one warning.
	Caveat profiles.Caveat
	Files  []string
}

// outlookRegPath is the .reg file that points Outlook at autodiscover.xml.
const outlookRegPath = "outlook/autodiscover.reg"

// Render builds the account from the settings and the answers and renders
// the files. A client that cannot take the account (no Android QR code for a
// non-ASCII address) is left out with a Notice rather than costing the
// others; an error is for settings or answers no file can be made from.
func Render(s Settings, addr autoconfig.Address, a Answers) (*Rendered, error) {
	if s.Provider == nil {
		return nil, ErrNothingWorks
	}
	// Every command passes here, whatever the settings' source (a probe, a
	// saved report, a settings file, a batch row), so this is where the
	// model's check runs before anything is rendered.
	if err := s.Provider.Validate(); err != nil {
		return nil, refusal{ErrBadSettings, err}
	}
	for _, v := range []struct{ what, value string }{{"the name", a.Name}, {"the login name", a.Username}} {
		if err := autoconfig.CheckOneLine(v.what, v.value); err != nil {
			return nil, refusal{ErrBadAnswer, err}
		}
	}
	protocol := a.Protocol
	if protocol == "" {
		protocol = s.Recommended
	}
	// The services choice filters the provider's calendar and contacts
	// before any writer sees them: every format leaves out the same.
	provider, services, missing := chooseServices(s.Provider, a.Services)
	acct, err := profiles.NewAccount(provider, addr, a.Name, protocol)
	if err != nil {
		return nil, err
	}
	if a.Username != "" {
		// The person's login name beats the provider's template on both
		// servers and on the calendar and contacts, which providers run
		// with the mail login; an outgoing server without password login
		// keeps none.
		acct.Incoming.Username = a.Username
		if acct.Outgoing.PreferredAuth().UsesPassword() {
			acct.Outgoing.Username = a.Username
		}
		for i := range acct.Provider.DAV {
			acct.Provider.DAV[i].Username = a.Username
		}
	}
	opts := profiles.Options{AutodiscoverPath: a.AutodiscoverPath, Unproven: !s.Proven}
	opts.Apple.Signer = a.Signer
	if a.Password != nil {
		opts.Apple.Password = string(a.Password)
	}
	files, omitted, err := profiles.RenderAvailable(acct, a.Formats, opts)
	if err != nil {
		return nil, err
	}
	r := &Rendered{Account: acct, Protocol: acct.Incoming.Protocol, Files: files, Services: services}
	for _, m := range missing {
		r.Notices = append(r.Notices, Notice{Kind: NoticeServiceNotFound, Service: m})
	}
	for _, o := range omitted {
		r.Notices = append(r.Notices, Notice{Kind: NoticeOmitted, Format: o.Format, File: o.Path, Err: o.Err})
	}
	for _, f := range files {
		switch {
		case f.Secret:
			r.Notices = append(r.Notices, Notice{Kind: NoticeSecretFile, Format: f.Format, File: f.Path})
		case f.Format == profiles.Outlook && f.Path == outlookRegPath && a.AutodiscoverPath == "":
			r.Notices = append(r.Notices, Notice{Kind: NoticeAutodiscoverPlaceholder, Format: f.Format, File: f.Path})
		}
	}
	// What a file cannot promise in its client comes from the writers'
	// own list, so the command says what the file's notes say.
	byRemedy := map[string]int{}
	for _, c := range profiles.Caveats(acct, files) {
		if i, ok := byRemedy[c.Remedy]; ok {
			r.Notices[i].Files = append(r.Notices[i].Files, c.Path)
			continue
		}
		byRemedy[c.Remedy] = len(r.Notices)
		r.Notices = append(r.Notices, Notice{Kind: NoticeCaveat, Format: formatOf(files, c.Path), File: c.Path, Caveat: c, Files: []string{c.Path}})
	}
	for _, srv := range []autoconfig.Server{acct.In(), acct.Out()} {
		if srv.Security == autoconfig.SecurityPlain {
			r.Notices = append(r.Notices, Notice{Kind: NoticeUnencrypted, Server: srv})
		}
	}
	return r, nil
}

// formatOf is the format of the file at path.
func formatOf(files []profiles.File, path string) profiles.Format {
	for _, f := range files {
		if f.Path == path {
			return f.Format
		}
	}
	return ""
}

// Write writes the files into dir, all or nothing (profiles.WriteFiles);
// existing files are replaced only with force.
func (r *Rendered) Write(dir string, force bool) error {
	return profiles.WriteFiles(dir, r.Files, force)
}
