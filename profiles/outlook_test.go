package profiles

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf16"
)

func decodeUTF16LE(t *testing.T, b []byte) string {
	t.Helper()
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xFE || len(b)%2 != 0 {
		t.Fatalf("not UTF-16LE with a byte order mark: % x", b[:min(4, len(b))])
	}
	u := make([]uint16, 0, len(b)/2-1)
	for i := 2; i < len(b); i += 2 {
		u = append(u, uint16(b[i])|uint16(b[i+1])<<8)
	}
	return string(utf16.Decode(u))
}

func TestOutlookReg(t *testing.T) {
	tc := testCases[4] // IDN: both forms of the domain get a value
	acct := tc.account(t)
	var b bytes.Buffer
	if err := OutlookReg(&b, acct, `C:\Users\anna\Mail "x"\autodiscover.xml`); err == nil {
		t.Error("a path with a quote was accepted")
	}
	b.Reset()
	if err := OutlookReg(&b, acct, `C:\Users\anna\Documents\autodiscover.xml`); err != nil {
		t.Fatal(err)
	}
	reg := decodeUTF16LE(t, b.Bytes())
	for _, want := range []string{
		"Windows Registry Editor Version 5.00\r\n",
		`[HKEY_CURRENT_USER\Software\Microsoft\Office\16.0\Outlook\AutoDiscover]`,
		`"PreferLocalXML"=dword:00000001`,
		`"ExcludeExplicitO365Endpoint"=dword:00000001`,
		`"xn--bcher-kva.test"="C:\\Users\\anna\\Documents\\autodiscover.xml"`,
		`"bücher.test"="C:\\Users\\anna\\Documents\\autodiscover.xml"`,
		`[HKEY_CURRENT_USER\Software\Microsoft\Office\16.0\Outlook\Setup]`,
		`"DisableOffice365SimplifiedAccountCreation"=dword:00000001`,
	} {
		if !strings.Contains(reg, want) {
			t.Errorf(".reg lacks %q:\n%s", want, reg)
		}
	}
	if strings.Contains(reg, "REPLACE") {
		t.Error("a given path still leaves the placeholder")
	}
	if strings.Contains(strings.ReplaceAll(reg, "\r\n", ""), "\n") {
		t.Error("a line ends without CR")
	}
	// Without a path: the placeholder, and a comment saying to edit it.
	reg = decodeUTF16LE(t, fileData(t, tc.render(t), "outlook/autodiscover.reg"))
	if !strings.Contains(reg, "EDIT FIRST") || !strings.Contains(reg, `C:\\REPLACE-WITH-THE-FOLDER-OF\\autodiscover.xml`) {
		t.Errorf("placeholder missing:\n%s", reg)
	}
	for _, bad := range []string{`relative\path.xml`, `/unix/path.xml`, "C:\\a\nb"} {
		if err := CheckAutodiscoverPath(bad); err == nil {
			t.Errorf("%q accepted as a Windows path", bad)
		}
	}
	if err := CheckAutodiscoverPath(`\\server\share\autodiscover.xml`); err != nil {
		t.Errorf("UNC path: %v", err)
	}
}

// prfSections returns the [section] names in order.
func prfSections(text string) []string {
	var s []string
	for _, l := range strings.Split(text, "\r\n") {
		if strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]") {
			s = append(s, l[1:len(l)-1])
		}
	}
	return s
}

func TestOutlookPRF(t *testing.T) {
	for _, tc := range subjects(t) {
		acct := tc.acct
		data := tc.file(t, "outlook/outlook.prf")
		text := string(data)
		if !isASCII(text) {
			text = decodeUTF16LE(t, data)
		}
		secs := strings.Join(prfSections(text), "|")
		if !strings.HasPrefix(secs, "General|Service List|Internet Account List|ServiceX|Account1|Microsoft Exchange Server|") ||
			!strings.HasSuffix(secs, "|I_Mail|IMAP_I_Mail") {
			t.Errorf("%s: sections %s", tc.name, secs)
		}
		for n := 1; n <= 7; n++ {
			if !strings.Contains(text, "; Section "+string(rune('0'+n))+" - ") {
				t.Errorf("%s: section %d missing", tc.name, n)
			}
		}
		in, out := acct.In(), acct.Out()
		pfx, kind := "IMAP", "IMAP_I_Mail"
		if in.Protocol == "pop3" {
			pfx, kind = "POP3", "I_Mail"
		}
		for _, want := range []string{
			"Account1=" + kind,
			pfx + "Server=" + in.Hostname,
			pfx + "UserName=" + in.Username,
			pfx + "UseSPA=0",
			"SMTPServer=" + out.Hostname,
			"SMTPUseSPA=0",
			"DisplayName=" + tc.display,
			"EmailAddress=" + acct.Address.ASCII(),
		} {
			if !strings.Contains(text, "\r\n"+want+"\r\n") {
				t.Errorf("%s: .prf lacks %q", tc.name, want)
			}
		}
		if pfx == "POP3" && !strings.Contains(text, "\r\nLeaveOnServer=0x1\r\n") {
			t.Errorf("%s: POP3 without LeaveOnServer", tc.name)
		}
	}
}
