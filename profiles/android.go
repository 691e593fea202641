package profiles

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/mailsetup/mailsetup/autoconfig"
)

// Values of the Thunderbird-for-Android QR import format, version 1
// (thunderbird-android feature/migration/qrcode/qr-code-format.md).
var (
	qrProtocol = map[autoconfig.Protocol]int{autoconfig.IMAP: 0, autoconfig.POP3: 1, autoconfig.SMTP: 0}
	qrSecurity = map[autoconfig.Security]int{
		autoconfig.SecurityPlain:    0,
		autoconfig.SecuritySTARTTLS: 2, // AlwaysStartTls; 1 is reserved
		autoconfig.SecurityTLS:      3,
	}
	qrAuth = map[autoconfig.AuthMethod]int{
		autoconfig.AuthNone:              0,
		autoconfig.AuthClientIP:          0,
		autoconfig.AuthPasswordCleartext: 1,
		autoconfig.AuthPasswordEncrypted: 2,
		autoconfig.AuthGSSAPI:            3,
		autoconfig.AuthNTLM:              4,
		autoconfig.AuthTLSClientCert:     5,
		autoconfig.AuthOAuth2:            6,
	}
)

// AndroidQRPayload is the QR code's content: the version-1 JSON of one
// account, without a password (any scanner app can read a QR code). The
// format allows ASCII addresses only; a domain is written in its A-label form.
func AndroidQRPayload(acct Account) ([]byte, error) {
	in, out := acct.In(), acct.Out()
	email := acct.Address.ASCII()
	if !isASCII(email) {
		return nil, fmt.Errorf("%w: the Thunderbird for Android QR format takes only ASCII addresses, and %q is not one; type the settings by hand",
			ErrUnsupported, email)
	}
	inAuth, err := qrAuthOf(in)
	if err != nil {
		return nil, err
	}
	outAuth, err := qrAuthOf(out)
	if err != nil {
		return nil, err
	}
	outUser := out.Username
	if outAuth == qrAuth[autoconfig.AuthNone] {
		outUser = ""
	}
	payload := []any{
		1,           // FormatVersion
		[]int{1, 1}, // SequenceNumber, SequenceEnd
		[]any{ // IncomingServer; AccountName and Password left out
			qrProtocol[in.Protocol], in.Hostname, in.Port, qrSecurity[in.Security], inAuth, in.Username,
		},
		[]any{ // OutgoingServerGroups
			[]any{ // OutgoingServerGroup
				[]any{qrProtocol[autoconfig.SMTP], out.Hostname, out.Port, qrSecurity[out.Security], outAuth, outUser},
				[]any{email, acct.name()}, // Identity
			},
		},
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(payload); err != nil {
		return nil, err
	}
	data := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if q, err := qrcode.New(string(data), qrcode.Medium); err != nil || q.VersionNumber > qrMaxVersion {
		return nil, fmt.Errorf("%w: the settings with the name %q are too long for a QR code a phone reads off a page; use a shorter name, or type the settings by hand",
			ErrUnsupported, acct.name())
	}
	return data, nil
}

// qrMaxVersion is the largest QR code we print: version 25 is 117 modules
// wide, about 4 pixels each in our 512-pixel image, the least a phone
// camera reads reliably off a screen or paper. Only a very long display
// name or host name gets there.
const qrMaxVersion = 25

func qrAuthOf(s autoconfig.Server) (int, error) {
	for _, a := range s.Auth {
		if v, ok := qrAuth[a]; ok {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: the QR format has no value for %v of %s", ErrUnsupported, s.Auth, s.Address())
}

// AndroidQRPNG writes the payload as a QR code PNG, 512 pixels square, with
// medium error correction (what phone cameras read off a screen or paper).
func AndroidQRPNG(w io.Writer, acct Account) error {
	payload, err := AndroidQRPayload(acct)
	if err != nil {
		return err
	}
	png, err := qrcode.Encode(string(payload), qrcode.Medium, 512)
	if err != nil {
		return fmt.Errorf("profiles: QR code: %w", err)
	}
	_, err = w.Write(png)
	return err
}

// AndroidQRText writes the payload as one line of text, for QR generators
// elsewhere and for people who want to see what the code holds.
func AndroidQRText(w io.Writer, acct Account) error {
	payload, err := AndroidQRPayload(acct)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", payload)
	return err
}

// AndroidNote writes what each Android mail app can import and the settings
// to type into the ones that import nothing.
func AndroidNote(w io.Writer, acct Account) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Android: setting up %s\n\n", acct.Address.String())
	if acct.unproven {
		fmt.Fprintf(&b, "WARNING: %s\n\n", unprovenNote)
	}
	b.WriteString(`Thunderbird for Android (and K-9 Mail)
  Imports thunderbird-qr.png: open the app, choose "Import settings",
  then "Scan QR code", and scan the picture from a screen or a print-out.
  It asks for the password afterwards: the code holds none. If the scanner
  does not take the code (it is known to be picky), type the settings below.

Gmail, Samsung Email, Microsoft Outlook
  None of them imports a file or a QR code, and none reads this provider's
  published settings by itself. Add the account by hand and type the
  settings below:
  - Gmail: "Add another account" > "Other", type the address, choose
    "Personal (IMAP)" or "Personal (POP3)", then the settings;
  - Samsung Email: "Add account", type the address, "Manual setup", then
    IMAP or POP3 and the settings;
  - Outlook: "Add account", type the address, choose "IMAP" and the
    advanced settings; Outlook for Android offers no POP3, so for a POP3
    account use one of the apps above.

`)
	if acct.Incoming.Protocol == autoconfig.POP3 {
		b.WriteString(`POP3 keeps the mail on the server only if the app is told so: in the
  incoming server settings, choose "never" for deleting mail from the
  server, and switch off any "remove from server after ... days".

`)
	}
	writeAndroidDAV(&b, acct)
	writeSettingsText(&b, acct)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeAndroidDAV tells how to get the calendar and contacts onto the
// phone: Android syncs neither over CalDAV or CardDAV by itself, and
// DAVx⁵ is the app that does (it finds the calendars and address books
// under one base URL, RFC 6764, and gives them to Android's own Calendar
// and Contacts apps). Its "Login with URL and user name" takes the base URL.
func writeAndroidDAV(b *strings.Builder, acct Account) {
	dav := acct.dav()
	if len(dav) == 0 {
		return
	}
	fmt.Fprintf(b, "Calendar and contacts: DAVx⁵\n")
	b.WriteString(`  Android does not sync calendars and contacts with this provider by
  itself. Install DAVx5 (DAVx⁵, from F-Droid or Google Play), tap "+",
  choose "Login with URL and user name", and type:
`)
	if len(dav) == 2 && dav[0].URL == dav[1].URL && dav[0].Username == dav[1].Username {
		fmt.Fprintf(b, "    Base URL:   %s\n    User name:  %s\n", commentSafe(dav[0].URL), commentSafe(dav[0].Username))
	} else {
		for i, s := range dav {
			if i > 0 {
				b.WriteString("  and add a second account in DAVx5 for the other one:\n")
			}
			fmt.Fprintf(b, "    %s\n    Base URL:   %s\n    User name:  %s\n", s.Role(), commentSafe(s.URL), commentSafe(s.Username))
		}
	}
	b.WriteString(`  and your e-mail password. DAVx5 then offers the calendars and address
  books it finds; the phone's Calendar and Contacts apps show them.

`)
}
