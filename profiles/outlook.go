package profiles

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// OutlookAutodiscover writes the Autodiscover POX response (MS-OXDSCLI,
// "outlook" response schema) for the account: exactly the chosen incoming
// server and the SMTP server, so Outlook cannot pick another one, with SPA
// off, SSL and Encryption in agreement, and the person's display name.
// Outlook 2016 and later read it from disk once the .reg file points there.
func OutlookAutodiscover(w io.Writer, acct Account) error {
	p := acct.Provider.Clone()
	p.Incoming = []autoconfig.Server{acct.Incoming}
	p.Outgoing = []autoconfig.Server{acct.Outgoing}
	p = xmlSafeProvider(p)
	r := autoconfig.NewAutodiscoverResponse(p, acct.Address)
	r.DisplayName = commentSafe(acct.name())
	for i := range r.Protocols {
		// Outlook's SPA is Microsoft's NTLM logon; IMAP, POP3 and SMTP
		// servers refuse it, and it defaults to on when left out.
		r.Protocols[i].SPA = false
	}
	var b bytes.Buffer
	if _, err := r.WriteTo(&b); err != nil {
		return err
	}
	var notes []string
	if acct.unproven {
		notes = append(notes, unprovenNote)
	}
	if w := davWords(acct.dav()); w != "" {
		notes = append(notes, outlookNoDAV(w))
	}
	if acct.Incoming.Protocol == autoconfig.POP3 {
		notes = append(notes, `POP3: this file cannot say "leave the mail on the server"; Outlook keeps it but removes it after 14 days unless you switch off "Remove from server after ... days" (More Settings > Advanced).`)
	}
	_, err := w.Write(withXMLComments(b.Bytes(), notes))
	return err
}

// outlookNoDAV says that the provider's calendar or contacts stay out of
// Outlook: classic Outlook syncs calendars and contacts only with Exchange
// (and Outlook.com); it has no CalDAV or CardDAV account, and neither the
// .prf (section 7's properties are mail only) nor Autodiscover's POX
// "outlook" schema (MS-OXDSCLI: IMAP, POP3, SMTP, EXCH, EXPR, WEB) can name
// one. what is "calendar and contacts", "calendar" or "contacts".
func outlookNoDAV(what string) string {
	return "Calendar and contacts: Outlook cannot set up the provider's " + what + " (it has no CalDAV or CardDAV accounts); this file sets up the mail only. Use the server URLs on the setup sheet in an app that can, such as Thunderbird or Apple's Calendar and Contacts."
}

// withXMLComments puts each note as a comment after the XML declaration.
// The notes are our own sentences; "--" cannot end a comment early as it is
// replaced.
func withXMLComments(doc []byte, notes []string) []byte {
	if len(notes) == 0 {
		return doc
	}
	var c bytes.Buffer
	for _, n := range notes {
		c.WriteString("<!-- " + strings.ReplaceAll(n, "--", "- -") + " -->\n")
	}
	i := 0
	if bytes.HasPrefix(doc, []byte("<?xml")) {
		i = bytes.Index(doc, []byte("?>")) + 2
		for i < len(doc) && (doc[i] == '\n' || doc[i] == '\r') {
			i++
		}
	}
	return append(append(append([]byte{}, doc[:i]...), c.Bytes()...), doc[i:]...)
}

// AutodiscoverPathPlaceholder stands in the .reg file for the path of the
// Autodiscover XML when none was given: Outlook finds nothing there, so the
// user must edit it, and the text says so.
const AutodiscoverPathPlaceholder = `C:\REPLACE-WITH-THE-FOLDER-OF\autodiscover.xml`

// windowsAbsPath matches "C:\..." and "\\server\share\...".
var windowsAbsPath = regexp.MustCompile(`^([A-Za-z]:\\|\\\\[^\\]+\\[^\\]+\\).+`)

// CheckAutodiscoverPath reports whether p can go into the .reg file: an
// absolute Windows path.
func CheckAutodiscoverPath(p string) error {
	if !windowsAbsPath.MatchString(p) || strings.ContainsAny(p, "\r\n\"") {
		return fmt.Errorf("%w: --autodiscover-path %q is not an absolute Windows path such as C:\\Users\\jane\\autodiscover.xml",
			ErrBadPath, p)
	}
	return nil
}

// OutlookReg writes a .reg file for regedit that makes Outlook 2016 and
// later (registry version 16.0, i.e. also 2019, 2021, 2024 and Microsoft
// 365's classic Outlook) answer the account's domain from the local
// Autodiscover XML at xmlPath (PreferLocalXML). It also switches off the two
// shortcuts that skip the file: the explicit Office 365 endpoint check
// (ExcludeExplicitO365Endpoint) and simplified account creation
// (DisableOffice365SimplifiedAccountCreation, which Outlook reads under
// Setup). regedit reads the UTF-16 files it writes itself, with CRLF lines.
func OutlookReg(w io.Writer, acct Account, xmlPath string) error {
	placeholder := xmlPath == ""
	if placeholder {
		xmlPath = AutodiscoverPathPlaceholder
	} else if err := CheckAutodiscoverPath(xmlPath); err != nil {
		return err
	}
	// regedit's value names and strings: backslash and quote escaped, and
	// no control character, which would end the line (a new key) or the
	// string.
	esc := func(s string) string {
		return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(prfValue(s))
	}
	var b strings.Builder
	line := func(s string) { b.WriteString(s + "\r\n") }
	line("Windows Registry Editor Version 5.00")
	line("")
	line("; Written by mailsetup for " + prfValue(acct.Address.String()) + ".")
	if acct.unproven {
		line("; WARNING: " + unprovenNote)
	}
	if acct.Incoming.Protocol == autoconfig.POP3 {
		line("; POP3: Outlook removes mail from the server after 14 days unless you switch off")
		line("; \"Remove from server after ... days\" (More Settings > Advanced) after adding the account.")
	}
	if w := davWords(acct.dav()); w != "" {
		line("; " + outlookNoDAV(w))
	}
	line("; For classic Outlook for Windows 2016, 2019, 2021, 2024 and Microsoft 365.")
	line("; New Outlook for Windows and Outlook for Mac do not read it.")
	if placeholder {
		line("; EDIT FIRST: replace " + AutodiscoverPathPlaceholder + " below with the full path")
		line("; where you saved autodiscover.xml, writing every \\ twice.")
	}
	line("; Then double-click this file, and add the account in Outlook (File > Add Account).")
	line("")
	line(`[HKEY_CURRENT_USER\Software\Microsoft\Office\16.0\Outlook\AutoDiscover]`)
	line(`"PreferLocalXML"=dword:00000001`)
	line(`"ExcludeExplicitO365Endpoint"=dword:00000001`)
	domains := []string{acct.Address.Domain}
	if acct.Address.DomainUnicode != acct.Address.Domain {
		// Outlook names the value after the domain as typed: either form.
		domains = append(domains, acct.Address.DomainUnicode)
	}
	for _, d := range domains {
		line(`"` + esc(d) + `"="` + esc(xmlPath) + `"`)
	}
	line("")
	line(`[HKEY_CURRENT_USER\Software\Microsoft\Office\16.0\Outlook\Setup]`)
	line(`"DisableOffice365SimplifiedAccountCreation"=dword:00000001`)
	_, err := w.Write(utf16LE(b.String()))
	return err
}

// utf16LE encodes s as UTF-16LE with a byte order mark: the "Unicode" text
// files Windows tools (regedit, Outlook's profile import) read.
func utf16LE(s string) []byte {
	u := utf16.Encode([]rune(s))
	out := make([]byte, 2, 2+2*len(u))
	out[0], out[1] = 0xFF, 0xFE
	for _, c := range u {
		out = append(out, byte(c), byte(c>>8))
	}
	return out
}

// prfEncryption is the value of IMAPUseSSL/POP3UseSSL and
// SMTPSecureConnection: Microsoft's ENCRYPT_CONN constants, 0 none, 1 SSL
// (implicit TLS), 2 TLS (STARTTLS), 3 auto ("Constants (Account management
// API)", MicrosoftDocs/office-developer-client-docs
// docs/outlook/auxiliary/constants-account-management-api.md).
//
// Microsoft documents them for SMTP only (PROP_SMTP_SECURE_CONNECTION,
// 0x020A, prop_smtp_secure_connection.md). The incoming property the .prf
// maps *UseSSL to, PROP_INET_SSL (0x0105, section 7 below), is documented
// as "a zero value means do not use SSL, otherwise use SSL"
// (prop_inet_ssl.md). For STARTTLS we still write 2: 1 would certainly fail
// (TLS from the first byte on port 143 or 110), 2 works if Outlook reads
// the incoming value as it reads the SMTP one, as its account dialog, which
// offers STARTTLS for incoming servers too, suggests; but no document says
// so and we could not check it. So the file says so, Caveats names it, and
// both point to the Autodiscover XML, whose Encryption "TLS" is documented
// as STARTTLS (MS-OXDSCLI 2.2.4.1.1.2.5.x, Protocol/Encryption).
func prfEncryption(s autoconfig.Security) int {
	switch s {
	case autoconfig.SecurityTLS:
		return 1
	case autoconfig.SecuritySTARTTLS:
		return 2
	}
	return 0
}

// OutlookPRF writes a .prf profile for classic Outlook for Windows
// (outlook.exe /importprf FILE) with all seven sections: general defaults,
// the service list, the internet account list, service defaults, the
// account's values, and the two fixed mapping sections Outlook needs to turn
// those values into MAPI properties. The file is ASCII when it can be and
// UTF-16 with a byte order mark otherwise. Outlook asks for the password on first
// connect; a .prf cannot carry one.
func OutlookPRF(w io.Writer, acct Account) error {
	in, out := acct.In(), acct.Out()
	kind, pfx := "IMAP_I_Mail", "IMAP"
	if in.Protocol == autoconfig.POP3 {
		kind, pfx = "I_Mail", "POP3"
	}
	var b strings.Builder
	line := func(s string) { b.WriteString(s + "\r\n") }
	kv := func(k string, v any) { line(k + "=" + fmt.Sprint(v)) }
	section := func(n int, title string) {
		line("")
		line(";***************************************************************")
		line(fmt.Sprintf("; Section %d - %s", n, title))
		line(";***************************************************************")
		line("")
	}
	line("; Outlook profile written by mailsetup for " + prfValue(acct.Address.String()) + ".")
	line("; Classic Outlook for Windows (2010-2024, Microsoft 365) only; New Outlook and")
	line("; Outlook for Mac cannot import it. Run: outlook.exe /importprf \"FULL-PATH\\outlook.prf\"")
	line("; It adds the account to the default profile, or creates the profile named below")
	line("; when there is none. Outlook asks for the password when it first connects.")
	if acct.unproven {
		line("; WARNING: " + unprovenNote)
	}
	if in.Security == autoconfig.SecuritySTARTTLS {
		line("; NOTE: " + pfx + "UseSSL=2 asks for STARTTLS (encrypted after connecting). Microsoft")
		line("; documents that value for outgoing mail only; if Outlook cannot connect to")
		line("; " + prfValue(in.Address()) + ", use autodiscover.xml with autodiscover.reg instead (its")
		line("; STARTTLS setting is documented), or set the encryption to STARTTLS in")
		line("; Outlook's account settings (More Settings > Advanced).")
	}
	if w := davWords(acct.dav()); w != "" {
		line("; " + outlookNoDAV(w))
	}
	if in.Protocol == autoconfig.POP3 {
		line("; POP3: LeaveOnServer=0x1 keeps the mail on the server (without \"remove after")
		line("; N days\"). Keep \"Remove from server after ... days\" switched off in Outlook.")
	}

	section(1, "Profile Defaults")
	line("[General]")
	kv("Custom", 1)
	kv("ProfileName", prfValue(acct.Address.ASCII()))
	kv("DefaultProfile", "Yes")
	kv("OverwriteProfile", "Append")
	kv("ModifyDefaultProfileIfPresent", "TRUE")
	kv("BackupProfile", "No")

	section(2, "Services in Profile")
	line("[Service List]")
	kv("ServiceX", "Microsoft Outlook Client")

	section(3, "List of internet accounts")
	line("[Internet Account List]")
	kv("Account1", kind)

	section(4, "Default values for each service")
	line("[ServiceX]")
	kv("CachedExchangeMode", "0x00000000")

	section(5, "Values for each internet account")
	line("[Account1]")
	kv("UniqueService", "No")
	kv("AccountName", prfValue(acct.Address.ASCII()))
	kv("DisplayName", prfValue(acct.name()))
	kv("EmailAddress", prfValue(acct.Address.ASCII()))
	kv(pfx+"Server", prfValue(in.Hostname))
	kv(pfx+"UserName", prfValue(in.Username))
	kv(pfx+"UseSPA", 0)
	kv(pfx+"Port", in.Port)
	kv(pfx+"UseSSL", prfEncryption(in.Security))
	if in.Protocol == autoconfig.POP3 {
		leave := 0
		if in.POP3 != nil && in.POP3.LeaveMessagesOnServer {
			leave = 1
		}
		// PROP_POP_LEAVE_ON_SERVER: LEAVE_ON_SERVER (0x1) without
		// REMOVE_AFTER (0x2) keeps every message (prop_pop_leave_on_server.md,
		// constants-account-management-api.md).
		kv("LeaveOnServer", "0x"+strconv.FormatInt(int64(leave), 16))
	} else {
		kv("CheckNewImap", 1)
	}
	kv("SMTPServer", prfValue(out.Hostname))
	kv("SMTPPort", out.Port)
	kv("SMTPSecureConnection", prfEncryption(out.Security))
	kv("SMTPUseSPA", 0)
	switch a := out.PreferredAuth(); {
	case a == autoconfig.AuthSMTPAfterPOP:
		kv("SMTPUseAuth", 1)
		kv("SMTPAuthMethod", 2) // log on to the incoming server first
	case !a.UsesPassword() && a != autoconfig.AuthOAuth2:
		kv("SMTPUseAuth", 0)
	case out.Username == in.Username:
		kv("SMTPUseAuth", 1)
		kv("SMTPAuthMethod", 0) // same settings as the incoming server
	default:
		kv("SMTPUseAuth", 1)
		kv("SMTPAuthMethod", 1) // its own user name
		kv("SMTPUserName", prfValue(out.Username))
	}
	kv("ConnectionType", 0)
	kv("ServerTimeOut", 60)

	b.WriteString(prfMappings)
	text := b.String()
	if isASCII(text) {
		_, err := io.WriteString(w, text)
		return err
	}
	// A name such as "Jürgen" needs Unicode, which Outlook reads as UTF-16.
	_, err := w.Write(utf16LE(text))
	return err
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// prfValue keeps a value on its line: the INI format has no escaping, so
// every control character (CR and LF end the line, NUL ends the string for
// Windows' profile readers) becomes a space. What remains cannot start a
// section or a key: it follows "Key=" on the same line.
func prfValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x85 || r == 0x2028 || r == 0x2029 {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// prfMappings are sections 6 and 7 as Microsoft's Office Customization Tool
// writes them: fixed tables from each key to its MAPI property tag.
var prfMappings = strings.ReplaceAll(`
;***************************************************************
; Section 6 - Mapping for profile properties. DO NOT MODIFY.
;***************************************************************

[Microsoft Exchange Server]
ServiceName=MSEMS
MDBGUID=5494A1C0297F101BA58708002B2A2517
MailboxName=PT_STRING8,0x6607
HomeServer=PT_STRING8,0x6608
OfflineAddressBookPath=PT_STRING8,0x660E
OfflineFolderPathAndFilename=PT_STRING8,0x6610

[Exchange Global Section]
SectionGUID=13dbb0c8aa05101a9bb000aa002fc45a
MailboxName=PT_STRING8,0x6607
HomeServer=PT_STRING8,0x6608
ConfigFlags=PT_LONG,0x6601
RPCoverHTTPflags=PT_LONG,0x6623
RPCProxyServer=PT_UNICODE,0x6622
RPCProxyPrincipalName=PT_UNICODE,0x6625
RPCProxyAuthScheme=PT_LONG,0x6627
AccountName=PT_UNICODE,0x6620

[Personal Folders]
ServiceName=MSPST MS
Name=PT_STRING8,0x3001
PathAndFilenameToPersonalFolders=PT_STRING8,0x6700
RememberPassword=PT_BOOLEAN,0x6701
EncryptionType=PT_LONG,0x6702
Password=PT_STRING8,0x6703

[Unicode Personal Folders]
ServiceName=MSUPST MS
Name=PT_UNICODE,0x3001
PathAndFilenameToPersonalFolders=PT_STRING8,0x6700
RememberPassword=PT_BOOLEAN,0x6701
EncryptionType=PT_LONG,0x6702
Password=PT_STRING8,0x6703

[Outlook Address Book]
ServiceName=CONTAB

[LDAP Directory]
ServiceName=EMABLT
ServerName=PT_STRING8,0x6600
UserName=PT_STRING8,0x6602
UseSSL=PT_BOOLEAN,0x6613
UseSPA=PT_BOOLEAN,0x6615
EnableBrowsing=PT_BOOLEAN,0x6622
DisplayName=PT_STRING8,0x3001
ConnectionPort=PT_STRING8,0x6601
SearchTimeout=PT_STRING8,0x6607
MaxEntriesReturned=PT_STRING8,0x6608
SearchBase=PT_STRING8,0x6603
CheckNames=PT_STRING8,0x6624
DefaultSearch=PT_LONG,0x6623

[Microsoft Outlook Client]
SectionGUID=0a0d020000000000c000000000000046
FormDirectoryPage=PT_STRING8,0x0270
WebServicesLocation=PT_STRING8,0x0271
ComposeWithWebServices=PT_BOOLEAN,0x0272
PromptWhenUsingWebServices=PT_BOOLEAN,0x0273
OpenWithWebServices=PT_BOOLEAN,0x0274
CachedExchangeMode=PT_LONG,0x041f
CachedExchangeSlowDetect=PT_BOOLEAN,0x0420

[Personal Address Book]
ServiceName=MSPST AB
NameOfPAB=PT_STRING8,0x001e3001
PathAndFilename=PT_STRING8,0x001e6600
ShowNamesBy=PT_LONG,0x00036601

;***************************************************************
; Section 7 - Mapping for internet account properties. DO NOT MODIFY.
;***************************************************************

[I_Mail]
AccountType=POP3
AccountName=PT_UNICODE,0x0002
DisplayName=PT_UNICODE,0x000B
EmailAddress=PT_UNICODE,0x000C
POP3Server=PT_UNICODE,0x0100
POP3UserName=PT_UNICODE,0x0101
POP3UseSPA=PT_LONG,0x0108
Organization=PT_UNICODE,0x0107
ReplyEmailAddress=PT_UNICODE,0x0103
POP3Port=PT_LONG,0x0104
POP3UseSSL=PT_LONG,0x0105
SMTPServer=PT_UNICODE,0x0200
SMTPUseAuth=PT_LONG,0x0203
SMTPAuthMethod=PT_LONG,0x0208
SMTPUserName=PT_UNICODE,0x0204
SMTPUseSPA=PT_LONG,0x0207
ConnectionType=PT_LONG,0x000F
ConnectionOID=PT_UNICODE,0x0010
SMTPPort=PT_LONG,0x0201
SMTPSecureConnection=PT_LONG,0x020A
ServerTimeOut=PT_LONG,0x0209
LeaveOnServer=PT_LONG,0x1000

[IMAP_I_Mail]
AccountType=IMAP
AccountName=PT_UNICODE,0x0002
DisplayName=PT_UNICODE,0x000B
EmailAddress=PT_UNICODE,0x000C
IMAPServer=PT_UNICODE,0x0100
IMAPUserName=PT_UNICODE,0x0101
IMAPUseSPA=PT_LONG,0x0108
Organization=PT_UNICODE,0x0107
ReplyEmailAddress=PT_UNICODE,0x0103
IMAPPort=PT_LONG,0x0104
IMAPUseSSL=PT_LONG,0x0105
SMTPServer=PT_UNICODE,0x0200
SMTPUseAuth=PT_LONG,0x0203
SMTPAuthMethod=PT_LONG,0x0208
SMTPUserName=PT_UNICODE,0x0204
SMTPUseSPA=PT_LONG,0x0207
ConnectionType=PT_LONG,0x000F
ConnectionOID=PT_UNICODE,0x0010
SMTPPort=PT_LONG,0x0201
SMTPSecureConnection=PT_LONG,0x020A
ServerTimeOut=PT_LONG,0x0209
CheckNewImap=PT_LONG,0x1100
RootFolder=PT_UNICODE,0x1101
`, "\n", "\r\n")
