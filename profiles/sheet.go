package profiles

import (
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// sheetRow is one server as a person types it into a mail app.
type sheetRow struct {
	Role     string // "Incoming mail (IMAP)"
	Host     string
	Port     int
	Security string
	Username string
	// Password says what to do for the password: an instruction, never a
	// value, so the sheet shows it in words, not in the typed-value style.
	Password string
}

// sheetDAV is a calendar or contacts service as a person types it: most
// apps take the URL and find the calendars or address books under it.
type sheetDAV struct {
	Role     string // "Calendar (CalDAV)"
	URL      string
	Username string
	Password string
}

type sheetData struct {
	// Unproven, when set, is the warning that the settings were not proven.
	Unproven   string
	Address    string
	Name       string
	Provider   string
	Rows       []sheetRow
	DAV        []sheetDAV
	WhyIMAP    string
	POP3Advice string
	Notes      []sheetNote
}

// sheetNote is a sentence with at most one address or URL in it, which the
// HTML sheet keeps on one line: a browser may break "xn--bcher-kva" at its
// hyphens, and a person would type the broken halves.
type sheetNote struct {
	Before, Value, After string
}

func (n sheetNote) String() string { return n.Before + n.Value + n.After }

// whyIMAP is the two sentences the issue asks the sheet to carry.
const whyIMAP = "IMAP keeps your mail on the server, so your phone, tablet and computer all show the same mailbox, and losing a device loses no mail. POP3 downloads the mail to one device and, by default, deletes it from the server."

func sheetFor(acct Account) sheetData {
	in, out := acct.In(), acct.Out()
	row := func(role string, s autoconfig.Server) sheetRow {
		r := sheetRow{Role: role, Host: commentSafe(s.Hostname), Port: s.Port, Security: s.Security.Description(), Username: commentSafe(s.Username),
			Password: "type your e-mail password (it is not on this sheet)"}
		switch a := s.PreferredAuth(); {
		case a == autoconfig.AuthOAuth2:
			r.Password = "sign in on the provider's page (OAuth2)"
		case !a.UsesPassword():
			r.Username, r.Password = "(none)", "(none)"
		}
		return r
	}
	d := sheetData{
		Address: acct.Address.String(),
		// One value, one line: the text sheet cannot be given extra lines.
		Name:     commentSafe(acct.DisplayName),
		Provider: commentSafe(acct.providerName()),
		Rows: []sheetRow{
			row("Incoming mail ("+in.Protocol.DisplayName()+")", in),
			row("Outgoing mail (SMTP)", out),
		},
		WhyIMAP: whyIMAP,
	}
	for _, s := range acct.dav() {
		d.DAV = append(d.DAV, sheetDAV{Role: s.Role(), URL: commentSafe(s.URL), Username: commentSafe(s.Username),
			Password: "type your e-mail password (it is not on this sheet)"})
	}
	if acct.unproven {
		d.Unproven = unprovenNote
	}
	_, hasIMAP := acct.Provider.FirstIncoming(autoconfig.IMAP)
	switch {
	case in.Protocol == autoconfig.POP3 && hasIMAP:
		d.POP3Advice = `This account is set up with POP3 although ` + acct.providerName() + ` offers IMAP too: in the app, switch on "Leave a copy of messages on the server" and switch off "Remove from server after ... days" (many apps switch it on by itself), so the mail stays there for your other devices; or set the account up with IMAP instead.`
	case in.Protocol == autoconfig.POP3:
		d.POP3Advice = acct.providerName() + ` offers only POP3: in the app, switch on "Leave a copy of messages on the server" and switch off "Remove from server after ... days" (many apps switch it on by itself), so the mail stays there for your other devices; and ask whether IMAP can be switched on.`
	default:
		d.POP3Advice = `If only POP3 works, switch on "Leave a copy of messages on the server" and switch off "Remove from server after ... days", so the mail stays there for your other devices.`
	}
	if acct.Provider.Enable != nil {
		d.Notes = append(d.Notes, sheetNote{"The provider asks you to switch on IMAP/POP3 access first, at ", acct.Provider.Enable.URL, "."})
	}
	plainDAV := slices.ContainsFunc(acct.dav(), func(s davService) bool { return !s.TLS })
	if in.Security == autoconfig.SecurityPlain || out.Security == autoconfig.SecurityPlain || plainDAV {
		d.Notes = append(d.Notes, sheetNote{Before: "Warning: a server here is not encrypted; your password would travel readable by anyone on the network."})
	}
	if acct.Address.Domain != acct.Address.DomainUnicode {
		// Thunderbird's account setup refuses a Unicode domain before it
		// looks anywhere (its hostname sanitiser takes ASCII only), and
		// other apps do the same: the A-label form works everywhere.
		d.Notes = append(d.Notes, sheetNote{"Type the address as ", acct.Address.ASCII(),
			": Thunderbird and other apps refuse the form with " + acct.Address.DomainUnicode + "."})
	}
	return d
}

// writeSettingsText writes the settings table as plain text.
func writeSettingsText(b *strings.Builder, acct Account) {
	d := sheetFor(acct)
	if d.Unproven != "" {
		fmt.Fprintf(b, "WARNING: %s\n\n", d.Unproven)
	}
	fmt.Fprintf(b, "E-mail address:  %s\n", d.Address)
	if d.Name != "" {
		fmt.Fprintf(b, "Your name:       %s\n", d.Name)
	}
	for _, r := range d.Rows {
		fmt.Fprintf(b, "\n%s\n", r.Role)
		fmt.Fprintf(b, "  Server:    %s\n", r.Host)
		fmt.Fprintf(b, "  Port:      %d\n", r.Port)
		fmt.Fprintf(b, "  Security:  %s\n", r.Security)
		fmt.Fprintf(b, "  Username:  %s\n", r.Username)
		fmt.Fprintf(b, "  Password:  %s\n", r.Password)
	}
	for _, r := range d.DAV {
		fmt.Fprintf(b, "\n%s\n", r.Role)
		fmt.Fprintf(b, "  Server URL:  %s\n", r.URL)
		fmt.Fprintf(b, "  Username:    %s\n", r.Username)
		fmt.Fprintf(b, "  Password:    %s\n", r.Password)
	}
	for _, n := range d.Notes {
		fmt.Fprintf(b, "\n%s\n", n)
	}
}

// SheetText writes the setup sheet as plain text.
func SheetText(w io.Writer, acct Account) error {
	var b strings.Builder
	d := sheetFor(acct)
	fmt.Fprintf(&b, "E-mail settings for %s (%s)\n\n", d.Address, d.Provider)
	writeSettingsText(&b, acct)
	fmt.Fprintf(&b, "\nWhy IMAP: %s\n%s\n", d.WhyIMAP, d.POP3Advice)
	_, err := io.WriteString(w, b.String())
	return err
}

var sheetHTML = template.Must(template.New("sheet").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>E-mail settings for {{.Address}}</title>
<style>
body { font-family: sans-serif; max-width: 42em; margin: 2em auto; color: #111; }
table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { border: 1px solid #999; padding: .4em .6em; text-align: left; vertical-align: top; }
th { width: 9em; background: #eee; }
td { font-family: monospace; font-size: 1.1em; }
td, .value { white-space: nowrap; }
td.todo { font-family: sans-serif; font-size: 1em; font-style: italic; white-space: normal; }
.warning { border: 2px solid #c00; padding: .6em; font-weight: bold; }
.note { border-left: 4px solid #c60; padding-left: .8em; }
@media print { body { margin: 0; } }
</style>
</head>
<body>
<h1>E-mail settings</h1>
{{if .Unproven}}<p class="warning">{{.Unproven}}</p>
{{end}}<p>For <strong class="value">{{.Address}}</strong> at {{.Provider}}.{{if .Name}} Your name: <strong>{{.Name}}</strong>.{{end}}</p>
{{range .Rows}}
<h2>{{.Role}}</h2>
<table>
<tr><th>Server</th><td>{{.Host}}</td></tr>
<tr><th>Port</th><td>{{.Port}}</td></tr>
<tr><th>Security</th><td>{{.Security}}</td></tr>
<tr><th>Username</th><td>{{.Username}}</td></tr>
<tr><th>Password</th><td class="todo">{{.Password}}</td></tr>
</table>
{{end}}{{range .DAV}}
<h2>{{.Role}}</h2>
<table>
<tr><th>Server URL</th><td>{{.URL}}</td></tr>
<tr><th>Username</th><td>{{.Username}}</td></tr>
<tr><th>Password</th><td class="todo">{{.Password}}</td></tr>
</table>{{end}}
{{range .Notes}}<p class="note">{{.Before}}{{if .Value}}<span class="value">{{.Value}}</span>{{end}}{{.After}}</p>
{{end}}
<h2>Why IMAP</h2>
<p>{{.WhyIMAP}}</p>
<p>{{.POP3Advice}}</p>
</body>
</html>
`))

// SheetHTML writes the setup sheet as a printable HTML page. Every value is
// escaped by html/template: names and hosts come from files and servers.
func SheetHTML(w io.Writer, acct Account) error {
	return sheetHTML.Execute(w, sheetFor(acct))
}
