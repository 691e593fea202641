package probe

import (
	"strings"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// Requirement is what a provider demands beyond the account password before
// a mail client may log in, and what the user must do about it.
type Requirement struct {
	Provider string `json:"provider"`
	// Kind is oauth2 (sign in through the provider's web page; passwords are
	// refused), app-password (a separate password made for the client) or
	// enable-access (IMAP/POP3 must first be switched on in the web mail).
	Kind    string `json:"kind"`
	Summary string `json:"summary"`
	Fix     string `json:"fix"`
	HelpURL string `json:"help_url,omitempty"`
}

// Requirement kinds.
const (
	RequireOAuth2       = "oauth2"
	RequireAppPassword  = "app-password"
	RequireEnableAccess = "enable-access"
)

// knownProvider is one entry of the table of providers whose requirements
// are known. Domains are address domains; hosts are suffixes of their mail
// servers, so that a domain hosted there (found by MX) matches too.
type knownProvider struct {
	domains []string
	hosts   []string
	Requirement
}

// knownProviders is kept by hand; each entry cites the provider's own help
// page, which is where to check it when a provider changes its rules.
var knownProviders = []knownProvider{
	{
		// https://support.google.com/mail/answer/7126229 (IMAP settings) and
		// https://support.google.com/accounts/answer/185833 (app passwords):
		// Google accepts OAuth2, or an app password with 2-Step Verification.
		domains: []string{"gmail.com", "googlemail.com"},
		hosts:   []string{".gmail.com", ".google.com", ".googlemail.com"},
		Requirement: Requirement{
			Provider: "Gmail / Google Workspace",
			Kind:     RequireAppPassword,
			Summary:  "Google refuses the account password in mail apps: sign in with OAuth2, or use an app password.",
			Fix:      "Use a mail app that signs in through Google (Thunderbird, Apple Mail, Outlook do), or turn on 2-Step Verification and create an app password at https://myaccount.google.com/apppasswords, then use it instead of your Google password.",
			HelpURL:  "https://support.google.com/accounts/answer/185833",
		},
	},
	{
		// https://support.microsoft.com/en-us/office/pop-imap-and-smtp-settings-for-outlook-com-d088b986-291d-42b8-9564-9c414e2aa040
		// and, for Microsoft 365, https://learn.microsoft.com/en-us/exchange/clients-and-mobile-in-exchange-online/deprecation-of-basic-authentication-exchange-online:
		// basic authentication (passwords) is turned off; only OAuth2 (Modern Auth) works.
		domains: []string{"outlook.com", "hotmail.com", "live.com", "msn.com", "outlook.de", "hotmail.de"},
		hosts:   []string{".office365.com", ".outlook.com", ".protection.outlook.com"},
		Requirement: Requirement{
			Provider: "Outlook.com / Microsoft 365",
			Kind:     RequireOAuth2,
			Summary:  "Microsoft accepts only OAuth2 (\"modern authentication\") for IMAP, POP3 and SMTP; passwords are refused.",
			Fix:      "Use a mail app that signs in with a Microsoft account through the browser (Outlook, Thunderbird, Apple Mail); app passwords and the account password no longer work.",
			HelpURL:  "https://support.microsoft.com/en-us/office/pop-imap-and-smtp-settings-for-outlook-com-d088b986-291d-42b8-9564-9c414e2aa040",
		},
	},
	{
		// https://help.yahoo.com/kb/SLN15241.html (generate an app password).
		domains: []string{"yahoo.com", "ymail.com", "rocketmail.com", "yahoo.de", "yahoo.co.uk", "yahoo.fr"},
		hosts:   []string{".mail.yahoo.com"},
		Requirement: Requirement{
			Provider: "Yahoo Mail",
			Kind:     RequireAppPassword,
			Summary:  "Yahoo refuses the account password in mail apps that do not sign in through Yahoo.",
			Fix:      "Create an app password in Yahoo's Account Security settings and use it instead of your Yahoo password.",
			HelpURL:  "https://help.yahoo.com/kb/SLN15241.html",
		},
	},
	{
		// https://support.apple.com/en-us/102525 (iCloud Mail server settings)
		// and https://support.apple.com/en-us/102654 (app-specific passwords).
		domains: []string{"icloud.com", "me.com", "mac.com"},
		hosts:   []string{".mail.me.com"},
		Requirement: Requirement{
			Provider: "iCloud Mail",
			Kind:     RequireAppPassword,
			Summary:  "iCloud Mail needs an app-specific password outside Apple's own apps; the username is the part before @ for IMAP.",
			Fix:      "Create an app-specific password at https://account.apple.com (Sign-In and Security, App-Specific Passwords; needs two-factor authentication) and use it instead of your Apple Account password.",
			HelpURL:  "https://support.apple.com/en-us/102654",
		},
	},
	{
		// https://help.aol.com/articles/Create-and-manage-app-password
		domains: []string{"aol.com", "aim.com"},
		hosts:   []string{".aol.com"},
		Requirement: Requirement{
			Provider: "AOL Mail",
			Kind:     RequireAppPassword,
			Summary:  "AOL refuses the account password in third-party mail apps.",
			Fix:      "Create an app password in AOL's Account Security settings and use it instead of your AOL password.",
			HelpURL:  "https://help.aol.com/articles/Create-and-manage-app-password",
		},
	},
	{
		// https://hilfe.gmx.net/pop-imap/einschalten.html and
		// https://www.gmx.net/mail/tipps/posts/pop3-imap/36/ ("standardmäßig
		// deaktiviert"): POP3/IMAP access is off until switched on in the
		// web mail settings.
		domains: []string{"gmx.de", "gmx.net", "gmx.at", "gmx.ch", "gmx.com"},
		hosts:   []string{".gmx.net", ".gmx.com"},
		Requirement: Requirement{
			Provider: "GMX",
			Kind:     RequireEnableAccess,
			Summary:  "GMX blocks IMAP and POP3 until they are switched on in the web mail.",
			Fix:      "In GMX's web mail open Settings, \"POP3 & IMAP\", and allow access via POP3 and IMAP; then try again.",
			HelpURL:  "https://hilfe.gmx.net/pop-imap/einschalten.html",
		},
	},
	{
		// https://hilfe.web.de/pop-imap/einschalten.html: as GMX (same operator).
		domains: []string{"web.de"},
		hosts:   []string{".web.de"},
		Requirement: Requirement{
			Provider: "WEB.DE",
			Kind:     RequireEnableAccess,
			Summary:  "WEB.DE blocks IMAP and POP3 until they are switched on in the web mail.",
			Fix:      "In WEB.DE's web mail open Settings, \"POP3 & IMAP\", and allow access via POP3 and IMAP; then try again.",
			HelpURL:  "https://hilfe.web.de/pop-imap/einschalten.html",
		},
	},
}

// requirementFor finds a known provider by the address domain or by the host
// of a server it was pointed at.
func requirementFor(domain string, hosts []string) *Requirement {
	domain = strings.ToLower(domain)
	for i := range knownProviders {
		p := &knownProviders[i]
		for _, d := range p.domains {
			if domain == d {
				r := p.Requirement
				return &r
			}
		}
		for _, h := range hosts {
			h = "." + strings.ToLower(strings.TrimSuffix(h, "."))
			for _, suffix := range p.hosts {
				if strings.HasSuffix(h, suffix) {
					r := p.Requirement
					return &r
				}
			}
		}
	}
	return nil
}

// publishedOAuth2Only is the requirement stated by a provider whose published
// settings offer OAuth2 and no password method for the server.
func publishedOAuth2Only(s autoconfig.Server) *Requirement {
	if !s.HasAuth(autoconfig.AuthOAuth2) {
		return nil
	}
	for _, a := range s.Auth {
		if a.UsesPassword() {
			return nil
		}
	}
	return &Requirement{
		Provider: s.Hostname,
		Kind:     RequireOAuth2,
		Summary:  "The provider's published settings allow only OAuth2 sign-in for " + s.Hostname + "; passwords will be refused.",
		Fix:      "Use a mail app that supports OAuth2 sign-in for this provider (Thunderbird does); it opens the provider's login page instead of asking for a password.",
	}
}
