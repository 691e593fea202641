package profiles

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// ThunderbirdISPFileName is the name Thunderbird looks for in its install's
// isp/ folder before any network lookup: the address's domain (A-label, as
// Thunderbird's hostname sanitiser only takes ASCII) plus ".xml".
func ThunderbirdISPFileName(domain string) string { return domain + ".xml" }

// ThunderbirdISP writes the provider's settings as config-v1.1 XML for
// Thunderbird's isp/ folder. It keeps every server and the placeholders, so
// one file serves every address of the domain.
func ThunderbirdISP(w io.Writer, acct Account) error {
	return autoconfig.WriteConfig(w, acct.Provider)
}

// Thunderbird's nsMsgSocketType and nsMsgAuthMethod values (mailnews
// nsMsgBaseCID/nsIMsgIncomingServer IDL), as stored in prefs.
var (
	tbSocketType = map[autoconfig.Security]int{
		autoconfig.SecurityPlain:    0,
		autoconfig.SecuritySTARTTLS: 2, // alwaysSTARTTLS: never falls back to plain
		autoconfig.SecurityTLS:      3,
	}
	tbAuthMethod = map[autoconfig.AuthMethod]int{
		autoconfig.AuthNone:              1,
		autoconfig.AuthClientIP:          1,
		autoconfig.AuthSMTPAfterPOP:      1,
		autoconfig.AuthPasswordCleartext: 3,
		autoconfig.AuthPasswordEncrypted: 4,
		autoconfig.AuthGSSAPI:            5,
		autoconfig.AuthNTLM:              6,
		autoconfig.AuthTLSClientCert:     7,
		autoconfig.AuthOAuth2:            10,
	}
)

// Pref keys of the account user.js creates. They are the keys Thunderbird
// gives the first account of a new profile, so they cannot clash there.
const (
	tbAccountKey  = "account1"
	tbServerKey   = "server1"
	tbIdentityKey = "id1"
	tbSMTPKey     = "smtp1"
)

const userJSHeader = `// user.js written by mailsetup: creates the mail account %s
// (%s) in a NEW Thunderbird profile.
//
// INSTALL
//  1. Quit Thunderbird. Create a new, empty profile: run "thunderbird -P",
//     click "Create Profile...", and note the profile's folder.
//  2. Copy this file into that folder, named user.js.
//  3. Start Thunderbird with the new profile. The account is there; Thunderbird
//     asks for the password the first time it connects.
//  4. Quit Thunderbird and delete user.js from the profile folder. The
//     settings stay; without this step Thunderbird applies the file again at
//     every start and undoes what you change in Account Settings.
//
// WARNING: do not put this file into a profile that already has accounts.
// It sets the account list (mail.accountmanager.accounts) and so REPLACES it:
// the other accounts would vanish from Thunderbird. To add the account to an
// existing profile use File > New > Existing Mail Account instead (the isp/
// file next to this one lets Thunderbird fill in the settings).
//
// No password is stored here.

`

// ThunderbirdUserJS writes a user.js that creates the whole account in a new
// Thunderbird profile: the account, its identity (name and address), the
// incoming server, and an SMTP server of its own that the identity names
// explicitly, so it never falls back to the global preferred server. A POP3
// server leaves messages on the server.
func ThunderbirdUserJS(w io.Writer, acct Account) error {
	in, out := acct.In(), acct.Out()
	inAuth, err := tbAuth(in)
	if err != nil {
		return err
	}
	outAuth, err := tbAuth(out)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, userJSHeader, acct.Address.ASCII(), acct.providerName())
	pref := func(name string, value any) {
		v, _ := json.Marshal(value) // strings, ints and bools: cannot fail
		fmt.Fprintf(&b, "user_pref(%q, %s);\n", name, v)
	}
	acc := "mail.account." + tbAccountKey + "."
	id := "mail.identity." + tbIdentityKey + "."
	srv := "mail.server." + tbServerKey + "."
	smtp := "mail.smtpserver." + tbSMTPKey + "."

	b.WriteString("// The account list: this is the line that replaces an existing one.\n")
	pref("mail.accountmanager.accounts", tbAccountKey)
	pref("mail.accountmanager.defaultaccount", tbAccountKey)
	pref(acc+"server", tbServerKey)
	pref(acc+"identities", tbIdentityKey)

	b.WriteString("\n// The identity: who the mail is from, and its own outgoing server.\n")
	pref(id+"fullName", acct.name())
	pref(id+"useremail", acct.Address.ASCII())
	pref(id+"smtpServer", tbSMTPKey)
	pref(id+"valid", true)

	fmt.Fprintf(&b, "\n// Incoming: %s.\n", in.Protocol.DisplayName())
	pref(srv+"type", string(in.Protocol))
	pref(srv+"name", acct.Address.ASCII())
	pref(srv+"hostname", in.Hostname)
	pref(srv+"port", in.Port)
	pref(srv+"socketType", tbSocketType[in.Security])
	pref(srv+"authMethod", inAuth)
	pref(srv+"userName", in.Username)
	pref(srv+"login_at_startup", true)
	if in.Protocol == autoconfig.POP3 {
		o := in.POP3
		pref(srv+"leave_on_server", o.LeaveMessagesOnServer)
		pref(srv+"delete_by_age_from_server", o.LeaveMessagesOnServer && o.DaysToLeave > 0)
		if o.DaysToLeave > 0 {
			pref(srv+"num_days_to_leave_on_server", o.DaysToLeave)
		}
		if o.DownloadOnBiff != nil {
			pref(srv+"download_on_biff", *o.DownloadOnBiff)
		}
		if o.CheckIntervalMinutes > 0 {
			pref(srv+"check_time", o.CheckIntervalMinutes)
		}
	}

	b.WriteString("\n// Outgoing: this account's own SMTP server.\n")
	pref("mail.smtpservers", tbSMTPKey)
	pref(smtp+"type", "smtp")
	pref(smtp+"description", acct.providerName())
	pref(smtp+"hostname", out.Hostname)
	pref(smtp+"port", out.Port)
	pref(smtp+"try_ssl", tbSocketType[out.Security])
	pref(smtp+"authMethod", outAuth)
	if outAuth != tbAuthMethod[autoconfig.AuthNone] {
		pref(smtp+"username", out.Username)
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// tbAuth is the first of s's methods Thunderbird has a pref value for.
func tbAuth(s autoconfig.Server) (int, error) {
	for _, a := range s.Auth {
		if v, ok := tbAuthMethod[a]; ok {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: Thunderbird knows none of the authentication methods %v of %s",
		ErrUnsupported, s.Auth, s.Address())
}
