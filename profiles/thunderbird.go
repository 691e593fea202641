package profiles

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// ThunderbirdISPFileName is the name Thunderbird looks for in its install's
// isp/ folder before any network lookup: the address's domain (A-label, as
// Thunderbird's hostname sanitiser only takes ASCII) plus ".xml".
func ThunderbirdISPFileName(domain string) string { return domain + ".xml" }

// tbKeepDays is the daysToLeaveMessagesOnServer the isp/ file gives every
// POP3 server: 100 years, which in Thunderbird means "never delete by age".
//
// Thunderbird's account setup always switches deletion by age on: its
// AccountConfig defaults are leaveMessagesOnServer true, 14 days,
// deleteByAgeFromServer true (comm-central
// mail/components/accountcreation/modules/AccountConfig.sys.mjs, lines
// 118-120 in Thunderbird 153.8), its config-v1.1 reader takes only
// leaveMessagesOnServer, daysToLeaveMessagesOnServer and downloadOnBiff from
// <pop3> (modules/readFromXML.sys.mjs:209-232), and
// modules/CreateInBackend.sys.mjs:90-107 copies all of them into the
// server's prefs. So the file cannot switch deletion by age off, only make
// the age unreachable: mailnews/local/src/Pop3Client.sys.mjs:115-123
// deletes what arrived before now minus numDaysToLeaveOnServer days. (0 would also
// keep everything there, as a falsy day count sets no cut-off, but the
// Account Settings would then show "delete after 0 days", which reads as
// the opposite.) Checked with the real Thunderbird by
// TestThunderbirdCreatesPOP3AccountFromISP.
const tbKeepDays = 36500

// ThunderbirdISP writes the provider's settings as config-v1.1 XML for
// Thunderbird's isp/ folder. It keeps every server and the placeholders, so
// one file serves every address of the domain, with two changes: the
// account's protocol comes first, as Thunderbird preselects the first
// incoming server (a --protocol pop3 account must not be offered IMAP), and
// every POP3 server keeps the mail on the server for good (see tbKeepDays).
func ThunderbirdISP(w io.Writer, acct Account) error {
	if !acct.unproven {
		return autoconfig.WriteConfig(w, thunderbirdISPProvider(acct))
	}
	var b bytes.Buffer
	if err := autoconfig.WriteConfig(&b, thunderbirdISPProvider(acct)); err != nil {
		return err
	}
	_, err := w.Write(withXMLComments(b.Bytes(), []string{unprovenNote}))
	return err
}

func thunderbirdISPProvider(acct Account) *autoconfig.Provider {
	p := xmlSafeProvider(acct.Provider)
	// Stable: the provider's order within each protocol stays.
	slices.SortStableFunc(p.Incoming, func(a, b autoconfig.Server) int {
		return boolRank(a.Protocol != acct.Incoming.Protocol) - boolRank(b.Protocol != acct.Incoming.Protocol)
	})
	biff := true
	for i, s := range p.Incoming {
		if s.Protocol != autoconfig.POP3 {
			continue
		}
		o := autoconfig.POP3Options{}
		if s.POP3 != nil {
			o = *s.POP3
		}
		o.LeaveMessagesOnServer, o.DaysToLeave, o.DownloadOnBiff = true, tbKeepDays, &biff
		p.Incoming[i].POP3 = &o
	}
	return p
}

// xmlSafeProvider is a copy of p whose names hold no control characters,
// which XML 1.0 cannot carry: the model refuses them already, and this is
// the writers' second wall.
func xmlSafeProvider(p *autoconfig.Provider) *autoconfig.Provider {
	c := p.Clone()
	c.DisplayName, c.DisplayShortName = commentSafe(c.DisplayName), commentSafe(c.DisplayShortName)
	for _, list := range [][]autoconfig.Server{c.Incoming, c.Outgoing, c.Others} {
		for i := range list {
			list[i].Hostname, list[i].Username = commentSafe(list[i].Hostname), commentSafe(list[i].Username)
		}
	}
	return c
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
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
//%s
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

// unprovenNote is what every file written from unproven settings says.
const unprovenNote = "These settings were NOT proven to work: mailsetup could not log in with them. Check them with your provider."

// ThunderbirdUserJS writes a user.js that creates the whole account in a new
// Thunderbird profile: the account, its identity (name and address), the
// incoming server, and an SMTP server of its own that the identity names
// explicitly, so it never falls back to the global preferred server. A POP3
// server keeps the mail on the server, as long as the user wants.
//
// Values are quoted for Gecko's prefs parser (mozilla-central
// modules/libpref/parser/src/lib.rs): only printable ASCII is written as
// is, so no value can end its string or its line and add a pref. The
// address is a byte-string pref in Thunderbird (see tbPrefBytes): an address
// beyond Latin-1 cannot be written, and ThunderbirdUserJS fails with
// ErrUnsupported.
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
	email, err := tbPrefBytes(acct.Address.ASCII())
	if err != nil {
		return fmt.Errorf("%w: Thunderbird stores the address %q as bytes and shows characters beyond Latin-1 garbled (its own account setup does the same); no user.js was written: use an address of ASCII or Latin-1 letters, or set the account up by hand",
			ErrUnsupported, acct.Address.ASCII())
	}
	var outUser tbBytes
	if outAuth != tbAuthMethod[autoconfig.AuthNone] {
		if outUser, err = tbPrefBytes(out.Username); err != nil {
			return fmt.Errorf("%w: Thunderbird stores the SMTP username %q as bytes and cannot hold characters beyond Latin-1; no user.js was written",
				ErrUnsupported, out.Username)
		}
	}
	var b strings.Builder
	extra := ""
	if acct.unproven {
		extra = "\n// " + unprovenNote + "\n//"
	}
	if w := davWords(acct.dav()); w != "" {
		extra += "\n// It also creates the account's " + w + " (at the end of the file).\n//"
	}
	fmt.Fprintf(&b, userJSHeader, commentSafe(acct.Address.ASCII()), commentSafe(acct.providerName()), extra)
	pref := func(name string, value any) {
		var v string
		switch x := value.(type) {
		case string:
			v = tbPrefUnicode(x)
		case tbBytes:
			v = string(x)
		case int:
			v = strconv.Itoa(x)
		case bool:
			v = strconv.FormatBool(x)
		}
		fmt.Fprintf(&b, "user_pref(%s, %s);\n", tbPrefUnicode(name), v)
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
	pref(id+"useremail", email)
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
		// Keep the mail on the server, and never delete it by age: a
		// provider's "daysToLeaveMessagesOnServer" is not followed, as the
		// project promises POP3 users their server copy. download_on_biff
		// true is what Thunderbird's own setup writes
		// (CreateInBackend.sys.mjs:107, AccountConfig.sys.mjs:123);
		// without it periodic checks only count new mail.
		b.WriteString("// POP3: the mail stays on the server, and is never removed by age.\n")
		pref(srv+"leave_on_server", true)
		pref(srv+"delete_by_age_from_server", false)
		pref(srv+"download_on_biff", true)
		if o := in.POP3; o != nil && o.CheckIntervalMinutes > 0 {
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
		pref(smtp+"username", outUser)
	}
	for _, s := range acct.dav() {
		if s.Kind == autoconfig.CardDAV {
			writeTBAddressBook(&b, pref, acct, s)
		} else {
			writeTBCalendar(&b, pref, acct, s)
		}
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// Pref keys of the address book and the calendar user.js creates. By hand
// Thunderbird derives the address book's key from its name and the
// calendar's from a random UUID; fixed keys keep the same input giving the
// same file, and a new profile has neither.
const (
	tbAddressBookKey  = "ldap_2.servers.mailsetup_contacts"
	tbAddressBookFile = "abook-1.sqlite"
)

// tbCardDAVDirectoryType is nsIAbManager.CARDDAV_DIRECTORY_TYPE
// (comm-central mailnews/addrbook/public/nsIAbManager.idl).
const tbCardDAVDirectoryType = 102

// writeTBAddressBook writes the prefs of a CardDAV address book as
// Thunderbird writes them when one is added by hand (Address Book > New
// CardDAV Address Book): AddrBookManager.newAddressBook sets description,
// dirType and filename (comm-central
// mailnews/addrbook/modules/AddrBookManager.sys.mjs:432-447 in Thunderbird
// 153.8), then CardDAVUtils' create() sets carddav.url and
// carddav.username (mailnews/addrbook/modules/CardDAVUtils.sys.mjs:523-545).
// At start-up AddrBookManager.sys.mjs:102-160 makes every
// ldap_2.servers.*.dirType 102 with a filename a CardDAV directory.
func writeTBAddressBook(b *strings.Builder, pref func(string, any), acct Account, s davService) {
	b.WriteString(`
// Contacts: a CardDAV address book. Thunderbird asks for the password when it
// first synchronises, and finds the contacts at this URL only if it is the
// address book itself; if the book stays empty, add it once more with
// Address Book > New Address Book > Add CardDAV Address Book and this URL.
`)
	k := tbAddressBookKey + "."
	pref(k+"description", acct.providerName()+" contacts")
	pref(k+"dirType", tbCardDAVDirectoryType)
	pref(k+"filename", tbAddressBookFile)
	pref(k+"carddav.url", s.URL)
	pref(k+"carddav.username", s.Username)
}

// writeTBCalendar writes the prefs of a CalDAV calendar as Thunderbird
// writes them when one is added by hand (File > New > Calendar > On the
// Network): CalCalendarManager.registerCalendar sets type and uri
// (comm-central calendar/base/src/CalCalendarManager.sys.mjs:355-356),
// CalDavProvider.handleCalendar name, color and username
// (calendar/providers/caldav/CalDavProvider.sys.mjs:403-407), and the
// dialog cache.enabled (calendar/base/content/dialogs/calendar-creation.js:795,
// "offline support", checked by default). Thunderbird reads a calendar's
// events only from a calendar collection: at any other DAV URL it reports
// DAV_DAV_NOT_CALDAV (calendar/providers/caldav/CalDavCalendar.sys.mjs:1662-1686),
// and the model holds the provider's context URL, which may be one (the
// comment in the file says what to do if not; docs/clients.md). At start-up
// CalCalendarManager.assureCache (:514-545) loads every
// calendar.registry.ID with a type and a uri.
func writeTBCalendar(b *strings.Builder, pref func(string, any), acct Account, s davService) {
	b.WriteString(`
// Calendar: a CalDAV calendar. Thunderbird asks for the password when it first
// synchronises, and shows the events only if this URL is the calendar itself;
// if it reports an error, add the calendar once more with File > New >
// Calendar > On the Network and this URL.
`)
	k := "calendar.registry." + tbCalendarID(acct.Address) + "."
	pref(k+"type", "caldav")
	pref(k+"uri", s.URL)
	pref(k+"name", acct.providerName()+" calendar")
	pref(k+"username", s.Username)
	pref(k+"cache.enabled", true)
}

// tbCalendarID is the calendar's registry key: a UUID as Thunderbird's
// cal.getUUID makes them, but derived from the address.
func tbCalendarID(addr autoconfig.Address) string {
	return strings.ToLower(nameUUID("thunderbird-caldav:" + strings.ToLower(addr.ASCII())))
}

// tbBytes is an already quoted byte-string pref value.
type tbBytes string

// tbPrefUnicode quotes s as a Gecko prefs string literal for a pref that
// Thunderbird reads as UTF-8 (nsIPrefBranch getStringPref, AUTF8String
// attributes: fullName, the server's userName and name). Printable ASCII
// stays; quote, backslash, CR and LF get their escapes; other control
// characters become \xNN; everything else \uNNNN (UTF-16, pairs beyond the
// BMP), which the parser turns into UTF-8. NUL is dropped: the parser takes
// it as the end of the file. The result is ASCII, on one line.
func tbPrefUnicode(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == 0:
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f:
			b.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16Pair(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// tbPrefBytes quotes s for a pref Thunderbird reads as bytes and widens to
// text one byte per character: the identity's useremail
// (NS_IMPL_IDPREF_STR(Email, "useremail") in comm-central
// mailnews/base/src/nsMsgIdentity.cpp, an ACString attribute) and the SMTP
// server's username. UTF-8 there shows as "jÃ¼rgen@"; Thunderbird's own
// account setup stores such an address as Latin-1 bytes, and so does this:
// U+0080-U+00FF become \xNN (one raw byte each, lib.rs's "\xNN gives a raw
// byte value"). A character beyond Latin-1 has no byte: an error.
// TestThunderbirdReadsNonASCIIAddress checks it with the real Thunderbird.
func tbPrefBytes(s string) (tbBytes, error) {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == utf8.RuneError || r > 0xff:
			return "", fmt.Errorf("%q has characters beyond Latin-1", s)
		case r == 0:
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r >= 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return tbBytes(b.String()), nil
}

// commentSafe keeps s on its comment line: Gecko's parser ends a // comment
// at CR or LF and the whole file at NUL, so every control character becomes
// a space.
func commentSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
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
