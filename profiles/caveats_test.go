package profiles

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/mailsetup/mailsetup/autoconfig"
)

func TestCaveats(t *testing.T) {
	kinds := func(tc testCase) map[string]CaveatKind {
		acct := tc.account(t)
		got := map[string]CaveatKind{}
		for _, c := range Caveats(acct, tc.render(t)) {
			got[c.Path] = c.Kind
			if c.Remedy == "" {
				t.Errorf("%s: caveat %s without a remedy", tc.name, c.Kind)
			}
		}
		return got
	}
	for _, tc := range testCases {
		got := kinds(tc)
		switch tc.name {
		case "starttls-only":
			if got["outlook/outlook.prf"] != CaveatOutlookSTARTTLS || got["apple/"+AppleFileName(tc.account(t).Address)] != CaveatAppleSTARTTLS {
				t.Errorf("%s: caveats %v, want the .prf and the Apple STARTTLS ones", tc.name, got)
			}
		case "imap-pop3-as-pop3", "pop3-only":
			if got["outlook/autodiscover.xml"] != CaveatPOP3RemoveAfter || got["android/README.txt"] != CaveatPOP3RemoveAfter {
				t.Errorf("%s: caveats %v, want the POP3 ones", tc.name, got)
			}
		case "idn":
			if len(got) != 1 || got["thunderbird/isp/"+ThunderbirdISPFileName(tc.account(t).Address.Domain)] != CaveatTypeALabel {
				t.Errorf("%s: caveats %v, want the xn-- one", tc.name, got)
			}
		case "imap-pop3":
			if len(got) != 0 {
				t.Errorf("%s: caveats %v, want none", tc.name, got)
			}
		}
	}
}

// decodeText returns a file's text, UTF-16 files (the Windows ones) decoded.
func decodeText(data []byte) string {
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
		u := make([]uint16, 0, len(data)/2)
		for i := 2; i+1 < len(data); i += 2 {
			u = append(u, uint16(data[i])|uint16(data[i+1])<<8)
		}
		return string(utf16.Decode(u))
	}
	return string(data)
}

// Every file with room for words says that unproven settings are unproven;
// the QR code (a fixed JSON format) and its PNG have none.
func TestUnprovenFilesSaySo(t *testing.T) {
	for _, tc := range testCases[:3] {
		files, err := Render(tc.account(t), AllFormats, Options{Unproven: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			says := strings.Contains(decodeText(f.Data), "NOT proven")
			wantSays := !strings.HasPrefix(f.Path, "android/thunderbird-qr")
			if says != wantSays {
				t.Errorf("%s: %s says unproven: %v, want %v", tc.name, f.Path, says, wantSays)
			}
		}
		proven, _ := Render(tc.account(t), AllFormats, Options{})
		for _, f := range proven {
			if strings.Contains(decodeText(f.Data), "NOT proven") {
				t.Errorf("%s: %s says unproven for proven settings", tc.name, f.Path)
			}
		}
	}
}

// A display name too long for a readable QR code costs the Android files
// only; an address beyond Latin-1 costs the Android files and user.js, and
// Thunderbird still gets its isp/ file.
func TestRenderAvailableLeavesOutOnlyWhatCannotBe(t *testing.T) {
	check := func(name, address, display string, wantOmitted map[string]bool) {
		t.Helper()
		addr, err := autoconfig.ParseAddress(address)
		if err != nil {
			t.Fatal(err)
		}
		acct, err := NewAccount(loadProvider(t, "imap-pop3.xml"), addr, display, "")
		if err != nil {
			t.Fatal(err)
		}
		files, omitted, err := RenderAvailable(acct, AllFormats, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := map[string]bool{}
		for _, o := range omitted {
			if !errors.Is(o.Err, ErrUnsupported) {
				t.Errorf("%s: omitted %s/%s for %v", name, o.Format, o.Path, o.Err)
			}
			got[string(o.Format)+":"+o.Path] = true
		}
		if len(got) != len(wantOmitted) {
			t.Errorf("%s: omitted %v, want %v", name, got, wantOmitted)
		}
		for k := range wantOmitted {
			if !got[k] {
				t.Errorf("%s: omitted %v, want %v", name, got, wantOmitted)
			}
		}
		paths := map[string]bool{}
		for _, f := range files {
			paths[f.Path] = true
		}
		for _, p := range []string{"thunderbird/isp/" + ThunderbirdISPFileName(addr.Domain), "outlook/outlook.prf", "sheet/setup.html"} {
			if !paths[p] {
				t.Errorf("%s: %s was not written", name, p)
			}
		}
	}
	check("long name", "jane.doe@example.test", strings.Repeat("Jane Doe ", 200), map[string]bool{"android:": true})
	check("Greek address", "δοκιμή@example.test", "Dokimi", map[string]bool{"android:": true, "thunderbird:thunderbird/user.js": true})
}
