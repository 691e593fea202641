package profiles_test

import (
	"fmt"
	"os"

	"github.com/mailsetup/mailsetup/autoconfig"
	"github.com/mailsetup/mailsetup/profiles"
)

// A provider's settings and one person make an Account; every writer takes
// it. Here the Thunderbird-for-Android QR payload, as the HTTP server's
// Android page and `mailsetup profile --format android` both render it.
func ExampleAndroidQRPayload() {
	provider := &autoconfig.Provider{
		ID:      "example.test",
		Domains: []string{"example.test"},
		Incoming: []autoconfig.Server{{Protocol: autoconfig.IMAP, Hostname: "imap.example.test", Port: 993,
			Security: autoconfig.SecurityTLS, Auth: []autoconfig.AuthMethod{autoconfig.AuthPasswordCleartext},
			Username: autoconfig.PlaceholderAddress}},
		Outgoing: []autoconfig.Server{{Protocol: autoconfig.SMTP, Hostname: "smtp.example.test", Port: 465,
			Security: autoconfig.SecurityTLS, Auth: []autoconfig.AuthMethod{autoconfig.AuthPasswordCleartext},
			Username: autoconfig.PlaceholderAddress}},
	}
	addr, _ := autoconfig.ParseAddress("jane@example.test")
	acct, err := profiles.NewAccount(provider, addr, "Jane Doe", "")
	if err != nil {
		fmt.Println(err)
		return
	}
	payload, _ := profiles.AndroidQRPayload(acct)
	fmt.Println(string(payload))
	// The same account as a setup sheet, to stdout.
	profiles.SheetText(os.Stdout, acct)
	// Output:
	// [1,[1,1],[0,"imap.example.test",993,3,1,"jane@example.test"],[[[0,"smtp.example.test",465,3,1,"jane@example.test"],["jane@example.test","Jane Doe"]]]]
	// E-mail settings for jane@example.test (example.test)
	//
	// E-mail address:  jane@example.test
	// Your name:       Jane Doe
	//
	// Incoming mail (IMAP)
	//   Server:    imap.example.test
	//   Port:      993
	//   Security:  SSL/TLS
	//   Username:  jane@example.test
	//   Password:  type your e-mail password (it is not on this sheet)
	//
	// Outgoing mail (SMTP)
	//   Server:    smtp.example.test
	//   Port:      465
	//   Security:  SSL/TLS
	//   Username:  jane@example.test
	//   Password:  type your e-mail password (it is not on this sheet)
	//
	// Why IMAP: IMAP keeps your mail on the server, so your phone, tablet and computer all show the same mailbox, and losing a device loses no mail. POP3 downloads the mail to one device and, by default, deletes it from the server.
	// If only POP3 works, switch on "Leave a copy of messages on the server" and switch off "Remove from server after ... days", so the mail stays there for your other devices.
}
