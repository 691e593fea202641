package profiles

import (
	"fmt"
	"path"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// CaveatKind names a way a written file may do less in its client than the
// settings say.
type CaveatKind string

const (
	// CaveatOutlookSTARTTLS: the .prf asks for STARTTLS on the incoming
	// server with a value Microsoft documents for SMTP only.
	CaveatOutlookSTARTTLS CaveatKind = "outlook-prf-starttls"
	// CaveatAppleSTARTTLS: the .mobileconfig can only say "use SSL" for a
	// STARTTLS port; it cannot forbid falling back to no encryption.
	CaveatAppleSTARTTLS CaveatKind = "apple-starttls"
	// CaveatPOP3RemoveAfter: the client removes POP3 mail from the server
	// after some days unless the person switches that off; the file cannot.
	CaveatPOP3RemoveAfter CaveatKind = "pop3-remove-after-days"
	// CaveatTypeALabel: Thunderbird refuses an address whose domain is typed
	// with non-ASCII letters before it reads the isp/ file; the person must
	// type the xn-- form.
	CaveatTypeALabel CaveatKind = "type-a-label-domain"
)

// Caveat is one such case for one written file, with what to do.
type Caveat struct {
	Kind CaveatKind `json:"kind"`
	// Path is the file, as in File.Path.
	Path string `json:"path"`
	// Remedy says in plain words what the person should do.
	Remedy string `json:"remedy"`
}

// Caveats lists what the files cannot promise in their clients, each with
// its remedy, for the command to show next to the files (docs/clients.md
// has the evidence for each).
func Caveats(acct Account, files []File) []Caveat {
	var out []Caveat
	in := acct.In()
	for _, f := range files {
		switch {
		case f.Path == "outlook/outlook.prf" && in.Security == autoconfig.SecuritySTARTTLS:
			out = append(out, Caveat{CaveatOutlookSTARTTLS, f.Path, fmt.Sprintf(
				"Outlook may not take STARTTLS for %s from the .prf (Microsoft documents it for sending only); if it cannot connect, use autodiscover.xml with autodiscover.reg instead", in.Address())})
		case f.Format == Apple && path.Ext(f.Path) == ".mobileconfig":
			ain := acct.expanded(appleServer(acct.Provider, acct.Incoming))
			aout := acct.expanded(appleServer(acct.Provider, acct.Outgoing))
			for _, s := range []autoconfig.Server{ain, aout} {
				if s.Security == autoconfig.SecuritySTARTTLS {
					out = append(out, Caveat{CaveatAppleSTARTTLS, f.Path, fmt.Sprintf(
						"the provider offers no encrypted-from-the-start port for %s and a profile cannot demand STARTTLS: after installing, check that SSL is on for the account's %s server",
						s.Address(), s.Protocol.DisplayName())})
				}
			}
		case f.Path == thunderbirdISPPath(acct) && acct.Address.Domain != acct.Address.DomainUnicode:
			// modules/FetchConfig.sys.mjs:33 runs InputSanitizer.hostname,
			// which takes ASCII only, on the typed domain.
			out = append(out, Caveat{CaveatTypeALabel, f.Path, fmt.Sprintf(
				"in Thunderbird's account dialog type the address as %s: Thunderbird refuses %s", acct.Address.ASCII(), acct.Address.String())})
		case in.Protocol == autoconfig.POP3 && (f.Path == "outlook/autodiscover.xml" || f.Path == "android/README.txt"):
			out = append(out, Caveat{CaveatPOP3RemoveAfter, f.Path,
				`the app may remove POP3 mail from the server after some days: after adding the account, switch off "Remove from server after ... days"`})
		}
	}
	return out
}
